"""Ingestion of raw register extracts into a harmonised DuckDB store, and read access.

``ingest(raw_dir, store_path)`` validates and harmonises an extract folder (the shapes
of :mod:`o4o_causal.registers.formats`) into a DuckDB file; ``open_store(path)`` opens
a store (or an extract folder, ingesting it when the store is missing or stale) as a
:class:`RegisterStore` with ``persons()``, ``municipalities()``, ``panel()``,
``cohort(name)`` and ``sql(query)``.

Heavy modules (duckdb, pandas, pandera) load on first use of these names, so importing
:mod:`o4o_causal.registers.formats` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from o4o_causal._lazy import lazy_getattr

if TYPE_CHECKING:
    from o4o_causal.registers.ingestion import ingest
    from o4o_causal.registers.store import RegisterStore, open_store

_LAZY = {
    "ingest": "o4o_causal.registers.ingestion",
    "open_store": "o4o_causal.registers.store",
    "RegisterStore": "o4o_causal.registers.store",
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = ["RegisterStore", "ingest", "open_store"]

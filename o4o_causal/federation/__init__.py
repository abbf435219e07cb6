"""Cross-country comparison that never pools microdata across borders.

Each country runs :func:`build_bundle` inside its own secure environment: only that
country's rows are read, and only disclosure-checked aggregates are written (CSV tables
an output checker can review, a suppression log, and a manifest with checksums,
versions, the analysis spec and the disclosure report). A pooling run anywhere then
calls :func:`pool_bundles`, which validates every bundle (schema, versions, checksums,
duplicate countries, identical specs) and fits the cross-country models: hierarchical
pooling of the country ATEs and the multilevel binomial model on the union of the
countries' cells. On the synthetic world, :func:`compare_with_pooled` shows that the
federated estimates equal the pooled-microdata ones within Monte Carlo error, and what
disclosure control changes.

* :class:`BundleSpec` -- the analysis every country runs (identical specs pool).
* :func:`build_bundle` -> bundle folder; :func:`read_bundle` -> :class:`Bundle`;
  :func:`bundle_digest` -- the one digest to record when a bundle is released (the
  checksums inside a bundle are not signatures: see :mod:`~o4o_causal.federation.validate`).
* :func:`pool_bundles` -> :class:`CrossCountryResult`.
* :func:`compare_with_pooled` -- federated vs pooled microdata (synthetic validation).
* :func:`expand_cells`, :func:`protected_cells`, :func:`exact_cells` -- the cells.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from o4o_causal._lazy import lazy_getattr

if TYPE_CHECKING:
    from o4o_causal.federation.bundle import build_bundle
    from o4o_causal.federation.cells import exact_cells, expand_cells, protected_cells
    from o4o_causal.federation.compare import compare_with_pooled
    from o4o_causal.federation.pool import CrossCountryResult, pool_bundles
    from o4o_causal.federation.spec import SCHEMA_VERSION, BundleSpec
    from o4o_causal.federation.validate import Bundle, bundle_digest, read_bundle

_LAZY = {
    "build_bundle": "o4o_causal.federation.bundle",
    "exact_cells": "o4o_causal.federation.cells",
    "expand_cells": "o4o_causal.federation.cells",
    "protected_cells": "o4o_causal.federation.cells",
    "compare_with_pooled": "o4o_causal.federation.compare",
    "CrossCountryResult": "o4o_causal.federation.pool",
    "pool_bundles": "o4o_causal.federation.pool",
    "SCHEMA_VERSION": "o4o_causal.federation.spec",
    "BundleSpec": "o4o_causal.federation.spec",
    "Bundle": "o4o_causal.federation.validate",
    "read_bundle": "o4o_causal.federation.validate",
    "bundle_digest": "o4o_causal.federation.validate",
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = [
    "SCHEMA_VERSION",
    "Bundle",
    "BundleSpec",
    "CrossCountryResult",
    "build_bundle",
    "bundle_digest",
    "compare_with_pooled",
    "exact_cells",
    "expand_cells",
    "pool_bundles",
    "protected_cells",
    "read_bundle",
]

"""Reproduction runs: execute notebooks, export offline HTML, record a manifest.

Public entry points: :func:`run` (CLI ``o4o run``), :func:`export_html` (CLI
``o4o export``) and :func:`record`, which notebooks call to store key results.
Names are imported on first access, so that ``python -m o4o_causal.repro.kernel``
can pin thread pools before numpy is loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from o4o_causal._lazy import lazy_getattr

if TYPE_CHECKING:
    from o4o_causal.repro.export import export_html
    from o4o_causal.repro.recording import record, recorded
    from o4o_causal.repro.runner import NotebookRun, RunResult, run, timing_table

_LAZY = {
    "export_html": "o4o_causal.repro.export",
    "record": "o4o_causal.repro.recording",
    "recorded": "o4o_causal.repro.recording",
    "NotebookRun": "o4o_causal.repro.runner",
    "RunResult": "o4o_causal.repro.runner",
    "run": "o4o_causal.repro.runner",
    "timing_table": "o4o_causal.repro.runner",
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = ["NotebookRun", "RunResult", "export_html", "record", "recorded", "run", "timing_table"]

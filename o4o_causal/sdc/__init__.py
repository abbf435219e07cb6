"""Statistical disclosure control of everything that leaves a run.

Register microdata never leaves a national secure environment; what leaves is checked.

* :class:`Finding` -- one risk found (rule, location, message, severity), shared by all checks.
* Tables (:mod:`o4o_causal.sdc.tables`): :func:`check_table` -> :class:`TableCheck`
  (threshold, dominance, zeros; primary and secondary suppression, small-count
  rounding), :func:`suppress`, :func:`round_counts`, :func:`dominance`, :func:`check_model`.
* Safe descriptives (:mod:`o4o_causal.sdc.descriptives`): :func:`safe_describe`,
  :func:`safe_percentiles`, :func:`histogram_table`, :func:`binned_counts` -- no
  minima/maxima, percentiles only with enough persons around them, bins above threshold.
* Figures (:mod:`o4o_causal.sdc.figures`): figures drawn by the suite's plotting
  functions carry a *safe* mark that survives into the executed notebook.
* Notebooks (:mod:`o4o_causal.sdc.notebooks`): :func:`scan_notebook` finds what would
  leak in an HTML export; ``o4o check RUN_DIR`` runs it on a whole run.

The threshold is configurable per data owner (``config.DISCLOSURE``: default 5, presets 3 and 10).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from o4o_causal._lazy import lazy_getattr
from o4o_causal.sdc.findings import RULES, Finding, blocking, findings_frame

if TYPE_CHECKING:
    from o4o_causal.sdc.descriptives import binned_counts, histogram_table, safe_describe, safe_percentiles
    from o4o_causal.sdc.figures import is_safe_figure, mark_safe, safe_figure
    from o4o_causal.sdc.notebooks import scan_notebook, scan_run
    from o4o_causal.sdc.tables import TableCheck, check_model, check_table, dominance, round_counts, suppress

_LAZY = {
    "binned_counts": "o4o_causal.sdc.descriptives",
    "histogram_table": "o4o_causal.sdc.descriptives",
    "safe_describe": "o4o_causal.sdc.descriptives",
    "safe_percentiles": "o4o_causal.sdc.descriptives",
    "is_safe_figure": "o4o_causal.sdc.figures",
    "mark_safe": "o4o_causal.sdc.figures",
    "safe_figure": "o4o_causal.sdc.figures",
    "scan_notebook": "o4o_causal.sdc.notebooks",
    "scan_run": "o4o_causal.sdc.notebooks",
    "TableCheck": "o4o_causal.sdc.tables",
    "check_model": "o4o_causal.sdc.tables",
    "check_table": "o4o_causal.sdc.tables",
    "dominance": "o4o_causal.sdc.tables",
    "round_counts": "o4o_causal.sdc.tables",
    "suppress": "o4o_causal.sdc.tables",
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = [
    "RULES",
    "Finding",
    "TableCheck",
    "binned_counts",
    "blocking",
    "check_model",
    "check_table",
    "dominance",
    "findings_frame",
    "histogram_table",
    "is_safe_figure",
    "mark_safe",
    "round_counts",
    "safe_describe",
    "safe_figure",
    "safe_percentiles",
    "scan_notebook",
    "scan_run",
    "suppress",
]

"""Qualitative Comparative Analysis (crisp- and fuzzy-set QCA), as in R's QCA/SetMethods.

* :func:`calibrate` -- raw values -> set memberships (Ragin's direct method; crisp sets).
* :func:`truth_table` -> :class:`TruthTable` -- rows, n, consistency, PRI, coverage, OUT,
  contradictions; optional case labels per row (case-level units only).
* :func:`necessity` -> :class:`Necessity` -- consistency, coverage, relevance of necessity.
* :func:`minimize` -> :class:`Solution` (of :class:`Model`) -- complex, parsimonious and
  intermediate solutions by exact Quine-McCluskey minimisation with all minimal models
  (intermediate: as R's QCA, per complex x parsimonious model pair).
* :func:`robustness` -> :class:`Robustness` -- solutions across calibration anchors and
  cut-offs, core-term survival, robustness fit parameters.

Plots: :mod:`o4o_causal.plotting.qca` (XY plot, truth-table view).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from o4o_causal._lazy import lazy_getattr

if TYPE_CHECKING:
    from o4o_causal.qca.calibration import calibrate
    from o4o_causal.qca.minimisation import minimize
    from o4o_causal.qca.necessary import Necessity, necessity
    from o4o_causal.qca.robust import Robustness, robustness
    from o4o_causal.qca.solution import Model, Solution
    from o4o_causal.qca.truthtable import TruthTable, truth_table

_LAZY = {
    "calibrate": "o4o_causal.qca.calibration",
    "minimize": "o4o_causal.qca.minimisation",
    "Necessity": "o4o_causal.qca.necessary",
    "necessity": "o4o_causal.qca.necessary",
    "Robustness": "o4o_causal.qca.robust",
    "robustness": "o4o_causal.qca.robust",
    "Model": "o4o_causal.qca.solution",
    "Solution": "o4o_causal.qca.solution",
    "TruthTable": "o4o_causal.qca.truthtable",
    "truth_table": "o4o_causal.qca.truthtable",
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = [
    "Model",
    "Necessity",
    "Robustness",
    "Solution",
    "TruthTable",
    "calibrate",
    "minimize",
    "necessity",
    "robustness",
    "truth_table",
]

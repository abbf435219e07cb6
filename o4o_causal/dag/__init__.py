"""DAG-specified causal models: identification, estimation, refutation, sensitivity.

* :class:`CausalDAG` -- DAG from a DOT file; validation against data, identification
  (DoWhy), testable implications, drawing (:func:`o4o_causal.plotting.draw_dag`).
* :func:`estimate_effect` -- ATE by regression, IPW, matching or DML from the DAG's
  adjustment set, cluster-robust inference, municipality fixed effects.
* :func:`overlap_diagnostics` -- propensity overlap, extreme weights, effective sample size.
* :func:`refute` -- placebo, random common cause, subset, bootstrap, sensitivity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from o4o_causal._lazy import lazy_getattr

if TYPE_CHECKING:
    from o4o_causal.dag.estimate import DagEstimate, EffectSpec, estimate_effect, estimate_with_spec
    from o4o_causal.dag.graph import CausalDAG, Identification
    from o4o_causal.dag.overlap import overlap_diagnostics
    from o4o_causal.dag.refutation import refute
    from o4o_causal.dag.sensitivity import sensitivity_analysis

_LAZY = {
    "CausalDAG": "o4o_causal.dag.graph",
    "Identification": "o4o_causal.dag.graph",
    "DagEstimate": "o4o_causal.dag.estimate",
    "EffectSpec": "o4o_causal.dag.estimate",
    "estimate_effect": "o4o_causal.dag.estimate",
    "estimate_with_spec": "o4o_causal.dag.estimate",
    "overlap_diagnostics": "o4o_causal.dag.overlap",
    "refute": "o4o_causal.dag.refutation",
    "sensitivity_analysis": "o4o_causal.dag.sensitivity",
}


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "CausalDAG",
    "DagEstimate",
    "EffectSpec",
    "Identification",
    "estimate_effect",
    "estimate_with_spec",
    "overlap_diagnostics",
    "refute",
    "sensitivity_analysis",
]

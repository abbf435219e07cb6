"""Classical estimators for reproducing published benchmarks, and the comparison table.

The DAG estimators (:func:`o4o_causal.dag.estimate_effect`) estimate the ATE with fixed
model forms. Published analyses use other forms and estimands; this package adds them
without duplicating the DAG machinery (propensity models come from
:func:`o4o_causal.dag.methods.propensity`):

* :func:`standardize` -- parametric g-formula (standardisation) with an OLS outcome model
  whose treatment interactions are chosen (none = the treatment coefficient, ``"all"`` =
  fully interacted), for the ATE or the ATT; robust or model-based SEs.
* :func:`ipw` -- Hajek inverse probability weighting for the ATE or the ATT, with the
  M-estimation SE (accounts for the propensity model) or the fixed-weights robust SE
  published analyses report (GEE / weighted least squares sandwich), optional trimming.
* :func:`match` -- nearest-neighbour propensity-score matching for the ATT (with
  replacement, optional caliper), Abadie & Imbens (2006) variance.
* :func:`benchmark_rows` / :func:`benchmark_table` -- published value, ours, difference,
  tolerance and pass/fail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from o4o_causal._lazy import lazy_getattr

if TYPE_CHECKING:
    from o4o_causal.benchmarks.gformula import standardize
    from o4o_causal.benchmarks.matching import match
    from o4o_causal.benchmarks.table import benchmark_rows, benchmark_table
    from o4o_causal.benchmarks.weighting import ipw

_LAZY = {
    "standardize": "o4o_causal.benchmarks.gformula",
    "ipw": "o4o_causal.benchmarks.weighting",
    "match": "o4o_causal.benchmarks.matching",
    "benchmark_rows": "o4o_causal.benchmarks.table",
    "benchmark_table": "o4o_causal.benchmarks.table",
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = ["benchmark_rows", "benchmark_table", "ipw", "match", "standardize"]

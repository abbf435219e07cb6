"""Bayesian models of the suite (PyMC sampled with nutpie, ArviZ 1).

* :func:`fit_multilevel` -- varying intercepts and treatment effects by municipality
  within country (countries as fixed effects), cross-level interactions, sufficient
  statistics (binomial/normal cells) chosen automatically when person-level covariates
  are discrete, a convergence gate; :class:`MultilevelResult` gives effects on the
  probability scale; :func:`compare` ranks candidate models by PSIS-LOO.
* :func:`pool_estimates` -- Bayesian random-effects meta-analysis of per-group
  (e.g. per-country) estimates and standard errors (:class:`PooledResult`, :class:`PoolingPrior`).
* :func:`diagnostics_table`, :func:`check_diagnostics` -- convergence diagnostics and
  the convergence gate shared by every Bayesian model.

PyMC, nutpie and ArviZ are imported on first use, not when the package is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from o4o_causal._lazy import lazy_getattr

if TYPE_CHECKING:
    from o4o_causal.bayes.diagnostics import check_diagnostics, diagnostics_table
    from o4o_causal.bayes.fit import fit_multilevel
    from o4o_causal.bayes.loo import LooResult, compare
    from o4o_causal.bayes.model import Priors
    from o4o_causal.bayes.pooling import PooledResult, PoolingPrior, pool_estimates
    from o4o_causal.bayes.result import MultilevelResult

_LAZY = {
    "fit_multilevel": "o4o_causal.bayes.fit",
    "MultilevelResult": "o4o_causal.bayes.result",
    "compare": "o4o_causal.bayes.loo",
    "LooResult": "o4o_causal.bayes.loo",
    "Priors": "o4o_causal.bayes.model",
    "pool_estimates": "o4o_causal.bayes.pooling",
    "PooledResult": "o4o_causal.bayes.pooling",
    "PoolingPrior": "o4o_causal.bayes.pooling",
    "diagnostics_table": "o4o_causal.bayes.diagnostics",
    "check_diagnostics": "o4o_causal.bayes.diagnostics",
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = [
    "LooResult",
    "MultilevelResult",
    "PooledResult",
    "PoolingPrior",
    "Priors",
    "check_diagnostics",
    "compare",
    "diagnostics_table",
    "fit_multilevel",
    "pool_estimates",
]

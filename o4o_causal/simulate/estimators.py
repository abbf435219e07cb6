"""Named estimators of a simulation study, with settings fast enough for many replications.

Every estimator is a function ``f(data, *, seed, ci_level) -> Fit`` on the columns of
:mod:`o4o_causal.simulate.design` (``employed``, ``treated``, ``municipality``,
``x1..x4``, ``resources``, ``config``). The registry :data:`ESTIMATORS` holds:

===================  ===========================================================================
``naive``            difference in means, Neyman SE (:func:`o4o_causal.baselines.difference_in_means`)
``regression``       OLS g-computation with treatment x covariate interactions, HC1 SE
                     (:func:`o4o_causal.dag.methods.regression`, unclustered)
``ipw``              Hajek IPW, logistic propensity, M-estimation SE (:func:`o4o_causal.dag.methods.ipw`)
``dml``              AIPW double ML ignoring municipalities: random folds, i.i.d. SE
``dml_clustered``    the same with whole-municipality folds, Mundlak cluster means and
                     cluster-robust SE (the ATE of :func:`o4o_causal.dml.estimate_cate`)
``bayes_multilevel`` :func:`o4o_causal.bayes.fit_multilevel` (2 chains x 500 draws), AME and
                     municipality-effect intervals
===================  ===========================================================================

The DML estimators run the cross-fitting and doubly robust scores of
:func:`~o4o_causal.dml.estimate_cate` without its causal forest (which the ATE does not
use); a test checks that the numbers equal ``estimate_cate(...).ate()``. Nuisance
models are LightGBM with 60 trees of 7 leaves (:data:`FAST_LGBM`; the world's
functions are simple).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from o4o_causal.dml.learners import LGBM_PARAMS
from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.results import Estimate
from o4o_causal.simulate.design import CLUSTER, COVARIATES, MODIFIERS, OUTCOME, PERSON_COVARIATES, TREATMENT

#: LightGBM settings of the simulation DML nuisance models (seeded per fit; one thread).
FAST_LGBM: dict[str, Any] = {
    **LGBM_PARAMS,  # the default learner's settings, smaller and single-threaded for many replications
    "n_estimators": 60,
    "learning_rate": 0.15,
    "num_leaves": 7,
    "min_child_samples": 20,
    "n_jobs": 1,
}
#: Cross-fitting folds of the DML estimators.
DML_FOLDS = 5
#: Sampler settings of the Bayesian estimator.
BAYES_SAMPLER: dict[str, int] = {"draws": 500, "tune": 500, "chains": 2}


@dataclass(frozen=True)
class Fit:
    """What an estimator returns for one data set.

    Attributes
    ----------
    estimate, se, ci_low, ci_high
        ATE estimate, standard error (posterior SD) and interval.
    groups
        Optional municipality effects: columns ``municipality, ci_low, ci_high`` (the
        runner scores their coverage of the true municipality effects).
    diagnostics
        Extra numbers recorded per replication (e.g. ``max_rhat``).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    groups: pd.DataFrame | None = None
    diagnostics: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_estimate(cls, est: Estimate, **kwargs: Any) -> Fit:
        """Build a :class:`Fit` from an :class:`~o4o_causal.results.Estimate`."""
        return cls(est.value, est.se, est.ci_low, est.ci_high, **kwargs)


class Estimator(Protocol):
    """Signature of a simulation estimator."""

    def __call__(self, data: pd.DataFrame, *, seed: int, ci_level: float) -> Fit:
        """Estimate the ATE on ``data`` (never modified)."""
        ...


def naive(data: pd.DataFrame, *, seed: int, ci_level: float) -> Fit:
    """Difference in means with the Neyman standard error (``seed`` unused)."""
    from o4o_causal.baselines import difference_in_means

    return Fit.from_estimate(difference_in_means(data, outcome=OUTCOME, treatment=TREATMENT, ci_level=ci_level))


def _spec(method: str, ci_level: float, seed: int) -> Any:
    from o4o_causal.dag.estimate import EffectSpec

    return EffectSpec(
        treatment=TREATMENT, outcome=OUTCOME, method=method, adjustment=COVARIATES, ci_level=ci_level, seed=seed
    )


def regression(data: pd.DataFrame, *, seed: int, ci_level: float) -> Fit:
    """Interacted OLS (g-computation), heteroskedasticity-robust SE plus covariate-mean term."""
    from o4o_causal.dag.methods import regression as _regression

    value, se, n = _regression(data, _spec("regression", ci_level, seed))
    return Fit.from_estimate(Estimate.from_normal(value, se, n=n, method="regression", ci_level=ci_level))


def ipw(data: pd.DataFrame, *, seed: int, ci_level: float) -> Fit:
    """Hajek IPW with a logistic propensity model; SE from the influence function."""
    from o4o_causal.dag.methods import ipw as _ipw

    value, se, n = _ipw(data, _spec("ipw", ci_level, seed))
    return Fit.from_estimate(Estimate.from_normal(value, se, n=n, method="ipw", ci_level=ci_level))


def dml_ate(data: pd.DataFrame, *, cluster: str | None, seed: int, ci_level: float, folds: int = DML_FOLDS) -> Estimate:
    """ATE of causal-forest DML without the forest: cross-fitted nuisances, AIPW scores.

    Equals ``estimate_cate(data, ..., learner=<FAST_LGBM mapping>, folds=folds,
    seed=seed).ate(clustered=cluster is not None)`` (the forest does not enter the ATE).

    Parameters
    ----------
    data
        Simulated data (not modified).
    cluster
        ``"municipality"``: whole-municipality folds, cluster means, cluster-robust SE;
        ``None``: random folds, i.i.d. SE.
    seed
        Seeds folds and nuisance models.
    ci_level
        Interval level.
    folds
        Cross-fitting folds.

    Returns
    -------
    Estimate
    """
    from o4o_causal._inference import if_se
    from o4o_causal.dml._prepare import prepare
    from o4o_causal.dml.nuisance import cross_fit, dr_scores

    prep = prepare(
        data,
        outcome=OUTCOME,
        treatment=TREATMENT,
        effect_modifiers=[*PERSON_COVARIATES, "config"],
        controls=["resources"],
        cluster=cluster,
        cluster_means=True,
        folds=folds,
        keep=None,
    )
    nuisance = cross_fit(prep, learner=fast_learner(), folds=folds, seed=seed, progress=False)
    psi = dr_scores(prep.y, prep.d, nuisance)
    value = float(psi.mean())
    se = if_se(psi - value, prep.clusters if cluster else None)
    method = "dml-clustered" if cluster else "dml"
    return Estimate.from_normal(value, se, n=int(prep.y.size), method=method, ci_level=ci_level)


def fast_learner() -> dict[str, Any]:
    """Return the ``learner`` mapping of the simulation DML (LightGBM, :data:`FAST_LGBM`)."""
    import lightgbm as lgb

    return {"outcome": lgb.LGBMRegressor(**FAST_LGBM), "propensity": lgb.LGBMClassifier(**FAST_LGBM)}


def dml(data: pd.DataFrame, *, seed: int, ci_level: float) -> Fit:
    """Double ML that ignores municipalities (random folds, i.i.d. SE)."""
    return Fit.from_estimate(dml_ate(data, cluster=None, seed=seed, ci_level=ci_level))


def dml_clustered(data: pd.DataFrame, *, seed: int, ci_level: float) -> Fit:
    """Double ML with whole-municipality folds, cluster means and cluster-robust SE."""
    return Fit.from_estimate(dml_ate(data, cluster=CLUSTER, seed=seed, ci_level=ci_level))


def bayes_multilevel(data: pd.DataFrame, *, seed: int, ci_level: float) -> Fit:
    """Bayesian multilevel logit (varying intercepts and effects by municipality), nutpie.

    Returns the average marginal effect and the municipality effects (equal-tailed
    intervals at ``ci_level``); convergence problems are recorded as diagnostics
    (``max_rhat``, ``min_ess_bulk``, ``divergences``), not raised.
    """
    import warnings

    from o4o_causal.bayes import fit_multilevel

    frame = data.assign(_country="all")  # one country: no country effects (a copy; data untouched)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the convergence gate warns; the numbers are recorded below
        fit = fit_multilevel(
            frame,
            outcome=OUTCOME,
            treatment=TREATMENT,
            covariates=list(COVARIATES),
            modifiers=list(MODIFIERS),
            levels=("_country", CLUSTER),
            seed=seed,
            on_failure="warn",
            ci_level=ci_level,
            draws=BAYES_SAMPLER["draws"],
            tune=BAYES_SAMPLER["tune"],
            chains=BAYES_SAMPLER["chains"],
        )
    groups = fit.group_effects("municipality", suppress=False)
    table = fit.diagnostics()
    diagnostics = {
        "max_rhat": float(table["rhat"].max()),
        "min_ess_bulk": float(table["ess_bulk"].min()),
        "divergences": float(table.attrs.get("divergences", np.nan)),
    }
    return Fit.from_estimate(
        fit.ame(),
        groups=groups.rename(columns={"group": CLUSTER})[[CLUSTER, "ci_low", "ci_high"]],
        diagnostics=diagnostics,
    )


#: The registry: name -> estimator.
ESTIMATORS: dict[str, Callable[..., Fit]] = {
    "naive": naive,
    "regression": regression,
    "ipw": ipw,
    "dml": dml,
    "dml_clustered": dml_clustered,
    "bayes_multilevel": bayes_multilevel,
}
#: Estimators run when none are named (the Bayesian one is slow: name it, or use ``"all"``).
DEFAULT = ("naive", "regression", "ipw", "dml", "dml_clustered")


def resolve(estimators: str | Sequence[str] | Mapping[str, Callable[..., Fit]] | None) -> dict[str, Callable[..., Fit]]:
    """Return an ordered name -> estimator mapping from names, ``"all"``, or a mapping.

    Parameters
    ----------
    estimators
        ``None`` (:data:`DEFAULT`), ``"all"``, a name, a sequence of names from
        :data:`ESTIMATORS`, or a mapping name -> callable (custom estimators).

    Returns
    -------
    dict

    Raises
    ------
    SpecificationError
        Unknown names, duplicates, an empty selection, or non-callables.
    """
    if estimators is None:
        return {k: ESTIMATORS[k] for k in DEFAULT}
    if isinstance(estimators, Mapping):
        bad = [str(k) for k, v in estimators.items() if not isinstance(k, str) or not callable(v)]
        if bad or not estimators:
            raise SpecificationError(
                format_error(
                    what="estimators",
                    expected="a non-empty mapping of name -> callable(data, *, seed, ci_level) -> Fit",
                    found=f"bad entries {bad}" if bad else "an empty mapping",
                    fix="map names to estimator functions",
                )
            )
        return dict(estimators)
    names = list(ESTIMATORS) if estimators == "all" else [estimators] if isinstance(estimators, str) else estimators
    names = list(names)
    unknown = [n for n in names if n not in ESTIMATORS]
    if unknown or not names or len(set(names)) != len(names):
        raise SpecificationError(
            format_error(
                what="estimators",
                expected=f"distinct names from {', '.join(ESTIMATORS)} (or 'all')",
                found=repr(estimators),
                fix="pick from the registry or pass a mapping name -> function",
            )
        )
    return {n: ESTIMATORS[n] for n in names}


__all__ = ["DEFAULT", "ESTIMATORS", "FAST_LGBM", "Estimator", "Fit", "dml_ate", "fast_learner", "resolve"]

"""``estimate_cate``: heterogeneous effects by causal-forest double machine learning."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from o4o_causal import config
from o4o_causal.dml import forest as _forest
from o4o_causal.dml import learners
from o4o_causal.dml._prepare import prepare
from o4o_causal.dml.nuisance import cross_fit, dr_scores
from o4o_causal.dml.result import CateResult
from o4o_causal.exceptions import SpecificationError, format_error


def estimate_cate(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    effect_modifiers: Sequence[str] | str,
    controls: Sequence[str] | str | None = None,
    cluster: str | None = None,
    learner: str | Mapping[str, Any] = "lightgbm",
    seed: int = 0,
    folds: int = 5,
    cluster_means: bool = True,
    keep: Sequence[str] | str | None = None,
    forest_options: Mapping[str, Any] | None = None,
    ci_level: float = config.CI_LEVEL,
    progress: bool = True,
) -> CateResult:
    """Estimate conditional average treatment effects of a binary treatment.

    Nuisance models (propensity; outcome in each arm) are cross-fitted with folds made of
    whole clusters; the causal forest (EconML's generalized random forest) is fitted on
    the residuals; averages and tests use doubly robust scores with cluster-robust
    standard errors.

    Parameters
    ----------
    data
        One row per person; not modified.
    outcome
        Outcome column (numeric; binary outcomes give effects on the probability scale).
    treatment
        Binary 0/1 treatment column.
    effect_modifiers
        Numeric columns the effect may vary with (``X``); they also enter the nuisance models.
    controls
        Further confounders (``W``), e.g. municipality covariates; text columns are dummy-coded.
    cluster
        Cluster column (municipality): whole clusters per fold, cluster-robust inference.
    learner
        ``"lightgbm"`` (default), ``"forest"``, ``"linear"`` or a mapping
        ``{"outcome": regressor, "propensity": classifier}``.
    seed
        Seeds folds, every nuisance model, the forest and the policy trees.
    folds
        Cross-fitting folds.
    cluster_means
        With ``cluster``: add cluster means of within-varying covariates to the controls.
    keep
        Extra columns kept in the result for :meth:`CateResult.gate` (e.g. ``"country"``).
    forest_options
        Overrides of :data:`o4o_causal.dml.forest.FOREST_DEFAULTS` (incl. ``max_rows``).
    ci_level
        Interval level.
    progress
        Show progress bars.

    Returns
    -------
    CateResult

    Raises
    ------
    DataError
        Missing columns or values, non-binary treatment, non-numeric effect modifiers,
        fewer clusters than folds.
    SpecificationError
        Unknown learner, bad ``folds`` or ``ci_level``.
    """
    learners.check(learner)
    if not isinstance(folds, int) or folds < 2:
        raise SpecificationError(
            format_error(what="folds", expected="an integer >= 2", found=repr(folds), fix="use folds=5")
        )
    if not 0 < ci_level < 1:
        raise SpecificationError(
            format_error(what="ci_level", expected="in (0, 1)", found=repr(ci_level), fix="use 0.95")
        )
    timings: dict[str, float] = {}
    start = time.perf_counter()
    prep = prepare(
        data,
        outcome=outcome,
        treatment=treatment,
        effect_modifiers=effect_modifiers,
        controls=controls,
        cluster=cluster,
        cluster_means=cluster_means,
        folds=folds,
        keep=keep,
    )
    timings["prepare"] = time.perf_counter() - start
    start = time.perf_counter()
    nuisance = cross_fit(prep, learner=learner, folds=folds, seed=seed, progress=progress)
    timings["nuisance"] = time.perf_counter() - start
    start = time.perf_counter()
    t_res = prep.d - nuisance.m
    y_res = prep.y - nuisance.l
    forest, forest_rows = _forest.fit(prep.x, t_res, y_res, seed=seed, options=forest_options)
    timings["forest"] = time.perf_counter() - start
    psi = dr_scores(prep.y, prep.d, nuisance)
    psi.flags.writeable = False
    return CateResult(
        outcome=outcome,
        treatment=treatment,
        effect_modifiers=prep.x_names,
        controls=prep.w_names,
        cluster=cluster,
        learner=learner if isinstance(learner, str) else "custom",
        folds=folds,
        seed=seed,
        ci_level=ci_level,
        y=prep.y,
        d=prep.d,
        x=prep.x,
        psi=psi,
        forest_options=dict(forest_options or {}),
        progress=progress,
        nuisance=nuisance,
        clusters=prep.clusters,
        kept=prep.kept,
        forest=forest,
        forest_rows=forest_rows,
        timings=timings,
    )

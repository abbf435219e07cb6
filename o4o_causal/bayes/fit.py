"""``fit_multilevel``: effects varying by municipality within country (PyMC + nutpie)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import pandas as pd

from o4o_causal import _validate
from o4o_causal.bayes.design import build
from o4o_causal.bayes.model import Priors, build_model
from o4o_causal.bayes.result import MultilevelResult
from o4o_causal.bayes.sampling import sample_nutpie

_log = logging.getLogger(__name__)

#: Parameters checked by the convergence gate (those present in the model).
GATED = (
    "alpha",
    "theta",
    "sigma_u",
    "sigma_v",
    "country_intercept",
    "country_effect",
    "beta",
    "delta",
    "sigma",
    "u",
    "v",
)


def fit_multilevel(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str] | str | None = None,
    modifiers: Sequence[str] | str | None = None,
    levels: tuple[str, str] = ("country", "municipality"),
    family: str = "auto",
    priors: Priors | None = None,
    sufficient_statistics: bool | str = "auto",
    varying_effects: bool = True,
    centred: bool = False,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    target_accept: float | None = None,
    seed: int = 0,
    on_failure: str = "raise",
    ci_level: float = 0.9,
    progress: bool = False,
) -> MultilevelResult:
    """Fit a two-level model with varying intercepts and treatment effects by municipality.

    Countries enter as fixed effects (three countries cannot inform a variance), on the
    intercept and on the treatment effect; municipalities within country get non-centred
    normal intercepts and treatment effects. ``modifiers`` interact with the treatment:
    person-level effect modifiers and municipality configuration conditions (the
    cross-level interactions). See :mod:`o4o_causal.bayes.design` for the predictor.

    Parameters
    ----------
    data
        One row per person; not modified.
    outcome
        Binary (logistic model) or continuous (normal model) outcome.
    treatment
        Binary 0/1 treatment.
    covariates
        Adjustment columns (person- or municipality-level; centred).
    modifiers
        Columns that modify the treatment effect (centred, so ``theta`` is the effect at their means).
    levels
        ``(country column, municipality column)``.
    family
        ``"auto"`` (0/1 outcome -> bernoulli, else normal), ``"bernoulli"`` or ``"normal"``.
    priors
        :class:`Priors` (printed by ``result.priors``).
    sufficient_statistics
        ``"auto"`` collapses persons into cells when every person-level column is discrete.
    varying_effects
        Municipality-varying treatment effects (``False``: a candidate model for LOO comparison).
    centred
        Centred parametrisation of the municipality effects: better when every municipality
        has many persons (the data dominate the prior); the default non-centred form suits
        many small municipalities. Intercepts and effects are independent (no correlation).
    draws, tune, chains, target_accept
        Sampler settings (defaults :data:`o4o_causal.config.SAMPLER`); the sampler is nutpie.
    seed
        Random seed of the sampler.
    on_failure
        ``"raise"`` a :class:`ConvergenceError` when diagnostics fail their thresholds
        (:data:`o4o_causal.config.DIAGNOSTICS`), or ``"warn"``.
    ci_level
        Level of the equal-tailed posterior intervals (default 0.9).
    progress
        Show the sampler's progress bar.

    Returns
    -------
    MultilevelResult
    """
    from o4o_causal.bayes.diagnostics import check_diagnostics, diagnostics_table

    _validate.on_failure(on_failure)
    _validate.ci_level(ci_level)
    prior = priors or Priors()
    timings: dict[str, float] = {}
    start = time.perf_counter()
    design = build(
        data,
        outcome=outcome,
        treatment=treatment,
        covariates=covariates,
        modifiers=modifiers,
        levels=levels,
        family=family,
        sufficient_statistics=sufficient_statistics,
    )
    _log.info(
        "%s: %d persons -> %d rows (%s)",
        outcome,
        design.n_persons,
        design.weight.size,
        "sufficient statistics: binomial/normal cells" if design.collapsed else "individual level",
    )
    model = build_model(design, prior, varying_effects=varying_effects, centred=centred)
    timings["build"] = time.perf_counter() - start
    start = time.perf_counter()
    idata = sample_nutpie(
        model, draws=draws, tune=tune, chains=chains, target_accept=target_accept, seed=seed, progress=progress
    )
    timings["sample"] = time.perf_counter() - start
    present = [v for v in GATED if v in idata["posterior"].data_vars]
    table = diagnostics_table(idata, present)
    check_diagnostics(table, on_failure=on_failure, what="multilevel model")
    return MultilevelResult(
        outcome=outcome,
        treatment=treatment,
        levels=tuple(levels),
        design=design,
        priors=prior,
        idata=idata,
        model=model,
        diagnostics_table=table,
        seed=seed,
        ci_level=ci_level,
        timings=timings,
    )

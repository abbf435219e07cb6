"""``deviance``: municipalities whose outcome rates are consistently above or below expectation.

The model (one country at a time; logistic, binomial cells of person-years)::

    logit P(neet_i,t) = alpha + a_c + b_c,t + x_i,t' beta + s_m' gamma + u_m + w_m,t
    u_m = sigma_u * e_m,   w_m,t = sigma_w * f_m,t,   e, f ~ Normal(0, 1)

``a_c`` country and ``b_c,t`` year effects (fixed; reference the first country and each
country's first year), ``x`` person risk factors (centred), ``s`` structural municipal
conditions (standardised over municipalities), ``u_m`` the **persistent municipality
deviance** and ``w_m,t`` the municipality-year deviations around it. A municipality is a
*positive deviant* when its NEET rate is lower than its risk factors and structure
predict (``u_m < 0``), consistently over years (``u_m + w_m,t < 0`` in every year).

Priors: ``alpha ~ Normal(logit(observed rate), 1.5)``; country, year, risk-factor and
structural coefficients ``Normal(0, 1)``; ``sigma_u ~ HalfNormal(1)``,
``sigma_w ~ HalfNormal(0.5)``.

Person-years of one person are treated as independent given the municipality terms (the
model has no person effects, which would prevent collapsing persons into cells): with
persistent individual heterogeneity the intervals of ``u_m`` are somewhat too narrow and
``u_m`` is attenuated towards 0 (the marginal logistic scale), which leaves rankings intact.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from o4o_causal import _validate
from o4o_causal.bayes.sampling import sample_nutpie
from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.municipal._design import RISK_FACTORS, STRUCTURAL, Cells, build_cells
from o4o_causal.municipal.result import DevianceResult, summarise

_log = logging.getLogger(__name__)

#: Parameters checked by the convergence gate (those present in the model).
GATED = ("alpha", "country_intercept", "year_effect", "beta", "gamma", "sigma_u", "sigma_w", "u", "w")


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


def build_model(cells: Cells) -> Any:
    """Return the PyMC model of :func:`deviance` for ``cells`` (non-centred ``u`` and ``w``)."""
    import pymc as pm

    slot_labels = [
        f"{cells.municipalities[m]}:{cells.years[t]}" for m, t in zip(cells.slot_muni, cells.slot_year, strict=True)
    ]
    coords = {
        "country_other": list(cells.countries[1:]),
        "country": list(cells.countries),
        "year_other": [str(y) for y in cells.years[1:]],
        "feature": list(cells.features),
        "structural": list(cells.structural),
        "municipality": list(cells.municipalities),
        "municipality_year": slot_labels,
    }
    rate = float(cells.events.sum() / cells.person_years.sum())
    n_countries, n_years = len(cells.countries), len(cells.years)
    slot_cy = cells.muni_country[cells.slot_muni] * n_years + cells.slot_year
    with pm.Model(coords=coords) as model:
        alpha = pm.Normal("alpha", _logit(rate), 1.5)
        b = pm.Normal("year_effect", 0.0, 1.0, dims=("country", "year_other"))
        cy = pm.math.concatenate([np.zeros((n_countries, 1)), b], axis=1)
        if n_countries > 1:
            a_c = pm.Normal("country_intercept", 0.0, 1.0, dims="country_other")
            cy = cy + pm.math.concatenate([np.zeros(1), a_c])[:, None]
        muni_eta: Any = np.zeros(len(cells.municipalities))
        if cells.s.shape[1]:
            gamma = pm.Normal("gamma", 0.0, 1.0, dims="structural")
            muni_eta = muni_eta + pm.math.dot(cells.s, gamma)
        sigma_u = pm.HalfNormal("sigma_u", 1.0)
        e_u = pm.Normal("u_raw", 0.0, 1.0, dims="municipality")
        u = pm.Deterministic("u", sigma_u * e_u, dims="municipality")
        sigma_w = pm.HalfNormal("sigma_w", 0.5)
        e_w = pm.Normal("w_raw", 0.0, 1.0, dims="municipality_year")
        w = pm.Deterministic("w", sigma_w * e_w, dims="municipality_year")
        # eta = slot term (municipality x year) + pattern term (risk factors), gathered to cells
        slot_eta = alpha + cy.flatten()[slot_cy] + (muni_eta + u)[cells.slot_muni] + w
        eta = slot_eta[cells.slot]
        if cells.xp.shape[1]:
            beta = pm.Normal("beta", 0.0, 1.0, dims="feature")
            eta = eta + pm.math.dot(cells.xp, beta)[cells.pattern]
        # binomial log-likelihood of the cells without its constant (binomial coefficients):
        # sum y * eta - n * log(1 + exp(eta)); 2-5 times faster to differentiate than pm.Binomial
        pm.Potential("binomial_cells", pm.math.sum(cells.y * eta - cells.n * pm.math.log1pexp(eta)))
    return model


def _check_options(on_failure: str, ci_level: float, tail: float) -> None:
    _validate.on_failure(on_failure)
    _validate.ci_level(ci_level)
    if not 0 < tail <= 0.5:
        raise SpecificationError(
            format_error(what="tail", expected="a share in (0, 0.5]", found=repr(tail), fix="use 0.1 (deciles)")
        )


def deviance(
    data: pd.DataFrame,
    *,
    outcome: str = "neet",
    risk_factors: Sequence[str] | str | None = RISK_FACTORS,
    structural: Sequence[str] | str | None = STRUCTURAL,
    municipality: str = "municipality_id",
    country: str = "country",
    year: str = "year",
    person: str | None = "person_id",
    municipalities: pd.DataFrame | None = None,
    bands: Mapping[str, Sequence[float]] | None = None,
    pool_countries: bool = False,
    tail: float = 0.1,
    seed: int = 0,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    target_accept: float | None = None,
    on_failure: str = "raise",
    ci_level: float = 0.9,
    progress: bool = False,
) -> DevianceResult:
    """Estimate every municipality's persistent deviance from the rate its risk factors predict.

    A multilevel logistic model of the outcome of every person-year (module docstring):
    country and year fixed effects, person risk factors, structural municipal conditions,
    a persistent municipality deviance ``u_m ~ Normal(0, sigma_u)`` and municipality-year
    deviations ``w_m,t ~ Normal(0, sigma_w)``, both non-centred, sampled with nutpie.
    Person-years are collapsed into binomial cells (municipality x year x risk-factor
    pattern; ``age`` in bands), so the cost grows with cells, not persons.

    Parameters
    ----------
    data
        One row per person-year (e.g. ``store.cohort("neet")`` of one country); not modified.
    outcome
        Binary 0/1 outcome (NEET status).
    risk_factors
        Person-level numeric columns (centred; banded columns become band indicators).
    structural
        Municipality-level conditions (constant within municipality), taken from ``data``
        or, when absent there, from ``municipalities``; standardised over municipalities.
    municipality, country, year
        Column names. Every municipality must lie in one country.
    person
        Person id column (to count persons); None counts person-years as persons.
    municipalities
        Municipality table (e.g. ``store.municipalities()``) for structural columns not in ``data``.
    bands
        Band edges of continuous risk factors: ``{column: (edge, ...)}``; a band starts at
        each edge (the lowest band, below the first edge, is the reference). Default
        :data:`~o4o_causal.municipal._design.AGE_BANDS` (16-19, 20-24, 25-29, 30+); ``{}``
        keeps every risk factor linear (cells then collapse poorly).
    pool_countries
        The federated design fits one country at a time, so several countries are refused;
        ``True`` fits them jointly (shared risk-factor and structural coefficients and
        variances, country and country-specific year effects; deviances still ranked
        within country).
    tail
        Share of municipalities in the top and bottom groups (0.1: deciles), within country.
    seed
        Random seed of the sampler.
    draws, tune, chains, target_accept
        Sampler settings (defaults :data:`o4o_causal.config.SAMPLER`).
    on_failure
        ``"raise"`` a :class:`~o4o_causal.exceptions.ConvergenceError` when the
        convergence gate (:func:`o4o_causal.bayes.check_diagnostics`) fails, or ``"warn"``.
    ci_level
        Level of the equal-tailed posterior intervals.
    progress
        Show the sampler's progress bar.

    Returns
    -------
    DevianceResult
        Aggregate tables (suppressed below :data:`o4o_causal.config.DISCLOSURE` ``.threshold``),
        posterior draws of the municipality parameters, ``select(k)``, diagnostics.

    Raises
    ------
    DataError
        Missing columns or values, a non-binary outcome, a municipality in several
        countries, fewer than 10 municipalities in a country or fewer than 2 years,
        structural columns varying within a municipality.
    SpecificationError
        Several countries without ``pool_countries=True``; bad options.
    ConvergenceError
        If the sampler fails the convergence gate and ``on_failure="raise"``.
    """
    from o4o_causal.bayes.diagnostics import check_diagnostics, diagnostics_table, group_dataset

    _check_options(on_failure, ci_level, tail)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    cells = build_cells(
        data,
        outcome=outcome,
        risk_factors=risk_factors,
        structural=structural,
        municipality=municipality,
        country=country,
        year=year,
        person=person,
        municipalities=municipalities,
        bands=bands,
        pool_countries=pool_countries,
    )
    _log.info("%s: %d person-years -> %d binomial cells", outcome, cells.n_person_years, cells.n.size)
    model = build_model(cells)
    timings["build"] = time.perf_counter() - start
    start = time.perf_counter()
    idata = sample_nutpie(
        model, draws=draws, tune=tune, chains=chains, target_accept=target_accept, seed=seed, progress=progress
    )
    timings["sample"] = time.perf_counter() - start
    posterior = group_dataset(idata, "posterior")
    assert posterior is not None
    present = [v for v in GATED if v in posterior.data_vars]
    table = diagnostics_table(idata, present)
    check_diagnostics(table, on_failure=on_failure, what="municipal deviance model")
    start = time.perf_counter()
    result = summarise(
        cells,
        posterior,
        outcome=outcome,
        diagnostics=table,
        seed=seed,
        ci_level=ci_level,
        tail=tail,
        timings=timings,
    )
    timings["summarise"] = time.perf_counter() - start
    return result


__all__ = ["GATED", "build_model", "deviance"]

"""Multilevel model: recovery of planted effects, sufficient statistics = individual level, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from o4o_causal.bayes import Priors, fit_multilevel
from o4o_causal.bayes.design import build
from o4o_causal.exceptions import ConvergenceError, DataError, O4OWarning, SpecificationError
from o4o_causal.synth.designs import multilevel_design

SAMPLER = {"draws": 400, "tune": 400, "chains": 2}


def simulate(
    seed: int = 0, n: int = 4000, per_country: int = 20, family: str = "bernoulli"
) -> tuple[pd.DataFrame, pd.Series]:
    """Persons drawn from the model class itself (see :func:`o4o_causal.synth.designs.multilevel_design`)."""
    return multilevel_design(n, per_country=per_country, family=family, seed=seed)


KW = {"outcome": "y", "treatment": "treated", "covariates": ["x1", "x2", "config"], "modifiers": ["config"]}


@pytest.fixture(scope="module")
def world():
    return simulate()


@pytest.fixture(scope="module")
def fits(world):
    data, _ = world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        cells = fit_multilevel(data, **KW, seed=1, on_failure="warn", **SAMPLER)
        persons = fit_multilevel(data, **KW, seed=2, sufficient_statistics=False, on_failure="warn", **SAMPLER)
    return cells, persons


def test_sufficient_statistics_chosen_automatically(fits) -> None:
    cells, persons = fits
    assert cells.design.collapsed and not persons.design.collapsed
    assert cells.design.weight.size < 0.2 * persons.design.weight.size
    assert cells.design.weight.sum() == persons.design.n_persons
    assert "sufficient statistics" in repr(cells) and "individual level" in repr(persons)


def test_cells_and_persons_give_the_same_posterior(fits) -> None:
    """Binomial cells and Bernoulli persons have the same likelihood: posteriors agree within MC error."""
    cells, persons = fits
    a, b = cells.summary().set_index("parameter"), persons.summary().set_index("parameter")
    for name in ("alpha", "theta", "sigma_u", "sigma_v", "delta[config]", "country_effect[SE]"):
        ess = min(a.loc[name, "ess_bulk"], b.loc[name, "ess_bulk"])
        mcse = np.hypot(a.loc[name, "sd"], b.loc[name, "sd"]) / np.sqrt(ess)
        assert abs(a.loc[name, "mean"] - b.loc[name, "mean"]) < 4 * mcse + 0.02 * a.loc[name, "sd"], name
        assert abs(a.loc[name, "sd"] / b.loc[name, "sd"] - 1) < 0.25, name
    assert abs(cells.ame().value - persons.ame().value) < 0.01


def test_planted_effects_are_recovered(fits, world) -> None:
    cells, _ = fits
    data, truth = world
    person_truth = truth.reindex(data["municipality"]).to_numpy()
    assert cells.ame().covers(float(np.mean(person_truth)))
    municipal = cells.group_effects("municipality").set_index("group")
    inside = (municipal["ci_low"] <= truth) & (truth <= municipal["ci_high"])
    assert 0.75 <= inside.mean() <= 1.0, inside.mean()  # 90% intervals
    true_country = pd.Series(person_truth).groupby(data["country"].to_numpy()).mean()
    draws = cells.effects.country  # draws x countries (DK, NO, SE)
    low, high = np.quantile(draws, [0.01, 0.99], axis=0)  # 98%: three checks at once
    for j, country in enumerate(cells.design.countries):
        assert low[j] <= true_country[country] <= high[j], country
    delta = cells.summary().set_index("parameter").loc["delta[config]"]
    assert delta["ci_low"] <= 0.5 <= delta["ci_high"]  # planted cross-level interaction
    contrasts = cells.country_contrasts().set_index("contrast")
    assert contrasts.loc["DK - SE", "mean"] > 0


def test_shrinkage_ppc_and_diagnostics(fits) -> None:
    cells, _ = fits
    shrink = cells.shrinkage()
    both = shrink.dropna(subset=["raw"])
    # pooled effects vary less than raw differences in means
    assert both["pooled"].std() < both["raw"].std()
    ppc = cells.ppc("country")
    assert len(ppc) == 6 and ppc["inside"].mean() >= 0.5
    diag = cells.diagnostics()
    assert {"parameter", "rhat", "ess_bulk", "ess_tail"} <= set(diag.columns)
    assert cells.priors.table()["prior"].str.contains("HalfNormal").any()


def test_normal_family_cells_equal_persons() -> None:
    data, _ = simulate(seed=5, n=1500, per_country=8, family="normal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        cells = fit_multilevel(data, **KW, seed=1, on_failure="warn", **SAMPLER)
        persons = fit_multilevel(data, **KW, seed=1, sufficient_statistics=False, on_failure="warn", **SAMPLER)
    assert cells.design.family == "normal" and cells.design.collapsed
    a, b = cells.summary().set_index("parameter"), persons.summary().set_index("parameter")
    for name in ("theta", "sigma", "alpha"):
        mcse = np.hypot(a.loc[name, "sd"], b.loc[name, "sd"]) / np.sqrt(
            min(a.loc[name, "ess_bulk"], b.loc[name, "ess_bulk"])
        )
        assert abs(a.loc[name, "mean"] - b.loc[name, "mean"]) < 4 * mcse + 0.02 * a.loc[name, "sd"], name
    assert abs(a.loc["sigma", "mean"] - 1.0) < 0.1


def test_convergence_gate_raises_with_parameter_names(world) -> None:
    data, _ = world
    small = data.head(600)
    with (
        pytest.raises(ConvergenceError, match=r"(alpha|theta|sigma_u|sigma_v|u\[[A-Z]{2}-\d+\]|v\[[A-Z]{2}-\d+\])"),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore", O4OWarning)
        fit_multilevel(small, **KW, seed=1, draws=15, tune=5, chains=2)


# ------------------------------------------------------------------ bad input (no sampling)


def _build(data: pd.DataFrame, **extra):
    kw = {**KW, "levels": ("country", "municipality"), "family": "auto", "sufficient_statistics": "auto", **extra}
    return build(data, **kw)


def test_missing_level_column(world) -> None:
    data, _ = world
    with pytest.raises(DataError, match="'municipality_id'"):
        _build(data, levels=("country", "municipality_id"))
    with pytest.raises(SpecificationError, match="levels"):
        _build(data, levels="country")


def test_non_binary_outcome_with_logistic_family(world) -> None:
    data, _ = world
    with pytest.raises(DataError, match="0/1 values for the logistic"):
        _build(data.assign(y=data["y"] * 3), family="bernoulli")
    assert _build(data.assign(y=data["y"] * 3.5)).family == "normal"


def test_municipality_in_two_countries(world) -> None:
    data, _ = world
    broken = data.copy()
    broken.loc[broken.index[0], "country"] = "NO" if broken["country"].iloc[0] != "NO" else "SE"
    with pytest.raises(DataError, match="several countries"):
        _build(broken)


def test_all_treated_municipality_warns_and_single_person_groups_are_kept(world) -> None:
    data, _ = world
    one_arm = data.copy()
    first = one_arm["municipality"] == one_arm["municipality"].iloc[0]
    one_arm.loc[first, "treated"] = 1
    with pytest.warns(O4OWarning, match="only one treatment arm"):
        _build(one_arm)
    single = pd.concat([data, data.head(1).assign(municipality="SE-999", country="SE")], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        design = _build(single)
    assert "SE-999" in design.municipalities  # one person: estimated by partial pooling


def test_continuous_person_covariate_switches_path(world) -> None:
    data, _ = world
    cont = data.assign(x2=np.random.default_rng(0).normal(size=len(data)))
    assert not _build(cont).collapsed
    with pytest.raises(SpecificationError, match="discretise"):
        _build(cont, sufficient_statistics=True)
    # a continuous municipality-level column keeps the cell path
    muni_level = data.assign(resources=pd.factorize(data["municipality"])[0] / 100.0)
    assert _build(muni_level, covariates=["x1", "x2", "resources"]).collapsed


def test_input_not_mutated_and_priors_printable(world) -> None:
    data, _ = world
    before = data.copy()
    _build(data)
    pd.testing.assert_frame_equal(data, before)
    table = Priors(municipality_effect_scale=0.3).table()
    assert "HalfNormal(0.3)" in table["prior"].tolist()


def test_cell_likelihood_equals_person_likelihood_exactly(world) -> None:
    """Deterministic: log p(cells) - log p(persons) is a constant (sum of log binomial coefficients)."""
    from scipy.special import gammaln

    from o4o_causal.bayes.model import build_model

    data, _ = world
    small = data.head(800).assign(resources=lambda f: pd.factorize(f["municipality"])[0] / 10.0)
    kw = {**KW, "covariates": ["x1", "x2", "config", "resources"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        cells = _build(small, **kw, sufficient_statistics=True)
        persons = _build(small, **kw, sufficient_statistics=False)
    assert cells.collapsed and cells.weight.size < persons.weight.size
    logp_cells = build_model(cells, Priors()).compile_logp()
    model_p = build_model(persons, Priors())
    logp_persons = model_p.compile_logp()
    constant = float(np.sum(gammaln(cells.weight + 1) - gammaln(cells.y + 1) - gammaln(cells.weight - cells.y + 1)))
    rng = np.random.default_rng(0)
    for _ in range(3):
        point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in model_p.initial_point().items()}
        assert np.isclose(logp_cells(point) - logp_persons(point), constant, rtol=1e-10, atol=1e-8)
    # normal outcome: cell sums of (y - mean) and (y - mean)^2 give exactly the person-level likelihood
    normal, _ = simulate(seed=3, n=600, per_country=5, family="normal")
    normal["y"] = normal["y"] + 1e4  # a large mean must not cost precision
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        nc, npers = (_build(normal, sufficient_statistics=s) for s in (True, False))
    mc, mp = build_model(nc, Priors()), build_model(npers, Priors())
    fc, fp = mc.compile_logp(), mp.compile_logp()
    for _ in range(3):
        point = {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in mp.initial_point().items()}
        assert np.isclose(fc(point), fp(point), rtol=1e-9)


def test_person_level_loo_from_cells_equals_loo_from_persons(fits) -> None:
    from o4o_causal.bayes import compare

    cells, persons = fits
    a, b = cells.loo(), persons.loo()
    assert a.n == b.n == persons.design.n_persons
    assert abs(a.elpd - b.elpd) < 3.0, (a.elpd, b.elpd)  # same persons, different MCMC runs
    assert a.max_k < 0.7 and a.p_loo > 0
    table = compare({"cells": cells, "persons": persons})
    assert set(table.index) == {"cells", "persons"} and table["elpd_diff"].max() == 0.0
    assert table["elpd"].round(6).nunique() == 2  # not rounded away (ArviZ rounds by default)


def test_compare_refuses_different_persons(fits, world) -> None:
    from o4o_causal.bayes import compare

    cells, _ = fits
    data, _ = world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        other = fit_multilevel(data.head(1500), **KW, seed=1, on_failure="warn", draws=100, tune=100, chains=2)
    with pytest.raises(SpecificationError, match="same persons"):
        compare({"a": cells, "b": other})


def test_small_municipalities_are_suppressed(fits) -> None:
    cells, _ = fits
    full = cells.group_effects("municipality", suppress=False)
    shown = cells.group_effects("municipality")
    small = full["persons"] < 5
    assert shown.loc[small, "mean"].isna().all() and shown.loc[~small, "mean"].notna().all()
    shrink = cells.shrinkage()
    few = (shrink["treated"].isna()) | (shrink["untreated"].isna())
    assert shrink.loc[few, "raw"].isna().all()
    valid = shrink["shrinkage"].dropna()
    assert len(valid) > 10 and valid.between(-0.5, 1.0).all() and valid.median() > 0


def test_modifier_without_main_effect_warns(world) -> None:
    data, _ = world
    with pytest.warns(O4OWarning, match="main effect is fixed at zero"):
        _build(data, covariates=["x1", "x2"], modifiers=["config"])

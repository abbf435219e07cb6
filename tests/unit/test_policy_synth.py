"""Synthetic control and synthetic DiD: exact weights, placebo inference, robustness, input checks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError
from o4o_causal.plotting.policy import (
    event_study_data,
    event_study_plot,
    gaps_data,
    gaps_plot,
    subgroup_forest,
    subgroup_forest_data,
    synthetic_control_data,
    synthetic_control_plot,
)
from o4o_causal.policy import synthetic_control, synthetic_did
from o4o_causal.policy._simplex import simplex_least_squares


def factor_panel(
    seed: int = 0, donors: int = 12, periods: int = 40, pre: int = 30, effect: float = 1.5
) -> pd.DataFrame:
    """Units loading on two common random-walk factors; unit 'u00' treated from period 2000+pre."""
    rng = np.random.default_rng(seed)
    factors = rng.normal(size=(periods, 2)).cumsum(axis=0)
    loadings = rng.uniform(0, 1, (2, donors + 1))
    y = factors @ loadings + rng.normal(scale=0.2, size=(periods, donors + 1)) + rng.normal(size=donors + 1)
    y[pre:, 0] += effect
    return pd.DataFrame(
        [{"unit": f"u{j:02d}", "t": 2000 + t, "y": y[t, j]} for t in range(periods) for j in range(donors + 1)]
    )


def slsqp(a: np.ndarray, b: np.ndarray, ridge: float = 0.0, intercept: bool = False) -> np.ndarray:
    if intercept:
        a, b = a - a.mean(axis=0), b - b.mean()
    j = a.shape[1]
    res = optimize.minimize(
        lambda w: np.sum((a @ w - b) ** 2) + ridge * w @ w,
        np.full(j, 1.0 / j),
        jac=lambda w: 2 * a.T @ (a @ w - b) + 2 * ridge * w,
        method="SLSQP",
        bounds=[(0.0, None)] * j,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones(j)}],
        options={"ftol": 1e-16, "maxiter": 10_000},
    )
    return np.asarray(res.x)


@pytest.mark.parametrize("seed", range(8))
def test_simplex_solver_equals_slsqp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows, j = int(rng.integers(8, 50)), int(rng.integers(3, 25))
    a = rng.normal(size=(rows, j)).cumsum(axis=0)
    b = a[:, :3].mean(axis=1) + rng.normal(size=rows)
    ridge, intercept = (0.0, False) if seed % 2 == 0 else (3.0, True)
    fit = simplex_least_squares(a, b, ridge=ridge, intercept=intercept)
    np.testing.assert_allclose(fit.weights, slsqp(a, b, ridge, intercept), atol=1e-6)
    assert fit.kkt_violation < 1e-9 and abs(fit.weights.sum() - 1) < 1e-12 and (fit.weights >= 0).all()


def test_synthetic_control_recovers_effect_with_placebo_inference() -> None:
    data = factor_panel()
    before = data.copy()
    res = synthetic_control(data, outcome="y", unit="unit", time="t", treated_unit="u00", treatment_time=2030)
    pd.testing.assert_frame_equal(data, before)
    assert abs(res.att.value - 1.5) < 0.3
    # weights: the exact minimiser of the pre-period fit, as an independent solver finds it
    wide = data.pivot(index="t", columns="unit", values="y")
    ref = slsqp(wide.loc[:2029].drop(columns="u00").to_numpy(), wide.loc[:2029, "u00"].to_numpy())
    np.testing.assert_allclose(res.weights.to_numpy(), ref, atol=1e-6)
    # gaps and RMSPE by hand
    synthetic = wide.drop(columns="u00").to_numpy() @ res.weights.to_numpy()
    np.testing.assert_allclose(res.gaps["gap"].to_numpy(), wide["u00"].to_numpy() - synthetic, rtol=1e-12)
    np.testing.assert_allclose(res.pre_rmspe, np.sqrt(np.mean(res.gaps["gap"].to_numpy()[:30] ** 2)), rtol=1e-12)
    # placebo p-value = rank of the treated ratio among all units
    ratios = res.placebos["ratio"].to_numpy()
    assert res.p_value == pytest.approx((1 + np.sum(ratios[1:] >= ratios[0])) / len(ratios))
    assert res.p_value == pytest.approx(1 / 13)
    assert len(res.loo) == int((res.weights > 1e-6).sum())
    assert res.loo["att"].between(1.0, 2.0).all()
    table = res.summary().set_index("method")
    assert table.index.tolist() == ["synthetic control", "leave-one-donor-out (min..max)", "synthetic DiD"]
    # the leave-one-out range is not a confidence interval: its own columns, CI columns empty
    loo = table.loc["leave-one-donor-out (min..max)"]
    assert np.isnan(loo["ci_low"]) and np.isnan(loo["ci_high"])
    loo_atts = []
    for donor in res.weights.index[res.weights > 1e-6]:
        kept = wide.drop(columns=["u00", donor])
        w = slsqp(kept.loc[:2029].to_numpy(), wide.loc[:2029, "u00"].to_numpy())
        loo_atts.append(float(np.mean(wide.loc[2030:, "u00"].to_numpy() - kept.loc[2030:].to_numpy() @ w)))
    np.testing.assert_allclose([loo["loo_min"], loo["loo_max"]], [min(loo_atts), max(loo_atts)], atol=1e-5)
    sd = table.loc["synthetic DiD"]
    assert sd["ci_low"] < sd["estimate"] < sd["ci_high"] and np.isnan(sd["loo_min"])


def pre_mspe_by_hand(wide: pd.DataFrame, unit: str, donors: list[str], t0: int) -> float:
    """Pre-period MSPE of ``unit``'s synthetic control over ``donors`` (independent SLSQP weights)."""
    pre = wide.iloc[:t0]
    w = slsqp(pre[donors].to_numpy(), pre[unit].to_numpy())
    return float(np.mean((pre[unit].to_numpy() - pre[donors].to_numpy() @ w) ** 2))


def test_exclusion_of_poorly_fitted_placebos_on_the_mspe_scale() -> None:
    """Abadie et al. (2010) exclude placebos with pre-MSPE > c x the treated unit's (MSPE, not RMSPE)."""
    data = factor_panel(seed=1)
    wide = data.pivot(index="t", columns="unit", values="y")
    units = wide.columns.tolist()
    mspe = {u: pre_mspe_by_hand(wide, u, [d for d in units if d not in (u, "u00")], 30) for u in units[1:]}
    treated = pre_mspe_by_hand(wide, "u00", units[1:], 30)
    # c between r and r^2 for a placebo with RMSPE ratio r > 1: the MSPE rule excludes it, the RMSPE rule would not
    ratios = sorted(np.sqrt(m / treated) for m in mspe.values() if m > treated * 1.2)
    c = float(ratios[0] ** 1.5)
    res = synthetic_control(
        data, outcome="y", unit="unit", time="t", treated_unit="u00", treatment_time=2030, exclude_pre_mspe=c
    )
    assert res.exclude_pre_mspe == c
    placebos = res.placebos[~res.placebos["treated"]].set_index("unit")
    expected = pd.Series({u: m > c * treated for u, m in mspe.items()})
    pd.testing.assert_series_equal(placebos["excluded"], expected.reindex(placebos.index), check_names=False)
    rmspe_rule = pd.Series({u: np.sqrt(m) > c * np.sqrt(treated) for u, m in mspe.items()})
    assert (expected != rmspe_rule).any()  # the two scales differ here
    # p-value over the kept placebos, ratios from the placebo gaps
    gaps = res.placebo_gaps.pivot(index="t", columns="unit", values="gap")
    ratio = np.sqrt((gaps.loc[2030:] ** 2).mean() / (gaps.loc[:2029] ** 2).mean())
    kept = ratio[~expected.reindex(ratio.index)]
    assert res.p_value == pytest.approx((1 + np.sum(kept >= res.ratio)) / (1 + len(kept)))


def test_deterministic_weights() -> None:
    data = factor_panel(seed=2)
    a = synthetic_control(data, outcome="y", unit="unit", time="t", treated_unit="u00", treatment_time=2030)
    b = synthetic_control(
        data.sample(frac=1.0, random_state=3),
        outcome="y",
        unit="unit",
        time="t",
        treated_unit="u00",
        treatment_time=2030,
    )
    np.testing.assert_array_equal(a.weights.to_numpy(), b.weights.to_numpy())
    pd.testing.assert_frame_equal(a.placebos, b.placebos)


def test_covariates_enter_predictors() -> None:
    data = factor_panel(seed=3)
    data["size"] = data["unit"].str[1:].astype(int) % 4 + 0.5 * np.random.default_rng(0).normal(size=len(data))
    res = synthetic_control(
        data,
        outcome="y",
        unit="unit",
        time="t",
        treated_unit="u00",
        treatment_time=2030,
        covariates="size",
        v={"outcome": 1.0, "size": 0.5},
    )
    assert list(res.predictor_balance.index) == ["outcome (pre-period mean)", "size"]
    assert abs(res.weights.sum() - 1) < 1e-12
    with pytest.raises(SpecificationError, match="v"):
        synthetic_control(
            data, outcome="y", unit="unit", time="t", treated_unit="u00", treatment_time=2030, v={"outcome": 1.0}
        )


def test_sdid_uniform_weights_is_did_of_means() -> None:
    data = factor_panel(seed=4)
    res = synthetic_did(
        data, outcome="y", unit="unit", time="t", treated_unit="u00", treatment_time=2030, weights="uniform"
    )
    wide = data.pivot(index="t", columns="unit", values="y")
    post, pre = wide.index >= 2030, wide.index < 2030
    treated, donors = wide["u00"], wide.drop(columns="u00")
    by_hand = (treated[post].mean() - treated[pre].mean()) - (
        donors[post].to_numpy().mean() - donors[pre].to_numpy().mean()
    )
    np.testing.assert_allclose(res.estimate.value, by_hand, rtol=1e-10)


def test_sdid_weights_and_estimate_by_hand() -> None:
    data = factor_panel(seed=5)
    res = synthetic_did(data, outcome="y", unit="unit", time="t", treated_unit="u00", treatment_time=2030)
    wide = data.pivot(index="t", columns="unit", values="y")
    y_pre, y_post = wide.loc[:2029], wide.loc[2030:]
    donors = y_pre.drop(columns="u00").to_numpy()
    sigma = np.std(np.diff(donors, axis=0), ddof=1)
    zeta = 10**0.25 * sigma
    assert res.zeta == pytest.approx(zeta, rel=1e-12)
    omega = slsqp(donors, y_pre["u00"].to_numpy(), ridge=zeta**2 * 30, intercept=True)
    np.testing.assert_allclose(res.unit_weights.to_numpy(), omega, atol=1e-6)
    lam = slsqp(donors.T, y_post.drop(columns="u00").mean().to_numpy(), ridge=(1e-6 * sigma) ** 2 * 12, intercept=True)
    np.testing.assert_allclose(res.time_weights.to_numpy(), lam, atol=1e-5)
    w, l_ = res.unit_weights.to_numpy(), res.time_weights.to_numpy()
    tau = (y_post["u00"].mean() - l_ @ y_pre["u00"]) - w @ (y_post.drop(columns="u00").mean().to_numpy() - l_ @ donors)
    np.testing.assert_allclose(res.estimate.value, tau, rtol=1e-10)
    assert res.estimate.covers(1.5)


def sdid_by_hand(y_pre: pd.DataFrame, y_post: pd.DataFrame, treated: str, donors: list[str]) -> float:
    """SDID point estimate by the paper's formulas with independent (SLSQP) weights."""
    a = y_pre[donors].to_numpy()
    sigma = np.std(np.diff(a, axis=0), ddof=1)
    zeta = len(y_post) ** 0.25 * sigma
    omega = slsqp(a, y_pre[treated].to_numpy(), ridge=zeta**2 * len(y_pre), intercept=True)
    post_means = y_post[donors].mean().to_numpy()
    lam = slsqp(a.T, post_means, ridge=(1e-6 * sigma) ** 2 * len(donors), intercept=True)
    return float((y_post[treated].mean() - lam @ y_pre[treated]) - omega @ (post_means - lam @ a))


def test_sdid_placebo_standard_error_by_hand() -> None:
    """Algorithm 4: every donor in turn as placebo treated among the others (zeta recomputed), SE = sd."""
    data = factor_panel(seed=6, donors=10, periods=14, pre=8)  # more donors than pre periods: unique time weights
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        res = synthetic_did(data, outcome="y", unit="unit", time="t", treated_unit="u00", treatment_time=2008)
    wide = data.pivot(index="t", columns="unit", values="y")
    y_pre, y_post = wide.loc[:2007], wide.loc[2008:]
    donors = [u for u in wide.columns if u != "u00"]
    placebo = np.array([sdid_by_hand(y_pre, y_post, d, [o for o in donors if o != d]) for d in donors])
    np.testing.assert_allclose(res.placebo_estimates.to_numpy(), placebo, atol=1e-4)
    np.testing.assert_allclose(res.estimate.se, np.sqrt(np.mean((placebo - placebo.mean()) ** 2)), rtol=1e-3)


@pytest.mark.parametrize("value", [0, 2, "x", 2.5, True, None])
def test_sdid_validates_min_pre_periods(value: object) -> None:
    with pytest.raises(SpecificationError, match="min_pre_periods"):
        synthetic_did(
            factor_panel(),
            outcome="y",
            unit="unit",
            time="t",
            treated_unit="u00",
            treatment_time=2030,
            min_pre_periods=value,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "match"),
    [
        (lambda d: d, {"treated_unit": "u99"}, DataError, "treated_unit 'u99'.*not in the data"),
        (lambda d: d, {"treatment_time": 2050}, DataError, "treatment_time 2050.*outside"),
        (lambda d: d, {"treatment_time": 2002}, DataError, r"pre-treatment periods.*at least 3.*found 2"),
        (lambda d: d[d["unit"].isin(["u00", "u01"])], {}, DataError, "donor pool.*at least 2.*found 1"),
        (lambda d: d, {"donors": []}, DataError, "donor pool.*found 0"),
        (lambda d: d, {"donors": ["u00", "u01"]}, SpecificationError, "donors"),
        (lambda d: d.drop(index=d.index[(d["unit"] == "u03") & (d["t"] == 2005)]), {}, DataError, "balanced.*'u03'"),
        (lambda d: d.drop(columns="y"), {}, DataError, "'y'.*missing"),
        (lambda d: d, {"exclude_pre_mspe": -1}, SpecificationError, "exclude_pre_mspe"),
    ],
)
def test_bad_input(change: object, kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    data = change(factor_panel())  # type: ignore[operator]
    args: dict[str, object] = {"treated_unit": "u00", "treatment_time": 2030} | kwargs
    with pytest.raises(error, match=match):
        synthetic_control(data, outcome="y", unit="unit", time="t", **args)  # type: ignore[arg-type]


def test_short_pre_period_warns() -> None:
    data = factor_panel(periods=10, pre=5)
    with pytest.warns(O4OWarning, match="5 pre-treatment periods for 12 donors"):
        synthetic_control(data, outcome="y", unit="unit", time="t", treated_unit="u00", treatment_time=2005, sdid=False)


def test_plots_return_axes_and_data() -> None:
    import matplotlib.pyplot as plt

    from o4o_causal.policy import did_by, event_study

    res = synthetic_control(factor_panel(), outcome="y", unit="unit", time="t", treated_unit="u00", treatment_time=2030)
    assert synthetic_control_plot(res) is not None
    ax = gaps_plot(res)
    assert len(ax.lines) >= 13
    gd = gaps_data(res)
    assert gd["treated"].sum() == 40 and len(gd) == 13 * 40
    assert synthetic_control_data(res).shape[0] == 40
    rng = np.random.default_rng(0)
    panel = pd.DataFrame({"id": np.repeat(np.arange(60), 6), "t": np.tile(np.arange(6), 60)})
    panel["g"] = np.where(panel["id"] < 30, 3.0, np.nan)
    panel["y"] = rng.normal(size=len(panel)) + (panel["t"] >= panel["g"]) * 1.0
    es = event_study(panel, outcome="y", unit="id", time="t", treatment_time="g")
    assert event_study_plot(es) is not None and len(event_study_data(es)) == 6
    panel["tr"], panel["post"], panel["k"] = (
        (panel["id"] < 30).astype(int),
        (panel["t"] >= 3).astype(int),
        panel["id"] % 2,
    )
    by = did_by(panel, outcome="y", unit="id", time="t", treated="tr", post="post", by="k")
    assert subgroup_forest(by, reference={"0": 1.0, "1": 1.0}) is not None
    assert subgroup_forest_data(by)["label"].tolist() == ["0", "1"]
    plt.close("all")

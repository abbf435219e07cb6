"""Synthetic control and synthetic DiD: exact weights, placebo inference, robustness, input checks."""

from __future__ import annotations

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
    table = res.summary()
    assert table["method"].tolist() == ["synthetic control", "leave-one-donor-out (min..max)", "synthetic DiD"]


def test_exclusion_of_poorly_fitted_placebos() -> None:
    data = factor_panel(seed=1)
    res = synthetic_control(
        data, outcome="y", unit="unit", time="t", treated_unit="u00", treatment_time=2030, exclude_pre_rmspe=2
    )
    placebos = res.placebos[~res.placebos["treated"]]
    np.testing.assert_array_equal(placebos["excluded"], placebos["pre_rmspe"] > 2 * res.pre_rmspe)
    kept = placebos[~placebos["excluded"]]
    assert res.p_value == pytest.approx((1 + np.sum(kept["ratio"] >= res.ratio)) / (1 + len(kept)))


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
    placebo = res.placebo_estimates.to_numpy()
    assert len(placebo) == 12
    np.testing.assert_allclose(res.estimate.se, np.sqrt(np.mean((placebo - placebo.mean()) ** 2)), rtol=1e-12)
    assert res.estimate.covers(1.5)


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
        (lambda d: d, {"exclude_pre_rmspe": -1}, SpecificationError, "exclude_pre_rmspe"),
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

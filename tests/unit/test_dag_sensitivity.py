"""Sensitivity to unobserved confounding: formulas by hand and against sensemakr, planted confounders."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from o4o_causal.dag.estimate import DagEstimate, estimate_effect
from o4o_causal.dag.graph import CausalDAG
from o4o_causal.dag.sensitivity import (
    adjusted_ci,
    adjusted_estimate,
    adjusted_se,
    benchmark_bounds,
    bias,
    e_value,
    e_value_rr,
    partial_r2,
    robustness_value,
    sensitivity_analysis,
)
from o4o_causal.exceptions import DataError, SpecificationError
from o4o_causal.plotting.sensitivity import sensitivity_contour, sensitivity_contour_data
from o4o_causal.results import Estimate

RTOL = 1e-8
DAG = CausalDAG.from_dot("digraph { x1 -> d; x2 -> d; x1 -> y; x2 -> y; x3 -> y; d -> y; }")

# Cinelli & Hazlett (2020), Darfur example (sensemakr, tests/testthat/test-02-darfur.R)
DARFUR = {"estimate": 0.09731582, "se": 0.02325654, "dof": 783}
DARFUR_R2DZ = np.array([0.00916428667504862, 0.0183285733500972, 0.0274928600251459])  # 1x, 2x, 3x female
DARFUR_R2YZ = np.array([0.12464092303637, 0.249324064199975, 0.374050471038094])
DARFUR_ADJ = np.array([0.0752202698486415, 0.0529151689180575, 0.0303960178770157])
DARFUR_ADJ_SE = np.array([0.0218733298036818, 0.0203500639944344, 0.0186700665753491])


def simulate(n: int = 2000, *, effect: float = 0.5, confounder: float = 0.0, seed: int = 3) -> pd.DataFrame:
    """Continuous outcome; ``u`` (not in the DAG) confounds with strength ``confounder``."""
    rng = np.random.default_rng(seed)
    x1, x2, x3, u = rng.normal(size=(4, n))
    d = (rng.random(n) < 1 / (1 + np.exp(-(0.7 * x1 - 0.4 * x2 + confounder * u)))).astype(int)
    y = effect * d + 0.8 * x1 + 0.4 * x2 + 0.3 * x3 + confounder * u + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "u": u, "d": d, "y": y, "cluster": rng.integers(0, 25, n)})


def fit(data: pd.DataFrame, **kwargs: object) -> DagEstimate:
    """Regression estimate adjusting for x1, x2 (the DAG's minimal set) and x3 (outcome-only)."""
    return estimate_effect(data, DAG, treatment="d", outcome="y", adjustment=["x1", "x2", "x3"], **kwargs)  # type: ignore[arg-type]


def ols(data: pd.DataFrame, y: str, x: list[str]) -> object:
    return sm.OLS(data[y].to_numpy(float), sm.add_constant(data[x].to_numpy(float), has_constant="add")).fit()


# ------------------------------------------------------------------- formulas by hand
def test_partial_r2_and_robustness_values_by_hand() -> None:
    t, dof = 4.0, 100
    f = t / math.sqrt(dof)
    assert partial_r2(t, dof) == pytest.approx(16.0 / 116.0, rel=RTOL)
    assert robustness_value(t, dof, alpha=None) == pytest.approx(0.5 * (math.sqrt(f**4 + 4 * f**2) - f**2), rel=RTOL)
    fa = f - stats.t.ppf(0.975, dof - 1) / math.sqrt(dof - 1)
    assert robustness_value(t, dof, alpha=0.05) == pytest.approx(0.5 * (math.sqrt(fa**4 + 4 * fa**2) - fa**2), rel=RTOL)
    fh = 0.5 * f  # q = 0.5: half of the estimate
    assert robustness_value(t, dof, q=0.5, alpha=None) == pytest.approx(0.5 * (math.sqrt(fh**4 + 4 * fh**2) - fh**2))
    assert robustness_value(1.0, dof, alpha=0.05) == 0.0  # not significant: nothing to explain away
    assert robustness_value(-t, dof, alpha=None) == robustness_value(t, dof, alpha=None)
    # sensemakr: robustness_value(t = 2, dof = 100) prints 0.1809975
    assert robustness_value(2.0, 100, alpha=None) == pytest.approx(0.1809975, rel=1e-6)


def test_darfur_statistics_match_sensemakr() -> None:
    t, dof = DARFUR["estimate"] / DARFUR["se"], DARFUR["dof"]
    assert partial_r2(t, dof) == pytest.approx(0.02187309, rel=1e-6)
    assert robustness_value(t, dof, alpha=None) == pytest.approx(0.1387764, rel=1e-6)
    assert robustness_value(t, dof, alpha=0.05) == pytest.approx(0.07625797, rel=1e-6)


def test_adjusted_estimates_match_sensemakr_and_hand() -> None:
    est, se, dof = DARFUR["estimate"], DARFUR["se"], DARFUR["dof"]
    adj = adjusted_estimate(est, se, dof, DARFUR_R2DZ, DARFUR_R2YZ)
    np.testing.assert_allclose(adj, DARFUR_ADJ, rtol=RTOL)
    np.testing.assert_allclose(adjusted_se(se, dof, DARFUR_R2DZ, DARFUR_R2YZ), DARFUR_ADJ_SE, rtol=RTOL)
    r2dz, r2yz = 0.1, 0.2
    by_hand = se * math.sqrt(dof) * math.sqrt(r2yz * r2dz / (1 - r2dz))
    assert float(bias(se, dof, r2dz, r2yz)) == pytest.approx(by_hand, rel=RTOL)
    assert float(adjusted_estimate(est, se, dof, r2dz, r2yz, reduce=False)) == pytest.approx(est + by_hand, rel=RTOL)
    assert float(adjusted_estimate(-est, se, dof, r2dz, r2yz)) == pytest.approx(-(est - by_hand), rel=RTOL)
    low, high = adjusted_ci(est, se, dof, r2dz, r2yz, alpha=0.05)
    half = stats.t.ppf(0.975, dof - 1) * se * math.sqrt((1 - r2yz) / (1 - r2dz) * dof / (dof - 1))
    assert float(low) == pytest.approx(est - by_hand - half, rel=RTOL)
    assert float(high) == pytest.approx(est - by_hand + half, rel=RTOL)


def test_benchmark_bounds_match_sensemakr() -> None:
    # invert the 1x bound for female's partial R2s, then predict the 2x and 3x bounds
    r2dxj = DARFUR_R2DZ[0] / (1 + DARFUR_R2DZ[0])
    r2zxj = r2dxj**2 / ((1 - r2dxj) * (1 - r2dxj))
    odds = DARFUR_R2YZ[0] / ((1 + math.sqrt(r2zxj)) / math.sqrt(1 - r2zxj)) ** 2
    r2yxj = odds / (1 + odds)
    r2dz, r2yz = benchmark_bounds(r2dxj, r2yxj, kd=[1, 2, 3])
    np.testing.assert_allclose(r2dz, DARFUR_R2DZ, rtol=RTOL)
    np.testing.assert_allclose(r2yz, DARFUR_R2YZ, rtol=RTOL)
    # by hand for kd = 2, ky = 1 and an impossible strength
    kd, ky = 2.0, 1.0
    zx = kd * 0.1**2 / ((1 - kd * 0.1) * 0.9)
    want = ((math.sqrt(ky) + math.sqrt(zx)) / math.sqrt(1 - zx)) ** 2 * 0.05 / 0.95
    dz, yz = benchmark_bounds(0.1, 0.05, kd=kd, ky=ky)
    assert (float(dz[0]), float(yz[0])) == pytest.approx((kd * 0.1 / 0.9, want), rel=RTOL)
    assert np.isnan(benchmark_bounds(0.6, 0.05, kd=2.0)[0]).all()


def test_robustness_values_are_the_thresholds_they_claim() -> None:
    est, se, dof = DARFUR["estimate"], DARFUR["se"], DARFUR["dof"]
    rv = robustness_value(est / se, dof, alpha=None)
    assert float(adjusted_estimate(est, se, dof, rv, rv)) == pytest.approx(0.0, abs=1e-12)
    rva = robustness_value(est / se, dof, alpha=0.05)
    t_adj = adjusted_estimate(est, se, dof, rva, rva) / adjusted_se(se, dof, rva, rva)
    assert float(t_adj) == pytest.approx(stats.t.ppf(0.975, dof - 1), rel=RTOL)
    # extreme case (sensemakr test-10): few dof, f_q > 1/f*
    dof, t = 7, 1 / 0.3
    tcrit = stats.t.ppf(0.975, dof - 1)
    fs = tcrit / math.sqrt(dof - 1)
    rv = robustness_value(t, dof, alpha=0.05)
    assert t / math.sqrt(dof) > 1 / fs
    r2yz = rv / (fs**2 + rv)
    t_adj = adjusted_estimate(1.0, 0.3, dof, rv, r2yz) / adjusted_se(0.3, dof, rv, r2yz)
    assert float(t_adj) == pytest.approx(tcrit, rel=RTOL)


# ----------------------------------------------------------------------------- E-values
def test_e_values_by_hand() -> None:
    est = Estimate(value=0.1, se=0.02, ci_low=0.06, ci_high=0.14, n=100, method="x")
    ev = e_value(est, outcome_type="binary", baseline_risk=0.2)
    assert ev.rr == pytest.approx(1.5, rel=RTOL)
    assert ev.point == pytest.approx(1.5 + math.sqrt(1.5 * 0.5), rel=RTOL)
    assert ev.ci == pytest.approx(1.3 + math.sqrt(1.3 * 0.3), rel=RTOL)  # lower limit: RR = 0.26 / 0.2
    harmful = Estimate(value=-0.1, se=0.02, ci_low=-0.14, ci_high=-0.06, n=100, method="x")
    ev = e_value(harmful, outcome_type="binary", baseline_risk=0.2)
    assert ev.point == pytest.approx(2.0 + math.sqrt(2.0), rel=RTOL)  # RR 0.5 -> 1/RR = 2
    assert ev.rr_ci == pytest.approx(0.7, rel=RTOL)  # upper limit, closer to the null
    ev = e_value(est, outcome_type="continuous", sd_outcome=0.4)
    rr = math.exp(0.91 * 0.25)
    assert ev.point == pytest.approx(rr + math.sqrt(rr * (rr - 1)), rel=RTOL)
    assert e_value_rr(1.0) == 1.0
    crossing = Estimate(value=0.02, se=0.02, ci_low=-0.02, ci_high=0.06, n=100, method="x")
    assert e_value(crossing, outcome_type="binary", baseline_risk=0.2).ci == 1.0
    assert math.isnan(e_value(0.1, outcome_type="binary", baseline_risk=0.2).ci)


def test_e_value_errors() -> None:
    with pytest.raises(SpecificationError, match="baseline_risk"):
        e_value(0.1, outcome_type="binary")
    with pytest.raises(SpecificationError, match="sd_outcome"):
        e_value(0.1, outcome_type="continuous")
    with pytest.raises(DataError, match="risk difference"):
        e_value(0.9, outcome_type="binary", baseline_risk=0.2)
    with pytest.raises(SpecificationError, match="outcome_type"):
        e_value(0.1, outcome_type="count", sd_outcome=1.0)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- analysis
def test_analysis_reproduces_ols_and_partial_r2_identities() -> None:
    data = simulate()
    res = sensitivity_analysis(data, fit(data))
    full = ols(data, "y", ["d", "x1", "x2", "x3"])
    assert res.estimate == pytest.approx(full.params[1], rel=RTOL)  # type: ignore[attr-defined]
    assert res.t == pytest.approx(full.tvalues[1], rel=RTOL)  # type: ignore[attr-defined]
    assert res.dof == len(data) - 5
    assert res.r2yd_x == pytest.approx(partial_r2(res.t, res.dof), rel=RTOL)
    # partial R2 of a benchmark = (RSS_reduced - RSS_full) / RSS_reduced
    reduced = ols(data, "y", ["d", "x2", "x3"])
    want_y = (reduced.ssr - full.ssr) / reduced.ssr  # type: ignore[attr-defined]
    treat_full, treat_reduced = ols(data, "d", ["x1", "x2", "x3"]), ols(data, "d", ["x2", "x3"])
    want_d = (treat_reduced.ssr - treat_full.ssr) / treat_reduced.ssr  # type: ignore[attr-defined]
    row = res.bounds[(res.bounds["benchmark"] == "x1") & (res.bounds["kd"] == 1)].iloc[0]
    assert (row["r2yxj_dx"], row["r2dxj_x"]) == pytest.approx((want_y, want_d), rel=RTOL)
    assert set(res.bounds["bound_label"]) >= {"1x x1", "2x x2", "3x x3"}
    group = sensitivity_analysis(data, fit(data), benchmark_covariates={"x1+x2": ["x1", "x2"]}, kd=[1])
    reduced = ols(data, "y", ["d", "x3"])
    want = (reduced.ssr - full.ssr) / reduced.ssr  # type: ignore[attr-defined]
    assert group.bounds["r2yxj_dx"].iloc[0] == pytest.approx(want, rel=RTOL)


def test_planted_omitted_confounder() -> None:
    """No true effect; u (omitted from the DAG) produces the whole estimate."""
    data = simulate(3000, effect=0.0, confounder=0.5, seed=11)
    res = sensitivity_analysis(data, fit(data))
    assert res.estimate > 0 and res.t > 3  # a "significant" effect created by u
    # actual strength of u, and the exact OVB identity: adjusting by it gives the long regression
    long = ols(data, "y", ["d", "x1", "x2", "x3", "u"])
    short_y = ols(data, "y", ["d", "x1", "x2", "x3"])
    r2yz = (short_y.ssr - long.ssr) / short_y.ssr  # type: ignore[attr-defined]
    treat_long, treat_short = ols(data, "d", ["x1", "x2", "x3", "u"]), ols(data, "d", ["x1", "x2", "x3"])
    r2dz = (treat_short.ssr - treat_long.ssr) / treat_short.ssr  # type: ignore[attr-defined]
    adj = float(res.adjusted(r2dz, r2yz))
    assert adj == pytest.approx(long.params[1], rel=1e-8)  # type: ignore[attr-defined]
    # the robustness value is small and lies between the confounder's two strengths
    assert res.rv_q < 0.15
    assert min(r2dz, r2yz) <= res.rv_q <= max(r2dz, r2yz)
    robust = sensitivity_analysis(simulate(3000, effect=1.0, seed=11), fit(simulate(3000, effect=1.0, seed=11)))
    assert robust.rv_q > 2 * res.rv_q


def test_fixed_effects_are_absorbed() -> None:
    data = simulate(800)
    res = sensitivity_analysis(data, fit(data, fixed_effects="cluster", cluster="cluster"), kd=[1])
    dummies = pd.get_dummies(data["cluster"], prefix="c", drop_first=True, dtype=float)
    frame = pd.concat([data[["d", "x1", "x2", "x3"]], dummies], axis=1)
    full = sm.OLS(data["y"].to_numpy(float), sm.add_constant(frame.to_numpy(float))).fit()
    assert res.estimate == pytest.approx(full.params[1], rel=RTOL)
    assert res.t == pytest.approx(full.tvalues[1], rel=RTOL)
    assert res.dof == int(full.df_resid)


def test_analysis_result_summary_and_binary_e_value() -> None:
    rng = np.random.default_rng(5)
    data = simulate(1500)
    data["y"] = (rng.random(len(data)) < 0.2 + 0.15 * data["d"]).astype(float)
    est = fit(data)
    res = sensitivity_analysis(data, est, benchmark_covariates=["x1"])
    assert res.evalue.outcome_type == "binary"
    p0 = data.loc[data["d"] == 0, "y"].mean()
    assert res.evalue.rr == pytest.approx((p0 + est.value) / p0, rel=RTOL)
    table = res.summary()
    assert list(table.columns) == ["statistic", "value", "ci_low", "ci_high"]
    assert "robustness value RV (q=1)" in set(table["statistic"])
    assert len(table) == 9 + 3


def test_contour_data_and_plot() -> None:
    data = simulate()
    res = sensitivity_analysis(data, fit(data))
    grid = sensitivity_contour_data(res, points=21)
    assert len(grid) == 21 * 21 and list(grid.columns) == ["r2dz_x", "r2yz_dx", "adjusted_estimate"]
    origin = grid[(grid["r2dz_x"] == 0) & (grid["r2yz_dx"] == 0)]["adjusted_estimate"].iloc[0]
    assert origin == pytest.approx(res.estimate, rel=RTOL)
    assert float(res.adjusted(res.rv_q, res.rv_q)) == pytest.approx(0.0, abs=1e-10)
    assert grid["adjusted_estimate"].min() < 0 < grid["adjusted_estimate"].max()
    ax = sensitivity_contour(res, points=21)
    assert ax.get_xlabel().startswith("partial R")
    assert len(ax.collections) >= 2
    plt.close(ax.figure)


def test_analysis_errors() -> None:
    data = simulate(300)
    with pytest.raises(SpecificationError, match="benchmark_covariates"):
        sensitivity_analysis(data, fit(data), benchmark_covariates=["u"])
    plain = Estimate(value=1.0, se=0.1, ci_low=0.8, ci_high=1.2, n=300, method="x")
    with pytest.raises(SpecificationError, match="DagEstimate"):
        sensitivity_analysis(data, plain)
    with pytest.raises(DataError):
        sensitivity_analysis(data.drop(columns="x3"), fit(data))

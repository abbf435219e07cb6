"""Benchmark estimators against statsmodels, stacked M-estimation and hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit

from o4o_causal import datasets
from o4o_causal.benchmarks import benchmark_rows, benchmark_table, ipw, match, standardize
from o4o_causal.dag.estimate import EffectSpec
from o4o_causal.dag.methods import ipw as dag_ipw
from o4o_causal.exceptions import DataError, SpecificationError
from o4o_causal.results import Estimate

COV = ["x1", "x2", "x3"]


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 600
    x = rng.normal(size=(n, 3))
    x[:, 2] = rng.binomial(1, 0.4, n)
    d = rng.binomial(1, expit(0.3 + 0.8 * x[:, 0] - 0.5 * x[:, 1]))
    y = 1 + x @ [1.0, -0.5, 0.7] + d * (2 + 0.8 * x[:, 0]) + rng.normal(size=n) * (1 + 0.5 * d)
    return pd.DataFrame({"y": y, "d": d, "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2]})


def _design(data: pd.DataFrame, inter: list[str], d: float | None = None) -> pd.DataFrame:
    dd = data["d"] if d is None else pd.Series(d, index=data.index)
    out = sm.add_constant(data[COV]).assign(d=dd)
    for c in inter:
        out[f"d_{c}"] = dd * data[c]
    return out


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
def test_standardize_equals_statsmodels_predictions(data: pd.DataFrame, estimand: str) -> None:
    inter = ["x1", "x3"]
    fit = sm.OLS(data["y"], _design(data, inter)).fit(cov_type="HC1")
    rows = data if estimand == "ATE" else data[data["d"] == 1]
    tau = float((fit.predict(_design(rows, inter, 1.0)) - fit.predict(_design(rows, inter, 0.0))).mean())
    est = standardize(data, outcome="y", treatment="d", covariates=COV, interactions=inter, estimand=estimand)
    assert est.value == pytest.approx(tau, rel=1e-8) and est.estimand == estimand
    names = list(_design(data, inter).columns)
    c = np.zeros(len(names))
    c[names.index("d")] = 1.0
    for k in inter:
        c[names.index(f"d_{k}")] = rows[k].mean()
    coef_var = float(c @ fit.cov_params().to_numpy() @ c)
    g = np.array([fit.params[f"d_{k}"] for k in inter])
    mean_var = float(np.sum(((rows[inter] - rows[inter].mean()).to_numpy() @ g) ** 2)) / len(rows) ** 2
    assert est.se == pytest.approx(np.sqrt(coef_var + mean_var), rel=1e-8)


def test_standardize_without_interactions_is_the_coefficient(data: pd.DataFrame) -> None:
    for cov_type, covariance in (("HC1", "HC1"), ("nonrobust", "nonrobust")):
        fit = sm.OLS(data["y"], _design(data, [])).fit(cov_type=cov_type)
        est = standardize(data, outcome="y", treatment="d", covariates=COV, interactions=(), covariance=covariance)
        assert est.value == pytest.approx(fit.params["d"], rel=1e-8)
        assert est.se == pytest.approx(fit.bse["d"], rel=1e-8)
        assert est.method == "outcome regression"


def test_ipw_ate_equals_dag_ipw(data: pd.DataFrame) -> None:
    spec = EffectSpec(treatment="d", outcome="y", method="ipw", adjustment=tuple(COV))
    value, se, _ = dag_ipw(data, spec)
    est = ipw(data, outcome="y", treatment="d", covariates=COV)
    assert est.value == pytest.approx(value, rel=1e-10) and est.se == pytest.approx(se, rel=1e-8)


@pytest.mark.parametrize("estimand", ["ATE", "ATT"])
def test_ipw_fixed_weights_equals_weighted_least_squares(data: pd.DataFrame, estimand: str) -> None:
    e = sm.GLM(data["d"], sm.add_constant(data[COV]), family=sm.families.Binomial()).fit().fittedvalues
    d = data["d"]
    w = d / e + (1 - d) / (1 - e) if estimand == "ATE" else d + (1 - d) * e / (1 - e)
    fit = sm.WLS(data["y"], sm.add_constant(d), weights=w).fit(cov_type="HC0")
    est = ipw(data, outcome="y", treatment="d", covariates=COV, estimand=estimand, variance="fixed-weights")
    assert est.value == pytest.approx(fit.params["d"], rel=1e-8)
    assert est.se == pytest.approx(fit.bse["d"], rel=1e-6)


def test_ipw_att_m_estimation_equals_stacked_sandwich(data: pd.DataFrame) -> None:
    """Stacked estimating equations (logit score, two weighted means), numerical Jacobian."""
    x = sm.add_constant(data[COV]).to_numpy()
    d, y = data["d"].to_numpy(float), data["y"].to_numpy(float)
    gamma = sm.GLM(d, x, family=sm.families.Binomial()).fit().params

    def psi(theta: np.ndarray) -> np.ndarray:
        g, mu1, mu0 = theta[:-2], theta[-2], theta[-1]
        e = expit(x @ g)
        w0 = (1 - d) * e / (1 - e)
        return np.column_stack([x * (d - e)[:, None], d * (y - mu1), w0 * (y - mu0)])

    e = expit(x @ gamma)
    w0 = (1 - d) * e / (1 - e)
    theta = np.r_[gamma, np.sum(d * y) / d.sum(), np.sum(w0 * y) / w0.sum()]
    n, h = len(y), 1e-6
    jac = np.column_stack(
        [
            (psi(theta + h * np.eye(theta.size)[k]).mean(0) - psi(theta - h * np.eye(theta.size)[k]).mean(0)) / (2 * h)
            for k in range(theta.size)
        ]
    )
    scores = psi(theta)
    a_inv = np.linalg.inv(jac)
    vcov = a_inv @ (scores.T @ scores / n) @ a_inv.T / n
    contrast = np.r_[np.zeros(gamma.size), 1.0, -1.0]
    est = ipw(data, outcome="y", treatment="d", covariates=COV, estimand="ATT")
    assert est.value == pytest.approx(theta[-2] - theta[-1], rel=1e-8)
    assert est.se == pytest.approx(np.sqrt(contrast @ vcov @ contrast), rel=1e-5)


def test_ipw_trim_drops_units_and_refuses_emptying(data: pd.DataFrame) -> None:
    est = ipw(data, outcome="y", treatment="d", covariates=COV, trim=0.1)
    assert est.n < len(data) and "trim=0.1" in est.method
    with pytest.raises(SpecificationError, match="trim"):
        ipw(data, outcome="y", treatment="d", covariates=COV, trim=0.7)


def test_match_att_by_hand(data: pd.DataFrame) -> None:
    e = sm.GLM(data["d"], sm.add_constant(data[COV]), family=sm.families.Binomial()).fit().fittedvalues.to_numpy()
    s = np.log(e / (1 - e))
    d, y = data["d"].to_numpy(), data["y"].to_numpy()
    treated, controls = np.flatnonzero(d == 1), np.flatnonzero(d == 0)
    m = 2
    used = np.zeros(len(d))
    effects = []
    for i in treated:  # brute force: continuous scores, no ties
        nearest = controls[np.argsort(np.abs(s[controls] - s[i]), kind="stable")[:m]]
        used[nearest] += 1
        effects.append(y[i] - y[nearest].mean())
    tau = float(np.mean(effects))
    sigma2 = []
    for j in controls:
        others = controls[controls != j]
        k = others[np.argmin(np.abs(s[others] - s[j]))]
        sigma2.append((y[j] - y[k]) ** 2 / 2)
    k_c = used[controls]
    var = (np.sum((np.array(effects) - tau) ** 2) + np.sum(k_c * (k_c - 1) / m**2 * np.array(sigma2))) / len(
        treated
    ) ** 2
    est = match(data, outcome="y", treatment="d", covariates=COV, n_neighbors=m)
    assert est.value == pytest.approx(tau, rel=1e-8) and est.estimand == "ATT" and est.n == len(treated)
    assert est.se == pytest.approx(np.sqrt(var), rel=1e-8)
    tight = match(data, outcome="y", treatment="d", covariates=COV, caliper=0.001)
    assert tight.n < len(treated)


def test_nhefs_reproduces_what_if() -> None:
    nhefs, cov = datasets.load_nhefs(), list(datasets.NHEFS_CONFOUNDERS)
    book = ipw(nhefs, outcome="outcome", treatment="trt", covariates=cov, variance="fixed-weights")
    assert (round(book.value, 2), round(book.ci_low, 2), round(book.ci_high, 2)) == (3.44, 2.41, 4.47)
    std = standardize(nhefs, outcome="outcome", treatment="trt", covariates=cov, interactions=["smokeintensity"])
    assert round(std.value, 1) == datasets.PUBLISHED["nhefs", "standardisation"]["value"]
    reg = standardize(
        nhefs, outcome="outcome", treatment="trt", covariates=cov, interactions=(), covariance="nonrobust"
    )
    pub = datasets.PUBLISHED["nhefs", "regression"]
    assert [round(v, 1) for v in (reg.value, reg.ci_low, reg.ci_high)] == [pub["value"], pub["ci_low"], pub["ci_high"]]


def test_benchmark_table_rows_and_pass() -> None:
    est = Estimate.from_normal(3.44, 0.5, n=10, method="m")
    rows = benchmark_rows("NHEFS", "IPW", est, {"value": 3.4, "ci_low": 2.4}, tolerance=0.05, ci_tolerance=0.05)
    rows += benchmark_rows("L", "naive", -634.9, {"value": -635.0}, tolerance=0.5)
    rows += benchmark_rows("L", "x", est, {"value": 100.0}, tolerance="interval")
    table = benchmark_table(rows)
    assert table["quantity"].tolist() == ["estimate", "95% CI low", "estimate", "estimate"]
    assert table["pass"].tolist() == [True, False, True, False]
    assert table["difference"].iloc[0] == pytest.approx(0.04)
    with pytest.raises(SpecificationError, match="interval"):
        benchmark_rows("L", "x", 1.0, {"value": 1.0}, tolerance="interval")


def test_errors_are_clear(data: pd.DataFrame) -> None:
    with pytest.raises(SpecificationError, match="interactions"):
        standardize(data, outcome="y", treatment="d", covariates=COV, interactions=["nope"])
    with pytest.raises(SpecificationError, match="estimand"):
        ipw(data, outcome="y", treatment="d", covariates=COV, estimand="ATC")
    with pytest.raises(SpecificationError, match="covariates"):
        match(data, outcome="y", treatment="d", covariates=["d", "x1"])
    with pytest.raises(DataError, match="treatment"):
        match(data.assign(d=2), outcome="y", treatment="d", covariates=COV)
    with pytest.raises(SpecificationError, match="n_neighbors"):
        match(data, outcome="y", treatment="d", covariates=COV, n_neighbors=0)


def test_lalonde_rich_terms_do_not_modify_input() -> None:
    raw = datasets.load_lalonde()
    rich = datasets.add_lalonde_terms(raw)
    assert set(datasets.LALONDE_RICH_CONFOUNDERS) <= set(rich.columns)
    assert "u74" not in raw.columns and (rich["u74"] == (raw["re74"] == 0)).all()

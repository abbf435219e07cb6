"""Cluster-robust least squares against statsmodels (independent reference, tight tolerance)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

from o4o_causal._inference import if_se, ols


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, g = 600, 25
    cl = rng.integers(0, g, n)
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n) + rng.normal(size=g)[cl]])
    y = x @ np.array([1.0, 0.5, -0.3]) + rng.normal(size=g)[cl] + rng.normal(size=n)
    return y, x, pd.factorize(cl)[0]


def test_ols_cluster_robust_equals_statsmodels() -> None:
    y, x, cl = _data()
    ours = ols(y, x, cl)
    ref = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": cl})
    np.testing.assert_allclose(ours.coef, ref.params, rtol=1e-10)
    np.testing.assert_allclose(ours.vcov, ref.cov_params(), rtol=1e-8)
    assert ours.n_clusters == 25


def test_ols_hc1_equals_statsmodels() -> None:
    y, x, _ = _data(1)
    ours = ols(y, x)
    ref = sm.OLS(y, x).fit(cov_type="HC1")
    np.testing.assert_allclose(ours.vcov, ref.cov_params(), rtol=1e-8)


def test_if_se_of_a_mean_equals_cluster_ols_on_a_constant() -> None:
    y, _, cl = _data(2)
    const = np.ones((y.size, 1))
    assert np.isclose(if_se(y - y.mean(), cl), ols(y, const, cl).se[0], rtol=1e-10)
    # without clusters: the n-denominator SE (differs from HC1 by sqrt(n/(n-1)))
    assert np.isclose(if_se(y - y.mean(), None) * np.sqrt(y.size / (y.size - 1)), ols(y, const).se[0], rtol=1e-10)


def test_wald_and_contrast() -> None:
    y, x, cl = _data(3)
    fit = ols(y, x, cl)
    value, se = fit.contrast(np.array([0.0, 1.0, -1.0]))
    assert np.isclose(value, fit.coef[1] - fit.coef[2])
    assert np.isclose(se**2, fit.vcov[1, 1] + fit.vcov[2, 2] - 2 * fit.vcov[1, 2])
    stat, df, p = fit.wald(np.array([[0.0, 1.0, 0.0]]))
    assert df == 1 and np.isclose(stat, (fit.coef[1] / fit.se[1]) ** 2) and 0 <= p < 0.05

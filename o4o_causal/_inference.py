"""Cluster-robust inference shared by the estimators.

Two pieces: the standard error of a mean of influence-function values, summed within
clusters when clusters are given, and least squares with a cluster-robust (CR1) or
heteroskedasticity-robust (HC1) covariance. The CR1 small-sample factor is
``G/(G-1) * (n-1)/(n-k)``, the one used by Stata and statsmodels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


def if_se(influence: np.ndarray, clusters: np.ndarray | None) -> float:
    """Return the standard error of a mean-zero influence function, cluster-robust if clusters given."""
    n = influence.size
    if clusters is None:
        return float(np.sqrt(np.sum(influence**2)) / n)
    sums = np.bincount(clusters, weights=influence)
    g = int(np.count_nonzero(np.bincount(clusters)))
    return float(np.sqrt(g / max(g - 1, 1) * np.sum(sums**2)) / n)


@dataclass(frozen=True)
class OLSFit:
    """Least-squares coefficients with a robust covariance matrix."""

    coef: np.ndarray
    vcov: np.ndarray
    n: int
    n_clusters: int | None

    @property
    def se(self) -> np.ndarray:
        """Standard errors of the coefficients."""
        return np.sqrt(np.diag(self.vcov))

    def contrast(self, weights: np.ndarray) -> tuple[float, float]:
        """Return the value and standard error of ``weights @ coef``."""
        w = np.asarray(weights, dtype=float)
        return float(w @ self.coef), float(np.sqrt(w @ self.vcov @ w))

    def wald(self, restriction: np.ndarray) -> tuple[float, int, float]:
        """Return the Wald statistic, degrees of freedom and p-value of ``R coef = 0``."""
        r = np.atleast_2d(np.asarray(restriction, dtype=float))
        value = r @ self.coef
        stat = float(value @ np.linalg.solve(r @ self.vcov @ r.T, value))
        df = r.shape[0]
        return stat, df, float(stats.chi2.sf(stat, df))


def ols(y: np.ndarray, design: np.ndarray, clusters: np.ndarray | None = None) -> OLSFit:
    """Least squares of ``y`` on ``design`` with CR1 (clusters given) or HC1 covariance.

    Parameters
    ----------
    y
        Outcome, length n.
    design
        Regressors (n x k), including an intercept column if wanted.
    clusters
        Integer cluster codes (``pd.factorize``), or ``None``.

    Returns
    -------
    OLSFit
    """
    x = np.asarray(design, dtype=float)
    yy = np.asarray(y, dtype=float)
    n, k = x.shape
    bread = np.linalg.pinv(x.T @ x)
    coef = bread @ (x.T @ yy)
    scores = x * (yy - x @ coef)[:, None]
    if clusters is None:
        meat = scores.T @ scores * n / max(n - k, 1)
        g = None
    else:
        g = int(np.count_nonzero(np.bincount(clusters)))
        summed = np.column_stack([np.bincount(clusters, weights=scores[:, j]) for j in range(k)])
        meat = summed.T @ summed * (g / max(g - 1, 1)) * ((n - 1) / max(n - k, 1))
    return OLSFit(coef=coef, vcov=bread @ meat @ bread, n=n, n_clusters=g)

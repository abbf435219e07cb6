"""The pyfixest engine of the regression estimators (difference-in-differences, event studies).

One place builds the estimation frame (internal column names, integer codes for units,
periods and clusters, never the caller's frame) and calls :func:`pyfixest.feols` with
CRV1 (cluster-robust) covariance.

Small-sample convention (documented for every result): the CRV1 covariance is
``G/(G-1) * (N-1)/(N-K) * (X'X)^-1 (sum_g s_g s_g') (X'X)^-1`` with ``G`` clusters.
``ssc="nonnested"`` (default; pyfixest's and fixest's default) counts in ``K`` the
slope coefficients plus the fixed effects that are *not* nested in the clusters (with
person-level clustering the person effects are nested and not counted: the convention
of Stata's ``reghdfe`` and ``xtreg, fe vce(cluster)``); ``ssc="full"`` counts every fixed
effect, which is what least squares with explicit unit and time dummies does (statsmodels
``OLS(...).fit(cov_type="cluster")``, Stata ``regress ... i.unit i.time, vce(cluster)``).
The two differ by the factor ``(N-K_nonnested)/(N-K_full)`` on the variance.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from o4o_causal.exceptions import DataError, O4OWarning, format_error

SSC_OPTIONS = ("nonnested", "full")
#: Convergence tolerance of pyfixest's alternating-projections demeaning.
FIXEF_TOL = 1e-10


@dataclass(frozen=True)
class FeolsFit:
    """Coefficients (by name), their CRV1 covariance and sample counts of one pyfixest fit."""

    names: tuple[str, ...]
    coef: np.ndarray
    vcov: np.ndarray
    n: int
    n_clusters: int

    def index(self, name: str) -> int:
        """Return the position of coefficient ``name``."""
        return self.names.index(name)

    def contrast(self, weights: np.ndarray) -> tuple[float, float]:
        """Return value and standard error of ``weights @ coef``."""
        w = np.asarray(weights, dtype=float)
        return float(w @ self.coef), float(np.sqrt(max(float(w @ self.vcov @ w), 0.0)))

    def wald(self, restriction: np.ndarray, *, what: str = "Wald test") -> tuple[float, int, float]:
        """Return the chi-square Wald statistic, degrees of freedom and p-value of ``R coef = 0``."""
        r = np.atleast_2d(np.asarray(restriction, dtype=float))
        return chi2_wald(r @ self.coef, r @ self.vcov @ r.T, n_clusters=self.n_clusters, what=what)


def chi2_wald(value: np.ndarray, vcov: np.ndarray, *, n_clusters: int, what: str) -> tuple[float, int, float]:
    """Return the chi-square Wald statistic, degrees of freedom and p-value of ``value = 0``.

    ``vcov`` is the (cluster-robust) covariance of ``value``. A CRV1 covariance has rank at
    most ``G - 1`` (``G`` clusters); when its rank is below the number of restrictions the
    statistic uses a pseudo-inverse and tests only the estimable projection of the
    restrictions (``df`` = rank): an :class:`~o4o_causal.exceptions.O4OWarning` says so.
    """
    from scipy import stats

    value = np.asarray(value, dtype=float)
    middle = np.atleast_2d(np.asarray(vcov, dtype=float))
    q = int(value.size)
    stat = float(value @ np.linalg.lstsq(middle, value, rcond=None)[0])
    df = int(np.linalg.matrix_rank(middle))
    if df < q:
        warnings.warn(
            f"{what}: the cluster-robust covariance of the {q} restrictions has rank {df} (with {n_clusters} "
            f"clusters a CRV1 covariance has rank at most {max(n_clusters - 1, 0)}); the test uses df = {df} and "
            "tests only a projection of the restrictions. Test fewer restrictions (e.g. a narrower window or "
            "binned endpoints) or use more clusters.",
            O4OWarning,
            stacklevel=3,
        )
    return stat, df, float(stats.chi2.sf(stat, df)) if df else float("nan")


def feols(
    frame: pd.DataFrame,
    *,
    y: str,
    x: Sequence[str],
    fe: Sequence[str],
    cluster: str,
    weights: str | None,
    ssc: str,
    required: Sequence[str],
) -> FeolsFit:
    """Fit ``y ~ x | fe`` by pyfixest with CRV1 errors clustered on ``cluster``.

    ``required`` names coefficients that must be estimable; pyfixest drops collinear
    regressors silently, which here becomes a :class:`DataError`.
    """
    import pyfixest as pf

    rhs = " + ".join(x) if x else "1"
    fml = f"{y} ~ {rhs}" + (f" | {' + '.join(fe)}" if fe else "")
    fit = pf.feols(
        fml,
        data=frame,
        vcov={"CRV1": cluster},
        weights=weights,
        ssc=pf.ssc(k_fixef=ssc),
        fixef_rm="none",
        demeaner=pf.MapDemeaner(fixef_tol=FIXEF_TOL, fixef_maxiter=100_000),
        copy_data=False,
        store_data=False,
    )
    names = tuple(str(n) for n in fit._coefnames)
    missing = [r for r in required if r not in names]
    if missing:
        raise DataError(
            format_error(
                what=f"regressor(s) {', '.join(missing)}",
                expected="identified after the fixed effects",
                found="collinear with the fixed effects (dropped by pyfixest)",
                fix="check that treated and untreated units are observed before and after treatment",
            )
        )
    vcov = np.asarray(fit._vcov, dtype=float)
    return FeolsFit(
        names=names,
        coef=np.asarray(fit._beta_hat, dtype=float),
        vcov=vcov,
        n=int(fit._N),
        n_clusters=int(np.atleast_1d(fit._G)[0]),
    )

"""Omitted-variable-bias formulas in the partial R² parameterisation (Cinelli & Hazlett 2020).

Notation of the paper and of the R package ``sensemakr`` (whose conventions these
functions follow): ``D`` treatment, ``Y`` outcome, ``X`` observed covariates, ``Z`` an
unobserved confounder; ``R2_dz.x`` is the partial R² of ``Z`` with ``D`` given ``X``,
``R2_yz.dx`` that of ``Z`` with ``Y`` given ``D`` and ``X``. For the OLS coefficient of
``D`` with standard error ``se`` and residual degrees of freedom ``dof``, omitting ``Z``
biases the coefficient by ``se * sqrt(dof) * sqrt(R2_yz.dx * R2_dz.x / (1 - R2_dz.x))``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from scipy import stats

from o4o_causal.exceptions import DataError, format_error

FloatArray = npt.NDArray[np.float64]
Numeric = float | Sequence[float] | FloatArray


def _check_dof(dof: float) -> None:
    if not dof > 1:
        raise DataError(
            format_error(what="dof", expected="residual degrees of freedom > 1", found=repr(dof), fix="use more rows")
        )


def partial_r2(t: float, dof: float) -> float:
    """Return the partial R² of a regressor with the outcome from its t-statistic: ``t²/(t² + dof)``."""
    _check_dof(dof)
    return float(t**2 / (t**2 + dof))


def _rv(f: float) -> float:
    return 0.5 * (math.sqrt(f**4 + 4.0 * f**2) - f**2)


def robustness_value(estimate_t: float, dof: float, q: float = 1.0, alpha: float | None = 0.05) -> float:
    """Return the robustness value ``RV_q`` (``alpha=None``) or ``RV_{q,alpha}`` of a t-statistic.

    The robustness value is the partial R² that a confounder needs with both treatment
    and outcome to move the estimate by ``100 q %`` (``RV_q``), or to make it
    insignificant at level ``alpha`` (``RV_{q,alpha}``).

    Parameters
    ----------
    estimate_t
        t-statistic of the treatment coefficient.
    dof
        Residual degrees of freedom of the regression.
    q
        Share of the estimate to explain away (1 = bring it to zero).
    alpha
        Significance level; ``None`` (or 1) gives the point robustness value.

    Returns
    -------
    float
        ``(sqrt(f^4 + 4 f²) - f²) / 2`` with ``f = q |t| / sqrt(dof)`` (point RV); with
        ``alpha``, ``f = q |t| / sqrt(dof) - f*``, ``f* = t_{1-alpha/2, dof-1} / sqrt(dof-1)``
        (0 if negative), and ``(f_q² - f*²) / (1 + f_q²)`` when ``f_q > 1/f*`` (the
        extreme case where the confounder explains all residual outcome variance, as in
        ``sensemakr``).
    """
    _check_dof(dof)
    fq = q * abs(estimate_t) / math.sqrt(dof)
    if alpha is None or alpha >= 1.0:
        return _rv(fq)
    f_crit = abs(float(stats.t.ppf(alpha / 2.0, dof - 1))) / math.sqrt(dof - 1)
    fqa = fq - f_crit
    if fqa <= 0:
        return 0.0
    if fq > 1.0 / f_crit:
        return (fq**2 - f_crit**2) / (1.0 + fq**2)
    return _rv(fqa)


def bias(se: float, dof: float, r2dz_x: Numeric, r2yz_dx: Numeric) -> FloatArray:
    """Return the absolute bias ``se * sqrt(dof) * sqrt(R2_yz.dx * R2_dz.x / (1 - R2_dz.x))``."""
    r2dz, r2yz = np.asarray(r2dz_x, dtype=float), np.asarray(r2yz_dx, dtype=float)
    return np.asarray(se * math.sqrt(dof) * np.sqrt(r2yz * r2dz / (1.0 - r2dz)), dtype=float)


def adjusted_estimate(
    estimate: float, se: float, dof: float, r2dz_x: Numeric, r2yz_dx: Numeric, *, reduce: bool = True
) -> FloatArray:
    """Return the estimate after removing (``reduce``: towards zero) or adding a confounder's bias."""
    b = bias(se, dof, r2dz_x, r2yz_dx)
    return np.asarray(np.sign(estimate) * (abs(estimate) - b if reduce else abs(estimate) + b), dtype=float)


def adjusted_se(se: float, dof: float, r2dz_x: Numeric, r2yz_dx: Numeric) -> FloatArray:
    """Return the SE with the confounder: ``se * sqrt((1 - R2_yz.dx)/(1 - R2_dz.x)) * sqrt(dof/(dof - 1))``."""
    r2dz, r2yz = np.asarray(r2dz_x, dtype=float), np.asarray(r2yz_dx, dtype=float)
    return np.asarray(se * np.sqrt((1.0 - r2yz) / (1.0 - r2dz)) * math.sqrt(dof / (dof - 1)), dtype=float)


def adjusted_ci(
    estimate: float, se: float, dof: float, r2dz_x: Numeric, r2yz_dx: Numeric, *, alpha: float = 0.05
) -> tuple[FloatArray, FloatArray]:
    """Return the interval ``adjusted estimate -/+ t_{1-alpha/2, dof-1} * adjusted SE``."""
    est = adjusted_estimate(estimate, se, dof, r2dz_x, r2yz_dx)
    half = float(stats.t.ppf(1.0 - alpha / 2.0, dof - 1)) * adjusted_se(se, dof, r2dz_x, r2yz_dx)
    return est - half, est + half


def benchmark_bounds(
    r2dxj_x: float, r2yxj_dx: float, kd: Numeric, ky: Numeric | None = None
) -> tuple[FloatArray, FloatArray]:
    """Return bounds on a confounder ``kd`` (``ky``) times as strong as covariate ``X_j``.

    ``R2_dz.x = kd * R2_dxj / (1 - R2_dxj)``;
    ``R2_zxj = kd * R2_dxj² / ((1 - kd * R2_dxj) (1 - R2_dxj))``;
    ``R2_yz.dx = min(1, ((sqrt(ky) + sqrt(R2_zxj)) / sqrt(1 - R2_zxj))² * R2_yxj / (1 - R2_yxj))``
    (Cinelli & Hazlett 2020, sec. 4.4 and appendix; ``sensemakr::ovb_partial_r2_bound``).
    Impossible strengths (``R2_dz.x >= 1``) give NaN.

    Parameters
    ----------
    r2dxj_x
        Partial R² of ``X_j`` with the treatment given the other covariates.
    r2yxj_dx
        Partial R² of ``X_j`` with the outcome given the treatment and the other covariates.
    kd, ky
        Strength multipliers with treatment and outcome (``ky`` defaults to ``kd``).

    Returns
    -------
    tuple of arrays
        ``(R2_dz.x, R2_yz.dx)``, one entry per ``kd``.
    """
    kd_a = np.atleast_1d(np.asarray(kd, dtype=float))
    ky_a = kd_a if ky is None else np.atleast_1d(np.asarray(ky, dtype=float))
    r2dz = kd_a * r2dxj_x / (1.0 - r2dxj_x)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2zxj = kd_a * r2dxj_x**2 / ((1.0 - kd_a * r2dxj_x) * (1.0 - r2dxj_x))
        r2yz = ((np.sqrt(ky_a) + np.sqrt(r2zxj)) / np.sqrt(1.0 - r2zxj)) ** 2 * (r2yxj_dx / (1.0 - r2yxj_dx))
    bad = (r2dz >= 1.0) | (r2zxj >= 1.0) | (r2zxj < 0.0)
    return np.where(bad, np.nan, r2dz), np.where(bad, np.nan, np.minimum(r2yz, 1.0))


__all__ = [
    "adjusted_ci",
    "adjusted_estimate",
    "adjusted_se",
    "benchmark_bounds",
    "bias",
    "partial_r2",
    "robustness_value",
]

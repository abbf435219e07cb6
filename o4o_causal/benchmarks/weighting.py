"""Hajek inverse probability weighting for the ATE or the ATT.

Weights from a logistic propensity score ``e``: ATE ``w1 = D/e, w0 = (1-D)/(1-e)``;
ATT ``w1 = D, w0 = (1-D) e/(1-e)``. The estimate is the difference of weighted means.
Two standard errors:

* ``"m-estimation"`` (default): the influence function of the stacked estimating
  equations (propensity score equations plus the two weighted means), which accounts for
  the estimated propensity model (Lunceford & Davidian 2004); for the ATE it equals
  :func:`o4o_causal.dag.methods.ipw`;
* ``"fixed-weights"``: the sandwich of a weighted regression of ``Y`` on ``D`` with the
  weights treated as known (HC0, as GEE with an independence working correlation). This
  is what Hernán & Robins (*What If*, Program 12.2) report; it is conservative for the
  ATE.

With ``trim``, units with ``e`` outside ``[trim, 1 - trim]`` are dropped after the
propensity model is fitted on everyone (the estimand becomes the effect in the trimmed
population); the influence function keeps the propensity equations of all units.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from o4o_causal import _validate, config
from o4o_causal.benchmarks._common import arrays, check_estimand, check_trim, propensity
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.results import Estimate

VARIANCES = ("m-estimation", "fixed-weights")


def _weights(d: np.ndarray, e: np.ndarray, estimand: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return ``w1, w0`` and their derivatives with respect to the linear predictor of ``e``."""
    if estimand == "ATE":
        w1, w0 = d / e, (1 - d) / (1 - e)
        dw1 = -d * (1 - e) / e
    else:
        w1, w0 = d.astype(float), (1 - d) * e / (1 - e)
        dw1 = np.zeros(d.size)
    dw0 = (1 - d) * e / (1 - e)  # d/d(eta) of (1-D)/(1-e) and of (1-D) e/(1-e) coincide
    return w1, w0, dw1, dw0


def _influence(
    y: np.ndarray, d: np.ndarray, e: np.ndarray, design: np.ndarray, keep: np.ndarray, estimand: str, variance: str
) -> tuple[float, np.ndarray]:
    w1, w0, dw1, dw0 = (np.where(keep, w, 0.0) for w in _weights(d.astype(float), e, estimand))
    mu1, mu0 = np.sum(w1 * y) / np.sum(w1), np.sum(w0 * y) / np.sum(w0)
    m1, m0 = w1.mean(), w0.mean()
    phi = w1 * (y - mu1) / m1 - w0 * (y - mu0) / m0
    if variance == "fixed-weights":
        return float(mu1 - mu0), phi
    grad = (design * (dw1 * (y - mu1))[:, None]).mean(axis=0) / m1 - (design * (dw0 * (y - mu0))[:, None]).mean(
        axis=0
    ) / m0
    hessian = (design * (e * (1 - e))[:, None]).T @ design / e.size
    scores = design * (d - e)[:, None]
    return float(mu1 - mu0), phi + scores @ np.linalg.solve(hessian, grad)


def ipw(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    estimand: str = "ATE",
    variance: Literal["m-estimation", "fixed-weights"] = "m-estimation",
    trim: float | None = None,
    ci_level: float = config.CI_LEVEL,
) -> Estimate:
    """Estimate the ATE or ATT by Hajek inverse probability weighting.

    Parameters
    ----------
    data
        One row per unit (not modified).
    outcome, treatment
        Numeric outcome; binary 0/1 treatment.
    covariates
        Numeric columns of the logistic propensity model (main effects; add powers and
        dummies as columns).
    estimand
        ``"ATE"`` or ``"ATT"``.
    variance
        ``"m-estimation"`` (accounts for the propensity model) or ``"fixed-weights"``
        (weighted-regression sandwich, weights as known; see the module docstring).
    trim
        Drop units with propensity outside ``[trim, 1 - trim]`` (``None``: keep all).
    ci_level
        Level of the normal interval.

    Returns
    -------
    Estimate
        ``method = "ipw"`` (with the variance and trimming in the name); ``n`` counts
        the units kept.

    Raises
    ------
    DataError
        Invalid data, or trimming that empties an arm.
    SpecificationError
        Unknown estimand or variance, or a bad ``trim``.
    """
    level = _validate.ci_level(ci_level)
    check_estimand(estimand)
    cut = check_trim(trim)
    if variance not in VARIANCES:
        raise SpecificationError(
            format_error(what="variance", expected=f"one of {VARIANCES}", found=repr(variance), fix="choose one")
        )
    arr = arrays(data, outcome=outcome, treatment=treatment, covariates=covariates)
    e, design = propensity(arr, treatment)
    keep = np.ones(e.size, dtype=bool) if cut is None else (e >= cut) & (e <= 1 - cut)
    for arm in (0, 1):
        if int((keep & (arr.d == arm)).sum()) < 2:
            raise DataError(
                format_error(
                    what=f"trim={trim}",
                    expected="at least 2 units left in each arm",
                    found=f"{int((keep & (arr.d == arm)).sum())} in arm {arm}",
                    fix="use a smaller trim",
                )
            )
    value, influence = _influence(arr.y, arr.d, e, design, keep, estimand, variance)
    se = float(np.sqrt(np.sum(influence**2)) / e.size)
    method = "ipw" + (" (fixed-weights SE)" if variance == "fixed-weights" else "") + (f" trim={cut:g}" if cut else "")
    return Estimate.from_normal(value, se, n=int(keep.sum()), method=method, ci_level=level, estimand=estimand)

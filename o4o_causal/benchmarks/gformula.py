"""Standardisation (the parametric g-formula) with a linear outcome model of chosen form.

The outcome model is ``Y = b0 + a D + X'b + D X_I'g + e`` fitted by least squares, where
``X_I`` are the covariates interacted with treatment (``interactions``). The
standardised contrast over a target population ``T`` (everyone for the ATE, the
treated for the ATT) is the mean over ``T`` of the predicted difference,

    ``tau = a + mean_T(X_I)'g``,

i.e. a linear combination ``c'beta`` of the coefficients. Its variance is
``c'Vc + sum_{i in T} ((X_Ii - mean_T X_I)'g)^2 / n_T^2``: the coefficient uncertainty
(heteroskedasticity-robust HC1 or model-based) plus the uncertainty of the covariate
means over ``T`` (uncorrelated with the first term because ``E[e | X, D] = 0``; Imbens &
Wooldridge 2009). Without interactions ``tau`` is the treatment coefficient and the second
term vanishes. Hernán & Robins (*What If*, ch. 13) obtain their interval by bootstrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from o4o_causal import _validate, config
from o4o_causal._inference import ols
from o4o_causal.benchmarks._common import arrays, check_estimand
from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.results import Estimate

COVARIANCES = ("HC1", "nonrobust")


def _interaction_columns(covariates: Sequence[str], interactions: Sequence[str] | str) -> list[int]:
    if isinstance(interactions, str) and interactions == "all":
        return list(range(len(covariates)))
    names = _validate.column_names(interactions, "interactions")
    unknown = [n for n in names if n not in covariates]
    if unknown:
        raise SpecificationError(
            format_error(
                what="interactions",
                expected="'all' or a subset of covariates",
                found=", ".join(map(repr, unknown)),
                fix="add them to covariates or remove them from interactions",
            )
        )
    return [list(covariates).index(n) for n in names]


def _vcov(y: np.ndarray, design: np.ndarray, covariance: str) -> tuple[np.ndarray, np.ndarray]:
    if covariance == "HC1":
        fit = ols(y, design)
        return fit.coef, fit.vcov
    bread = np.linalg.pinv(design.T @ design)
    coef = bread @ (design.T @ y)
    resid = y - design @ coef
    sigma2 = float(resid @ resid) / max(design.shape[0] - design.shape[1], 1)
    return coef, sigma2 * bread


def standardize(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    interactions: Sequence[str] | str = "all",
    estimand: str = "ATE",
    covariance: Literal["HC1", "nonrobust"] = "HC1",
    ci_level: float = config.CI_LEVEL,
) -> Estimate:
    """Estimate the ATE or ATT by standardisation over a linear outcome model.

    Parameters
    ----------
    data
        One row per unit (not modified).
    outcome
        Numeric outcome column.
    treatment
        Binary 0/1 treatment column.
    covariates
        Numeric covariate columns entering the outcome model (encode categories and
        powers as columns first).
    interactions
        Covariates interacted with the treatment: ``"all"`` (default, fully interacted:
        separate models per arm), a subset of ``covariates``, or ``()`` (none: the
        treatment coefficient).
    estimand
        ``"ATE"`` (standardise over everyone) or ``"ATT"`` (over the treated).
    covariance
        ``"HC1"`` (heteroskedasticity-robust, default) or ``"nonrobust"`` (model-based
        ``sigma^2 (X'X)^-1``, as ``glm``/``lm`` report).
    ci_level
        Level of the normal interval.

    Returns
    -------
    Estimate
        ``method = "standardisation"`` (``"outcome regression"`` without interactions).

    Raises
    ------
    DataError
        Invalid data (see :func:`o4o_causal.benchmarks._common.arrays`).
    SpecificationError
        Unknown estimand, covariance or interaction names.
    """
    level = _validate.ci_level(ci_level)
    check_estimand(estimand)
    if covariance not in COVARIANCES:
        raise SpecificationError(
            format_error(what="covariance", expected=f"one of {COVARIANCES}", found=repr(covariance), fix="choose one")
        )
    arr = arrays(data, outcome=outcome, treatment=treatment, covariates=covariates)
    cols = _interaction_columns(arr.covariates, interactions)
    d = arr.d.astype(float)
    xi = arr.x[:, cols]
    design = np.column_stack([np.ones(d.size), d, arr.x, d[:, None] * xi])
    coef, vcov = _vcov(arr.y, design, covariance)
    target = np.ones(d.size, dtype=bool) if estimand == "ATE" else arr.d == 1
    means = xi[target].mean(axis=0)
    c = np.zeros(design.shape[1])
    c[1] = 1.0
    c[design.shape[1] - len(cols) :] = means
    g = coef[design.shape[1] - len(cols) :]
    shift = (xi[target] - means) @ g
    variance = float(c @ vcov @ c) + float(np.sum(shift**2)) / int(target.sum()) ** 2
    method = "standardisation" if cols else "outcome regression"
    return Estimate.from_normal(
        float(c @ coef), float(np.sqrt(variance)), n=d.size, method=method, ci_level=level, estimand=estimand
    )

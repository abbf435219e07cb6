"""Tests and descriptions of effect heterogeneity from doubly robust scores.

All inference is least squares on the doubly robust scores ``psi`` with cluster-robust
(CR1) covariance when clusters are given (Semenova & Chernozhukov 2021; Chernozhukov,
Demirer, Duflo & Fernández-Val 2018 "generic ML"). CATE predictions ``tau`` are
cross-fitted over groups of whole municipalities (see :mod:`o4o_causal.dml.forest`), so
regressing ``psi`` on them reuses neither a person's own noise nor their municipality's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from o4o_causal._inference import OLSFit, ols
from o4o_causal.exceptions import SpecificationError, format_error


def _z(ci_level: float) -> float:
    return float(stats.norm.ppf(0.5 + ci_level / 2))


def coef_table(fit: OLSFit, names: Sequence[str], ci_level: float, null: np.ndarray | None = None) -> pd.DataFrame:
    """Return a coefficient table (estimate, se, interval, two-sided p-value against ``null``)."""
    z = _z(ci_level)
    se = fit.se
    ref = np.zeros(len(names)) if null is None else null
    with np.errstate(divide="ignore", invalid="ignore"):
        p = 2 * stats.norm.sf(np.abs((fit.coef - ref) / se))
    return pd.DataFrame(
        {
            "term": list(names),
            "estimate": fit.coef,
            "se": se,
            "ci_low": fit.coef - z * se,
            "ci_high": fit.coef + z * se,
            "p_value": p,
        }
    )


def blp(
    psi: np.ndarray, x: np.ndarray, names: Sequence[str], clusters: np.ndarray | None, ci_level: float
) -> pd.DataFrame:
    """Best linear predictor of the CATE given ``x``: least squares of ``psi`` on centred ``x``.

    The intercept is the ATE; slopes are the linear projection of the CATE on the effect
    modifiers (each holding the others fixed). Constant columns are dropped.
    """
    keep = [j for j in range(x.shape[1]) if np.ptp(x[:, j]) > 0]
    xc = x[:, keep].astype(float) - x[:, keep].astype(float).mean(axis=0)
    fit = ols(psi, np.column_stack([np.ones(psi.size), xc]), clusters)
    return coef_table(fit, ["(ATE)", *[names[j] for j in keep]], ci_level)


def linear_dml(
    y_res: np.ndarray,
    t_res: np.ndarray,
    x: np.ndarray,
    names: Sequence[str],
    clusters: np.ndarray | None,
    ci_level: float,
) -> pd.DataFrame:
    """Fit the final stage of linear DML: ``Y - l = (D - m) (b0 + x'b) + e`` with robust covariance.

    The same estimating equation as EconML's ``LinearDML`` final stage (unweighted), with
    cluster-robust standard errors, which EconML does not provide. The coefficients
    weight persons by ``m(1-m)``: a variance-weighted projection, not the population BLP
    (use :func:`blp` for that).
    """
    design = np.column_stack([np.ones(y_res.size), x.astype(float)]) * t_res[:, None]
    fit = ols(y_res, design, clusters)
    return coef_table(fit, ["(intercept)", *names], ci_level)


def calibration(psi: np.ndarray, tau: np.ndarray, clusters: np.ndarray | None, ci_level: float) -> pd.DataFrame:
    """Calibration test of the CATE predictions: ``psi = b1 + b2 (tau - mean tau) + e``.

    ``b1`` is the ATE; ``b2 = 1`` when the predictions are well calibrated and ``b2 = 0``
    when they carry no information about heterogeneity. Both p-values are reported.
    """
    fit = ols(psi, np.column_stack([np.ones(psi.size), tau - tau.mean()]), clusters)
    table = coef_table(fit, ["ATE (b1)", "heterogeneity loading (b2)"], ci_level)
    table["p_value_b_eq_1"] = 2 * stats.norm.sf(np.abs((fit.coef - 1) / fit.se))
    return table


def quantile_groups(tau: np.ndarray, q: int, seed: int = 0) -> np.ndarray:
    """Return groups 0..q-1 of the CATE predictions by quantile.

    Ties (persons with identical predictions, common with discrete effect modifiers) are
    broken by a seeded random draw, not by row order (which follows municipality order).
    """
    if q < 2:
        raise SpecificationError(format_error(what="q", expected="an integer >= 2", found=str(q), fix="use e.g. q=5"))
    if np.isnan(tau).any():
        raise SpecificationError(
            format_error(
                what="CATE predictions",
                expected="cross-fitted predictions for every person",
                found=f"{int(np.isnan(tau).sum())} missing",
                fix="refit with the default forest options (crossfit_folds >= 2)",
            )
        )
    jitter = np.random.default_rng(seed).random(tau.size)
    order = np.lexsort((jitter, tau))
    ranks = np.empty(tau.size, dtype=np.int64)
    ranks[order] = np.arange(tau.size)
    return np.asarray(ranks * q // tau.size, dtype=np.int64)


def group_means(values: np.ndarray, groups: np.ndarray, clusters: np.ndarray | None) -> tuple[OLSFit, np.ndarray]:
    """Least squares of ``values`` on group dummies (no intercept): group means with joint covariance."""
    levels, codes = np.unique(groups, return_inverse=True)
    design = np.zeros((values.size, levels.size))
    design[np.arange(values.size), codes] = 1.0
    return ols(values, design, clusters), levels


def sorted_effects(
    psi: np.ndarray, tau: np.ndarray, clusters: np.ndarray | None, q: int, ci_level: float, seed: int = 0
) -> pd.DataFrame:
    """Group average effects by quantile of the predicted CATE (GATES), least to most affected.

    ``attrs['top_minus_bottom']`` holds the difference of the extreme groups with its
    standard error and p-value; ``attrs['equality']`` the Wald test that all groups are equal.
    """
    groups = quantile_groups(tau, q, seed)
    fit, levels = group_means(psi, groups, clusters)
    table = coef_table(fit, [f"Q{int(g) + 1}" for g in levels], ci_level)
    table.insert(1, "n", np.bincount(groups, minlength=q)[levels])
    table.insert(2, "mean_predicted", [float(tau[groups == g].mean()) for g in levels])
    w = np.zeros(levels.size)
    w[-1], w[0] = 1.0, -1.0
    diff, se = fit.contrast(w)
    table.attrs["top_minus_bottom"] = {"estimate": diff, "se": se, "p_value": float(2 * stats.norm.sf(abs(diff / se)))}
    table.attrs["equality"] = _equality(fit)
    return table


def _equality(fit: OLSFit, usable: np.ndarray | None = None) -> dict[str, float]:
    """Wald test that all (usable) group means are equal; NaN when the covariance is singular."""
    idx = np.arange(fit.coef.size) if usable is None else np.flatnonzero(usable)
    k = idx.size
    if k < 2:
        return {"chi2": np.nan, "df": float(max(k - 1, 0)), "p_value": np.nan}
    restriction = np.zeros((k - 1, fit.coef.size))
    restriction[:, idx[0]] = -1.0
    restriction[np.arange(k - 1), idx[1:]] = 1.0
    if np.linalg.matrix_rank(restriction @ fit.vcov @ restriction.T) < k - 1:
        return {"chi2": np.nan, "df": float(k - 1), "p_value": np.nan}
    stat, df, p = fit.wald(restriction)
    return {"chi2": stat, "df": float(df), "p_value": p}


def clan(
    frame: pd.DataFrame, tau: np.ndarray, clusters: np.ndarray | None, q: int, ci_level: float, seed: int = 0
) -> pd.DataFrame:
    """Classification analysis: mean characteristics of the most and least affected groups.

    For each numeric column of ``frame``: mean in the top CATE quantile group, mean in the
    bottom group, and their difference with a cluster-robust standard error.
    """
    groups = quantile_groups(tau, q, seed)
    extreme = (groups == 0) | (groups == q - 1)
    top = (groups[extreme] == q - 1).astype(float)
    design = np.column_stack([np.ones(top.size), top])
    cl = None if clusters is None else clusters[extreme]
    z = _z(ci_level)
    rows = []
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]) or isinstance(frame[col].dtype, pd.CategoricalDtype):
            continue
        if frame[col].isna().any():
            continue  # a characteristic with missing values is not described (no silent NaN row)
        v = frame[col].to_numpy(dtype=float)[extreme]
        fit = ols(v, design, cl)
        diff, se = float(fit.coef[1]), float(fit.se[1])
        rows.append(
            {
                "characteristic": col,
                "least_affected": float(fit.coef[0]),
                "most_affected": float(fit.coef[0] + fit.coef[1]),
                "difference": diff,
                "se": se,
                "ci_low": diff - z * se,
                "ci_high": diff + z * se,
                "p_value": float(2 * stats.norm.sf(abs(diff / se))) if se > 0 else np.nan,
            }
        )
    return pd.DataFrame(rows)

"""Uncertainty of type shares and the association of types with person and municipality characteristics.

* :func:`share_interval`: Wilson interval for a share; with clusters, the variance is
  the cluster-robust (linearisation) variance of a ratio, ``G/(G-1) sum_g (y_g - p n_g)^2
  / n^2``, and the Wilson interval uses the effective sample size ``p(1-p)/var``
  (Korn & Graubard's idea for design-based intervals).
* :func:`multinomial_association`: multinomial logit (statsmodels ``MNLogit``) of the
  type on covariates with cluster-robust (municipality) covariance; reported as
  relative risk ratios against a base type or as average marginal effects on each
  type's probability (derivatives averaged over persons, delta method with the
  cluster-robust covariance; statsmodels' discrete-change option ``dummy=True`` fails
  for ``MNLogit`` in 0.14, so 0/1 covariates get derivatives too -- close to the
  discrete change for effects of a few percentage points).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from o4o_causal import config
from o4o_causal.exceptions import DataError, SpecificationError, format_error


def share_interval(
    indicator: np.ndarray, *, groups: np.ndarray | None = None, ci_level: float = config.CI_LEVEL
) -> tuple[float, float, float, float]:
    """Return ``(share, se, ci_low, ci_high)`` of the mean of a 0/1 ``indicator``."""
    y = np.asarray(indicator, dtype=float)
    n = y.size
    p = float(y.mean())
    if groups is None:
        var = p * (1 - p) / n
    else:
        codes, uniq = pd.factorize(pd.Series(groups), sort=False)
        g = len(uniq)
        yg = np.bincount(codes, weights=y, minlength=g)
        ng = np.bincount(codes, minlength=g).astype(float)
        var = g / max(g - 1, 1) * float(((yg - p * ng) ** 2).sum()) / n**2 if g > 1 else float("nan")
    se = float(np.sqrt(var)) if np.isfinite(var) else float("nan")
    z = float(stats.norm.ppf(0.5 + ci_level / 2))
    n_eff = p * (1 - p) / var if np.isfinite(var) and var > 0 else float(n)
    centre = (p + z**2 / (2 * n_eff)) / (1 + z**2 / n_eff)
    half = z / (1 + z**2 / n_eff) * np.sqrt(p * (1 - p) / n_eff + z**2 / (4 * n_eff**2))
    return p, se, float(max(0.0, centre - half)), float(min(1.0, centre + half))


def _design(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    x = frame[list(columns)].copy()
    text = [c for c in x.columns if not pd.api.types.is_numeric_dtype(x[c]) or pd.api.types.is_bool_dtype(x[c])]
    text = [c for c in text if not pd.api.types.is_bool_dtype(x[c])]
    x = pd.get_dummies(x, columns=text, drop_first=True, dtype=float).astype(float)
    constant = [c for c in x.columns if x[c].nunique() < 2]
    if constant:
        raise DataError(
            format_error(
                what=f"covariate(s) {constant}",
                expected="variation across persons",
                found="a constant column",
                fix="drop it (e.g. country within a single-country typology)",
            )
        )
    x.insert(0, "const", 1.0)
    return x


def multinomial_association(
    labels: np.ndarray,
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    names: Sequence[str],
    cluster: np.ndarray | None,
    scale: str = "ame",
    base: int = 0,
    ci_level: float = config.CI_LEVEL,
) -> pd.DataFrame:
    """Fit a multinomial logit of ``labels`` on ``frame[columns]``; return a tidy table.

    Returns
    -------
    DataFrame
        Columns ``type``, ``term``, ``estimate``, ``se``, ``ci_low``, ``ci_high``,
        ``p_value``, ``scale``, ``n``, ``clusters``. ``scale="rrr"``: relative risk
        ratios ``exp(beta)`` of each type against ``names[base]`` (CI by exponentiating
        the coefficient CI); ``scale="ame"``: average marginal effects on the
        probability of every type.
    """
    import statsmodels.api as sm

    if scale not in ("ame", "rrr"):
        raise SpecificationError(
            format_error(what="scale", expected="'ame' or 'rrr'", found=repr(scale), fix="choose one")
        )
    x = _design(frame, columns)
    k = len(names)
    order = [base, *[i for i in range(k) if i != base]]
    recode = np.empty(k, dtype=np.int64)
    recode[order] = np.arange(k)
    y = recode[np.asarray(labels)]
    model = sm.MNLogit(y, x)
    fit_kwargs: dict[str, object] = {"disp": False, "maxiter": 200}
    n_clusters = None
    if cluster is not None:
        codes, uniq = pd.factorize(pd.Series(cluster))
        n_clusters = len(uniq)
        fit_kwargs.update(cov_type="cluster", cov_kwds={"groups": codes})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = model.fit(method="newton", **fit_kwargs)
    z = float(stats.norm.ppf(0.5 + ci_level / 2))
    rows = []
    if scale == "rrr":
        params, bse, pvals = np.asarray(res.params), np.asarray(res.bse), np.asarray(res.pvalues)
        for j in range(k - 1):
            for i, term in enumerate(x.columns):
                if term == "const":
                    continue
                b, s = params[i, j], bse[i, j]
                rows.append(
                    (
                        names[order[j + 1]],
                        term,
                        np.exp(b),
                        s * np.exp(b),
                        np.exp(b - z * s),
                        np.exp(b + z * s),
                        pvals[i, j],
                    )
                )
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            marg = res.get_margeff(at="overall", method="dydx")
        eff, se, pv = np.asarray(marg.margeff), np.asarray(marg.margeff_se), np.asarray(marg.pvalues)
        for j in range(k):
            for i, term in enumerate(x.columns[1:]):
                b, s = eff[i, j], se[i, j]
                rows.append((names[order[j]], term, b, s, b - z * s, b + z * s, pv[i, j]))
    table = pd.DataFrame(rows, columns=["type", "term", "estimate", "se", "ci_low", "ci_high", "p_value"])
    table["scale"] = scale
    table["base"] = names[base] if scale == "rrr" else ""
    table["n"] = len(y)
    table["clusters"] = n_clusters
    return table


__all__ = ["multinomial_association", "share_interval"]

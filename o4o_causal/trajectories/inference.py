"""Uncertainty of type shares and the association of types with person and municipality characteristics.

* :func:`share_interval`: Wilson interval for a share; with clusters, the variance is
  the cluster-robust (linearisation) variance of a ratio, ``G/(G-1) sum_g (y_g - p n_g)^2
  / n^2``, and the Wilson interval uses the effective sample size ``p(1-p)/var``
  (Korn & Graubard's idea for design-based intervals).
* :func:`multinomial_association`: multinomial logit (statsmodels ``MNLogit``) of the
  type on covariates with cluster-robust (municipality) covariance; reported as
  relative risk ratios against a base type or as average marginal effects on each
  type's probability. AMEs of continuous covariates are derivatives averaged over
  persons; of 0/1 covariates and of dummy-coded text covariates *discrete changes*
  (every person's predicted probabilities with the covariate at 1 minus at 0 -- for a
  text covariate: at that level minus at the first level -- averaged); SEs by the
  delta method with a numerical Jacobian and the cluster-robust covariance
  (statsmodels' ``dummy=True`` fails for ``MNLogit`` in 0.14).
  The fit is checked: no convergence, quasi-separation (a coefficient beyond
  :data:`MAX_ABS_COEF` on the log-odds scale: a type (almost) never or always occurs
  with a covariate value) or a (nearly) singular information matrix raise
  :class:`~o4o_causal.exceptions.ConvergenceError` naming the type and covariate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from o4o_causal import config
from o4o_causal.exceptions import ConvergenceError, DataError, DisclosureError, SpecificationError, format_error

#: Largest absolute multinomial-logit coefficient accepted (beyond: quasi-separation).
MAX_ABS_COEF = 15.0
#: Largest condition number of the information matrix accepted.
MAX_CONDITION = 1e12


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
    # at p = 0 or 1 rounding can put the bound a hair past p
    return p, se, float(max(0.0, min(centre - half, p))), float(min(1.0, max(centre + half, p)))


def _design(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Return the design (with ``const``) and, per 0/1 term, the columns of its variable.

    A 0/1 numeric (or boolean) column is its own variable; a text column becomes dummies
    (first level dropped) that form one variable (a discrete change sets them all to 0
    and the term's own to 1).
    """
    parts: list[pd.DataFrame] = []
    discrete: dict[str, list[str]] = {}
    for c in columns:
        col = frame[c]
        if pd.api.types.is_bool_dtype(col):
            parts.append(col.astype(float).to_frame(c))
            discrete[c] = [c]
        elif pd.api.types.is_numeric_dtype(col):
            values = col.astype(float)
            parts.append(values.to_frame(c))
            if set(values.unique().tolist()) <= {0.0, 1.0}:
                discrete[c] = [c]
        else:
            dummies = pd.get_dummies(col, prefix=c, drop_first=True, dtype=float)
            parts.append(dummies)
            for d in dummies.columns:
                discrete[str(d)] = [str(x) for x in dummies.columns]
    x = pd.concat(parts, axis=1).astype(float) if parts else pd.DataFrame(index=frame.index)
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
    rank = int(np.linalg.matrix_rank(x.to_numpy(dtype=float)))
    if rank < x.shape[1]:
        raise DataError(
            format_error(
                what=f"covariates {list(x.columns[1:])}",
                expected="linearly independent columns (with the intercept)",
                found=f"rank {rank} of {x.shape[1]} columns (collinear covariates)",
                fix="drop a covariate that is a combination of the others",
            )
        )
    return x, discrete


def _probabilities(x: np.ndarray, params: np.ndarray) -> np.ndarray:
    eta = np.column_stack([np.zeros(x.shape[0]), x @ params])
    eta -= eta.max(axis=1, keepdims=True)
    p = np.exp(eta)
    return np.asarray(p / p.sum(axis=1, keepdims=True))


def _ames(x: np.ndarray, params: np.ndarray, discrete: list[list[int] | None]) -> np.ndarray:
    """Return AMEs (terms without const x types); ``discrete[j]``: the columns of term j's variable."""
    p = _probabilities(x, params)
    full = np.column_stack([np.zeros(params.shape[0]), params])  # p x k, base column 0
    out = np.empty((x.shape[1] - 1, full.shape[1]))
    for j in range(1, x.shape[1]):
        group = discrete[j]
        if group is None:
            b = full[j]
            out[j - 1] = (p * (b[None, :] - (p @ b)[:, None])).mean(axis=0)
        else:
            x0 = x.copy()
            x0[:, group] = 0.0
            x1 = x0.copy()
            x1[:, j] = 1.0
            out[j - 1] = (_probabilities(x1, params) - _probabilities(x0, params)).mean(axis=0)
    return out


def _jacobian(f: Callable[[np.ndarray], np.ndarray], theta: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of ``f`` at ``theta`` (columns: parameters)."""
    cols = []
    for i in range(theta.size):
        h = 1e-5 * max(1.0, abs(float(theta[i])))
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        cols.append((np.ravel(f(up)) - np.ravel(f(down))) / (2 * h))
    return np.column_stack(cols)


def _check_fit(res: object, model: object, terms: list[str], type_names: list[str]) -> None:
    """Raise :class:`ConvergenceError` unless the multinomial logit is usable."""
    retvals = getattr(res, "mle_retvals", {}) or {}
    params = np.asarray(res.params)  # type: ignore[attr-defined]
    fix = "merge or drop small types (smaller k), drop or recode the covariate, or use fewer covariates"
    big = np.argwhere(~np.isfinite(params) | (np.abs(params) > MAX_ABS_COEF))
    if big.size:
        i, j = (int(v) for v in big[0])
        raise ConvergenceError(
            format_error(
                what=f"multinomial logit: type {type_names[j]!r}, term {terms[i]!r}",
                expected=f"coefficients within +-{MAX_ABS_COEF:g} (log relative risk)",
                found=f"{params[i, j]:.3g}: quasi-separation (the type (almost) never or always occurs "
                f"with this covariate value); {len(big)} such coefficient(s)",
                fix=fix,
            )
        )
    if not retvals.get("converged", True):
        raise ConvergenceError(
            format_error(
                what="multinomial logit",
                expected="a converged fit",
                found=f"no convergence after {retvals.get('iterations', '?')} iterations",
                fix=fix,
            )
        )
    hessian = np.asarray(model.hessian(params.ravel(order="F")))  # type: ignore[attr-defined]
    eig = np.linalg.eigvalsh(-(hessian + hessian.T) / 2)
    bse = np.asarray(res.bse)  # type: ignore[attr-defined]
    if eig.min() <= eig.max() / MAX_CONDITION or not np.isfinite(bse).all():
        raise ConvergenceError(
            format_error(
                what="multinomial logit",
                expected="an invertible information matrix",
                found=f"condition number {eig.max() / max(eig.min(), 1e-300):.3g} (collinear covariates "
                "or a type determined by the covariates)",
                fix=fix,
            )
        )


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
        probability of every type (discrete changes for 0/1 and text covariates).

    Raises
    ------
    DisclosureError
        A type has fewer than the disclosure threshold persons in the model.
    ConvergenceError
        No convergence, quasi-separation or a singular information matrix.
    """
    import statsmodels.api as sm

    if scale not in ("ame", "rrr"):
        raise SpecificationError(
            format_error(what="scale", expected="'ame' or 'rrr'", found=repr(scale), fix="choose one")
        )
    x, discrete = _design(frame, columns)
    k = len(names)
    y_in = np.asarray(labels)
    sizes = np.bincount(y_in, minlength=k)
    small = [names[t] for t in range(k) if sizes[t] < config.DISCLOSURE.threshold]
    if small:
        raise DisclosureError(
            format_error(
                what=f"type(s) {small}",
                expected=f"at least {config.DISCLOSURE.threshold} persons per type in the model",
                found=f"fewer (sizes {sizes.tolist()})",
                fix="choose fewer types (smaller k) or fewer covariates with missing values",
            )
        )
    order = [base, *[i for i in range(k) if i != base]]
    recode = np.empty(k, dtype=np.int64)
    recode[order] = np.arange(k)
    y = recode[y_in]
    model = sm.MNLogit(y, x)
    fit_kwargs: dict[str, object] = {"disp": False, "maxiter": 200}
    n_clusters = None
    if cluster is not None:
        codes, uniq = pd.factorize(pd.Series(cluster))
        n_clusters = len(uniq)
        fit_kwargs.update(cov_type="cluster", cov_kwds={"groups": codes})
    try:
        res = model.fit(method="newton", **fit_kwargs)
    except np.linalg.LinAlgError as err:
        raise ConvergenceError(
            format_error(
                what="multinomial logit",
                expected="an invertible information matrix",
                found=f"a singular one ({err}): a type determined by the covariates, or too few persons",
                fix="merge or drop small types (smaller k), drop or recode covariates",
            )
        ) from err
    _check_fit(res, model, list(x.columns), [names[order[j + 1]] for j in range(k - 1)])
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
        xm = x.to_numpy(dtype=float)
        cols = list(x.columns)
        groups: list[list[int] | None] = [[cols.index(c) for c in discrete[t]] if t in discrete else None for t in cols]
        shape = np.asarray(res.params).shape
        theta = np.asarray(res.params).ravel(order="F")

        def ame(th: np.ndarray) -> np.ndarray:
            return _ames(xm, th.reshape(shape, order="F"), groups)

        eff = ame(theta)
        jac = _jacobian(ame, theta)
        cov = np.asarray(res.cov_params())
        se = np.sqrt(np.clip(np.diag(jac @ cov @ jac.T), 0.0, None)).reshape(eff.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            pv = 2 * stats.norm.sf(np.abs(eff / se))
        for j in range(k):
            for i, term in enumerate(cols[1:]):
                b, s = eff[i, j], se[i, j]
                rows.append((names[order[j]], term, b, s, b - z * s, b + z * s, pv[i, j]))
    table = pd.DataFrame(rows, columns=["type", "term", "estimate", "se", "ci_low", "ci_high", "p_value"])
    table["scale"] = scale
    table["base"] = names[base] if scale == "rrr" else ""
    table["n"] = len(y)
    table["clusters"] = n_clusters
    return table


__all__ = ["MAX_ABS_COEF", "MAX_CONDITION", "multinomial_association", "share_interval"]

"""Estimators behind :func:`o4o_causal.dag.estimate_effect`.

Each function takes the validated frame and an :class:`~o4o_causal.dag.estimate.EffectSpec`
and returns ``(ate, se, n)``. Standard errors come from influence functions summed
within clusters when ``spec.cluster`` is set (cluster-robust), else per unit.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from o4o_causal import config
from o4o_causal._inference import if_se
from o4o_causal.dag.estimate import EffectSpec
from o4o_causal.exceptions import DataError, format_error

PS_CLIP = 1e-3


def _clusters(frame: pd.DataFrame, spec: EffectSpec) -> np.ndarray | None:
    return None if not spec.cluster else pd.factorize(frame[spec.cluster])[0]


def _features(frame: pd.DataFrame, spec: EffectSpec) -> np.ndarray:
    """Return the adjustment columns, plus cluster-mean (Mundlak) features under fixed effects.

    Cluster means are added for columns that vary within clusters (a municipality-level
    column equals its own mean), plus the cluster share treated (the same value for every
    member: a leave-one-out share would reveal each unit's own treatment). Outcome means
    are never used as features (target leakage).
    """
    x = frame[list(spec.adjustment)].to_numpy(dtype=float) if spec.adjustment else np.empty((len(frame), 0))
    if not spec.fixed_effects:
        return x
    codes = pd.factorize(frame[spec.fixed_effects])[0]
    size = np.bincount(codes).astype(float)
    extra = []
    for j in range(x.shape[1]):
        mean = np.bincount(codes, weights=x[:, j])[codes] / size[codes]
        if not np.allclose(mean, x[:, j]):
            extra.append(mean)
    d = frame[spec.treatment].to_numpy(dtype=float)
    extra.append(np.bincount(codes, weights=d)[codes] / size[codes])
    return np.column_stack([x, *extra])


def _trim_mask(e: np.ndarray, spec: EffectSpec) -> np.ndarray:
    if spec.trim is None:
        return np.ones(e.size, dtype=bool)
    return (e >= spec.trim) & (e <= 1 - spec.trim)


def propensity(frame: pd.DataFrame, spec: EffectSpec) -> tuple[np.ndarray, np.ndarray]:
    """Logistic propensity scores and the design matrix (with intercept), by maximum likelihood."""
    import statsmodels.api as sm

    x = _features(frame, spec)
    design = np.column_stack(
        [np.ones(len(frame)), (x - x.mean(axis=0)) / np.where(x.std(axis=0) > 0, x.std(axis=0), 1)]
    )
    d = frame[spec.treatment].to_numpy(dtype=float)
    fit = sm.GLM(d, design, family=sm.families.Binomial()).fit()
    return np.clip(np.asarray(fit.fittedvalues), PS_CLIP, 1 - PS_CLIP), design


def regression(frame: pd.DataFrame, spec: EffectSpec) -> tuple[float, float, int]:
    """Outcome regression with treatment x centred-covariate interactions (g-computation).

    ``Y ~ D + X + D (X - mean X)``: the coefficient of D is the ATE. Fixed effects are
    absorbed and standard errors clustered with pyfixest. The standard error adds the
    uncertainty of the covariate means, ``delta' (X_i - mean X)`` with ``delta`` the
    interaction coefficients (Imbens & Wooldridge 2009), summed within clusters. With
    fixed effects and effects that differ by municipality, the estimand is a
    within-municipality variance-weighted average, not exactly the ATE.
    """
    import pyfixest as pf

    d = frame[spec.treatment].to_numpy(dtype=float)
    data = {"y": frame[spec.outcome].to_numpy(dtype=float), "d": d}
    terms = ["d"]
    for j, col in enumerate(spec.adjustment):
        x = frame[col].to_numpy(dtype=float)
        if np.ptp(x) == 0:
            continue
        data[f"x{j}"] = x
        data[f"dx{j}"] = d * (x - x.mean())
        terms += [f"x{j}", f"dx{j}"]
    formula = "y ~ " + " + ".join(terms)
    if spec.fixed_effects:
        data["fe"] = pd.factorize(frame[spec.fixed_effects])[0]
        formula += " | fe"
    if spec.cluster:
        data["cl"] = pd.factorize(frame[spec.cluster])[0]
    vcov: str | dict[str, str] = {"CRV1": "cl"} if spec.cluster else "hetero"
    fit = pf.feols(formula, data=pd.DataFrame(data), vcov=vcov)
    coef = fit.coef()
    shift = np.zeros(len(frame))
    for j, col in enumerate(spec.adjustment):
        if f"dx{j}" in coef.index:
            x = frame[col].to_numpy(dtype=float)
            shift += float(coef[f"dx{j}"]) * (x - x.mean())
    extra = if_se(shift, _clusters(frame, spec))
    return float(coef["d"]), float(np.hypot(float(fit.se()["d"]), extra)), len(frame)


def ipw(frame: pd.DataFrame, spec: EffectSpec) -> tuple[float, float, int]:
    """Hajek inverse probability weighting; SE from the M-estimation influence function.

    The influence function includes the estimation of the logistic propensity model.
    """
    e_all, design_all = propensity(frame, spec)
    keep = _trim_mask(e_all, spec)
    e, design = e_all[keep], design_all[keep]
    d = frame[spec.treatment].to_numpy(dtype=float)[keep]
    y = frame[spec.outcome].to_numpy(dtype=float)[keep]
    w1, w0 = d / e, (1 - d) / (1 - e)
    mu1, mu0 = np.sum(w1 * y) / np.sum(w1), np.sum(w0 * y) / np.sum(w0)
    m1, m0 = w1.mean(), w0.mean()
    phi = w1 * (y - mu1) / m1 - w0 * (y - mu0) / m0
    grad = (
        -(design * (d * (y - mu1) * (1 - e) / e)[:, None]).mean(axis=0) / m1
        - (design * ((1 - d) * (y - mu0) * e / (1 - e))[:, None]).mean(axis=0) / m0
    )
    hessian = (design * (e * (1 - e))[:, None]).T @ design / len(e)
    scores = design * (d - e)[:, None]
    influence = phi + scores @ np.linalg.solve(hessian, grad)
    clusters = _clusters(frame, spec)
    return float(mu1 - mu0), if_se(influence, None if clusters is None else clusters[keep]), int(keep.sum())


def _nearest(sorted_e: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    """Return indices (into sorted_e) of the k nearest values for each query (1-D, O(n log n))."""
    n = sorted_e.size
    pos = np.searchsorted(sorted_e, query)
    lo, hi = pos - 1, pos
    out = np.empty((query.size, k), dtype=np.int64)
    for j in range(k):
        left_ok = lo >= 0
        right_ok = hi < n
        dl = np.where(left_ok, query - sorted_e[np.clip(lo, 0, n - 1)], np.inf)
        dr = np.where(right_ok, sorted_e[np.clip(hi, 0, n - 1)] - query, np.inf)
        take_left = dl <= dr
        out[:, j] = np.where(take_left, lo, hi)
        lo = np.where(take_left, lo - 1, lo)
        hi = np.where(take_left, hi, hi + 1)
    return out


def matching(frame: pd.DataFrame, spec: EffectSpec) -> tuple[float, float, int]:
    """Nearest-neighbour matching on the propensity score (ATE, with replacement).

    Every unit's missing potential outcome is the mean outcome of its ``n_neighbors``
    (default 1) nearest units of the other arm; ties in the score are broken at random
    (seeded). Variance of Abadie & Imbens (2006): ``n^-2 sum (tau_i - tau)^2`` (summed
    within clusters) ``+ n^-2 sum [(K/M)^2 + (2M-1)/M K/M] sigma_i^2`` with K the times a
    unit is used as a match and sigma_i^2 from matching within the same arm. Propensity
    estimation is ignored (conservative for the ATE, Abadie & Imbens 2016).
    """
    m = int(spec.options.get("n_neighbors", 1))
    e_all, _ = propensity(frame, spec)
    keep = _trim_mask(e_all, spec)
    # ties in the score (discrete covariates) are broken at random, seeded
    jitter = np.random.default_rng(spec.seed).uniform(-1e-9, 1e-9, int(keep.sum()))
    e = e_all[keep] + jitter
    d = frame[spec.treatment].to_numpy()[keep] == 1
    y = frame[spec.outcome].to_numpy(dtype=float)[keep]
    for arm, label in ((True, "treated"), (False, "untreated")):
        if int((d == arm).sum()) < max(m, 2):
            raise DataError(
                format_error(
                    what=f"{label} arm for matching",
                    expected=f"at least {max(m, 2)} units (n_neighbors={m})",
                    found=f"{int((d == arm).sum())}",
                    fix="use another method or more data",
                )
            )
    imputed = np.empty(e.size)
    used = np.zeros(e.size)
    resid = np.empty(e.size)
    for arm in (True, False):
        donors = np.flatnonzero(d != arm)
        order = donors[np.argsort(e[donors], kind="stable")]
        units = np.flatnonzero(d == arm)
        idx = order[_nearest(e[order], e[units], m)]
        imputed[units] = y[idx].mean(axis=1)
        np.add.at(used, idx.ravel(), 1.0)
        same = np.flatnonzero(d == arm)
        same_sorted = same[np.argsort(e[same], kind="stable")]
        pair = same_sorted[_nearest(e[same_sorted], e[same], 2)]
        neighbour = np.where(pair[:, 0] == same, pair[:, 1], pair[:, 0])  # never the unit itself
        resid[same] = (y[same] - y[neighbour]) / np.sqrt(2.0)
    tau_i = np.where(d, y - imputed, imputed - y)
    ate = float(tau_i.mean())
    n = e.size
    clusters = _clusters(frame, spec)
    cl = None if clusters is None else clusters[keep]
    # Abadie & Imbens (2006): heterogeneity term (clustered) + matching-noise term
    k = used / m
    noise = np.sum((k**2 + (2 * m - 1) / m * k) * resid**2) / n**2
    var = if_se(tau_i - ate, cl) ** 2 + noise
    return ate, float(np.sqrt(var)), n


def _lgbm(kind: str, seed: int, options: dict[str, object]) -> object:
    import lightgbm as lgb

    params: dict[str, Any] = {
        "n_estimators": 300,
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_child_samples": 50,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "random_state": seed,
        "n_jobs": config.threads(),
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }
    params.update(dict(options.get("lgbm_params", {})))  # type: ignore[call-overload]
    return lgb.LGBMClassifier(**params) if kind == "classifier" else lgb.LGBMRegressor(**params)


def dml(frame: pd.DataFrame, spec: EffectSpec) -> tuple[float, float, int]:
    """Double machine learning for the ATE (interactive model, doubly robust score).

    LightGBM nuisance models (propensity; outcome per arm), K-fold cross-fitting with
    folds made of whole clusters when ``spec.cluster`` is set, every model seeded.
    """
    from sklearn.model_selection import GroupKFold, KFold

    x = _features(frame, spec)
    if x.shape[1] == 0:
        x = np.zeros((len(frame), 1))
    d = frame[spec.treatment].to_numpy(dtype=int)
    y = frame[spec.outcome].to_numpy(dtype=float)
    folds = int(spec.options.get("folds", 5))
    clusters = _clusters(frame, spec)
    if clusters is not None and np.unique(clusters).size < folds:
        raise DataError(
            format_error(
                what=f"cluster column {spec.cluster!r}",
                expected=f"at least {folds} clusters for {folds}-fold grouped cross-fitting",
                found=f"{np.unique(clusters).size}",
                fix="reduce method_options={'folds': ...} or drop cluster",
            )
        )
    splitter = (
        GroupKFold(n_splits=folds) if clusters is not None else KFold(folds, shuffle=True, random_state=spec.seed)
    )
    g1, g0, m = np.empty(len(y)), np.empty(len(y)), np.empty(len(y))
    for k, (train, test) in enumerate(splitter.split(x, d, groups=clusters)):
        seed = spec.seed + 101 * k
        prop = _lgbm("classifier", seed, spec.options).fit(x[train], d[train])  # type: ignore[attr-defined]
        m[test] = prop.predict_proba(x[test])[:, 1]
        for arm, target in ((1, g1), (0, g0)):
            rows = train[d[train] == arm]
            model = _lgbm("regressor", seed + arm + 1, spec.options).fit(x[rows], y[rows])  # type: ignore[attr-defined]
            target[test] = model.predict(x[test])
    m = np.clip(m, 0.01, 0.99)
    keep = _trim_mask(m, spec)
    score = g1 - g0 + d * (y - g1) / m - (1 - d) * (y - g0) / (1 - m)
    ate = float(score[keep].mean())
    return ate, if_se(score[keep] - ate, None if clusters is None else clusters[keep]), int(keep.sum())

"""Validation of the inputs of :func:`~o4o_causal.dml.estimate_cate` and the design matrices.

Effect modifiers ``X`` must be numeric (their meaning is part of the result); text or
categorical *controls* are expanded into dummies (first level dropped) because only the
nuisance models see them. With ``cluster`` and ``cluster_means=True`` the cluster mean of
every numeric column that varies within clusters is added to the controls (the
Mundlak device: it absorbs municipality-level confounding that is correlated with the
composition of the municipality). Control matrices are float32 (the nuisance learners
bin features anyway; it halves memory at register size; integers above 2^24 such as
yyyymmdd dates lose precision: recode them); effect modifiers stay float64.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from o4o_causal._validate import (
    binary_treatment,
    column_names,
    require_columns,
    require_frame,
    require_no_missing,
    require_numeric,
)
from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError, format_error

#: Below this many clusters a warning says that cluster-robust intervals are optimistic.
FEW_CLUSTERS = 30


@dataclass(frozen=True)
class Prepared:
    """Arrays for estimation (read-only) and the names behind them."""

    y: np.ndarray
    d: np.ndarray
    x: np.ndarray
    w: np.ndarray
    clusters: np.ndarray | None
    x_names: tuple[str, ...]
    w_names: tuple[str, ...]
    kept: pd.DataFrame


def _unique(names: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(names))


def _finite(values: np.ndarray, names: Sequence[str], what: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        col = names[int(np.flatnonzero(bad.any(axis=0))[0])]
        raise DataError(
            format_error(
                what=f"{what} column {col!r}",
                expected="finite values",
                found=f"{int(bad.sum())} infinite values",
                fix="recode or drop them",
            )
        )


def _cluster_codes(data: pd.DataFrame, cluster: str, d: np.ndarray, folds: int) -> np.ndarray:
    codes = pd.factorize(data[cluster], sort=True)[0].astype(np.int64)
    g = int(codes.max()) + 1
    if g < max(2, folds):
        raise DataError(
            format_error(
                what=f"cluster column {cluster!r}",
                expected=f"at least {max(2, folds)} clusters ({folds}-fold cross-fitting keeps clusters whole)",
                found=f"{g} cluster{'s' if g != 1 else ''}",
                fix="use a finer cluster, fewer folds (folds=...), or cluster=None",
            )
        )
    if g < FEW_CLUSTERS:
        warnings.warn(
            f"only {g} clusters in {cluster!r}: cluster-robust standard errors are too small with few "
            f"clusters (fewer than {FEW_CLUSTERS}), especially of unequal size; read intervals as optimistic.",
            O4OWarning,
            stacklevel=4,
        )
    treated = np.bincount(codes, weights=d, minlength=g)
    size = np.bincount(codes, minlength=g)
    one_arm = (treated == 0) | (treated == size)
    if one_arm.any():
        warnings.warn(
            f"{int(one_arm.sum())} of {g} clusters in {cluster!r} have only one treatment arm "
            f"({int(size[one_arm].sum())} persons): their effects rest on the nuisance models "
            "(extrapolation across clusters); check the propensity overlap in nuisance_report().",
            O4OWarning,
            stacklevel=4,
        )
    return codes


def prepare(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    effect_modifiers: Sequence[str] | str,
    controls: Sequence[str] | str | None,
    cluster: str | None,
    cluster_means: bool,
    folds: int,
    keep: Sequence[str] | str | None,
) -> Prepared:
    """Validate the inputs and build read-only design matrices (never mutates ``data``)."""
    frame = require_frame(data)
    x_names = column_names(effect_modifiers, "effect_modifiers")
    if not x_names:
        raise SpecificationError(
            format_error(
                what="effect_modifiers",
                expected="at least one column",
                found="none",
                fix="name the characteristics the effect may vary with",
            )
        )
    w_raw = [c for c in column_names(controls, "controls") if c not in x_names]
    kept_names = column_names(keep, "keep")
    clash = {outcome, treatment} & set(x_names + w_raw)
    if clash:
        raise SpecificationError(
            format_error(
                what="effect_modifiers/controls",
                expected="neither the outcome nor the treatment",
                found=", ".join(sorted(clash)),
                fix="remove them from the covariates",
            )
        )
    used = _unique([outcome, treatment, *x_names, *w_raw, *([cluster] if cluster else [])])
    require_columns(frame, [*used, *kept_names])
    require_no_missing(frame, used)
    d = binary_treatment(frame, treatment)
    require_numeric(frame, [outcome], "outcome")
    require_numeric(
        frame, x_names, "effect modifier", note="effect modifiers are interpreted, so they are not encoded silently"
    )
    y = frame[outcome].to_numpy(dtype=float, copy=True)
    x = frame[x_names].to_numpy(dtype=np.float64, copy=True)
    _finite(x, x_names, "effect modifier")
    _finite(y[:, None], [outcome], "outcome")
    categorical = [c for c in w_raw if not pd.api.types.is_numeric_dtype(frame[c]) or frame[c].dtype == "category"]
    w_frame = frame[[c for c in w_raw if c not in categorical]].astype(np.float32)
    if categorical:
        dummies = pd.get_dummies(frame[categorical].astype(str), prefix=categorical, drop_first=True, dtype=np.float32)
        w_frame = pd.concat([w_frame, dummies], axis=1)
    w = w_frame.to_numpy(dtype=np.float32, copy=True)
    _finite(w, list(w_frame.columns), "control")
    w_names = list(w_frame.columns)
    codes = None
    if cluster:
        codes = _cluster_codes(frame, cluster, d, folds)
        if cluster_means:
            means, mean_names = _cluster_means(np.column_stack([x, w]), [*x_names, *w_names], codes)
            w = np.column_stack([w, means]).astype(np.float32)
            w_names += mean_names
    kept = frame[_unique([*x_names, *kept_names, *([cluster] if cluster else [])])].copy()
    kept_missing = [c for c in kept_names if kept[c].isna().any()]
    if kept_missing:
        warnings.warn(
            f"kept column(s) {kept_missing} have missing values: gate() refuses them as groups until filled.",
            O4OWarning,
            stacklevel=3,
        )
    for arr in (y, d, x, w, codes):
        if arr is not None:
            arr.flags.writeable = False
    return Prepared(y, d, x, w, codes, tuple(x_names), tuple(w_names), kept)


def _cluster_means(values: np.ndarray, names: Sequence[str], codes: np.ndarray) -> tuple[np.ndarray, list[str]]:
    size = np.bincount(codes).astype(float)
    columns, out_names = [], []
    for j, name in enumerate(names):
        col = values[:, j].astype(float)
        mean = (np.bincount(codes, weights=col) / size)[codes]
        if not np.allclose(mean, col):
            columns.append(mean)
            out_names.append(f"{name}__cluster_mean")
    if not columns:
        return np.empty((codes.size, 0), dtype=np.float32), []
    return np.column_stack(columns).astype(np.float32), out_names

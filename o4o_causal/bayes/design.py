"""Validation and the design of :func:`~o4o_causal.bayes.fit_multilevel`.

The linear predictor of person ``i`` in municipality ``m`` of country ``c`` is

    eta = alpha + a_c + x_i' beta + u_m + D_i (theta + t_c + z_i' delta + v_m)

with ``x`` the covariates (centred), ``z`` the treatment modifiers (person-level effect
modifiers and municipality configuration conditions -- the cross-level interactions --
centred), ``a_c, t_c`` country fixed effects (reference: the first country), and
``u_m = sigma_u * e_m``, ``v_m = sigma_v * f_m`` non-centred municipality intercepts and
treatment effects.

**Sufficient statistics.** When every person-level covariate and modifier is discrete,
persons with the same municipality, treatment and covariate pattern share ``eta``: the
Bernoulli likelihood of the persons equals a binomial likelihood of the cell (up to a
constant), and the normal likelihood depends on the cell's count, sum and sum of
squares. Cells replace persons and the cost no longer grows with n. Municipality-level
columns (constant within municipality) may be continuous.
"""

from __future__ import annotations

import hashlib
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

#: A person-level column with at most this many distinct values counts as discrete.
MAX_LEVELS = 20
FAMILIES = ("bernoulli", "normal")


@dataclass(frozen=True)
class Design:
    """Rows (persons or cells) with everything the model needs; arrays are read-only."""

    family: str
    collapsed: bool
    n_persons: int
    weight: np.ndarray  # persons per row
    y: np.ndarray  # bernoulli: successes; normal: sum of y
    yc: np.ndarray | None  # normal, collapsed: sum of (y - y_mean)
    y2: np.ndarray | None  # normal, collapsed: sum of (y - y_mean)^2
    d: np.ndarray
    x: np.ndarray
    z: np.ndarray
    country: np.ndarray
    municipality: np.ndarray
    muni_country: np.ndarray
    countries: tuple[str, ...]
    municipalities: tuple[str, ...]
    covariates: tuple[str, ...]
    modifiers: tuple[str, ...]
    y_mean: float
    y_sd: float
    person_row: np.ndarray  # row (cell or person) of every person, in input order
    person_y: np.ndarray  # outcome of every person (person-level LOO)
    fingerprint: str  # hash of (municipality, treatment, outcome) per person: same persons, same order


def _family(y: pd.Series, family: str, outcome: str) -> str:
    values = pd.unique(y)
    binary = set(np.asarray(values).tolist()) <= {0, 1}
    if family == "auto":
        return "bernoulli" if binary else "normal"
    if family not in FAMILIES:
        raise SpecificationError(
            format_error(what="family", expected=f"'auto' or one of {FAMILIES}", found=repr(family), fix="pick one")
        )
    if family == "bernoulli" and not binary:
        shown = ", ".join(map(str, sorted(values.tolist())[:5]))
        raise DataError(
            format_error(
                what=f"outcome column {outcome!r}",
                expected="0/1 values for the logistic (bernoulli) family",
                found=f"values {shown}{', ...' if len(values) > 5 else ''}",
                fix="recode the outcome to 0/1 or use family='normal'",
            )
        )
    return family


def _within_constant(frame: pd.DataFrame, cols: Sequence[str], muni: str) -> list[str]:
    """Return the columns of ``cols`` that are constant within every municipality."""
    cols = list(dict.fromkeys(cols))
    if not cols:
        return []
    spread = frame.groupby(muni, sort=False)[cols].nunique()
    return [c for c in cols if int(spread[c].max()) <= 1]


def build(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str] | str | None,
    modifiers: Sequence[str] | str | None,
    levels: tuple[str, str],
    family: str,
    sufficient_statistics: bool | str,
) -> Design:
    """Validate ``data`` and return the model design (never mutates ``data``)."""
    frame = require_frame(data)
    if not (isinstance(levels, tuple | list) and len(levels) == 2 and all(isinstance(v, str) for v in levels)):
        raise SpecificationError(
            format_error(
                what="levels",
                expected="(country column, municipality column)",
                found=repr(levels),
                fix="e.g. levels=('country', 'municipality_id')",
            )
        )
    country_col, muni_col = levels
    cov, mod = column_names(covariates, "covariates"), column_names(modifiers, "modifiers")
    used = list(dict.fromkeys([outcome, treatment, country_col, muni_col, *cov, *mod]))
    require_columns(frame, used)
    require_no_missing(frame, used)
    d = binary_treatment(frame, treatment)
    fam = _family(frame[outcome], family, outcome)
    require_numeric(frame, [outcome, *cov, *mod], "outcome/covariate/modifier")
    nested = frame.groupby(muni_col, sort=False)[country_col].nunique()
    if int(nested.max()) > 1:
        raise DataError(
            format_error(
                what=f"levels {levels!r}",
                expected="every municipality within one country",
                found=f"{int((nested > 1).sum())} municipalities in several countries",
                fix="use unique municipality codes (e.g. prefix with the country)",
            )
        )
    _warn_one_arm(frame, muni_col, d)
    municipal = set(_within_constant(frame, [*cov, *mod], muni_col))
    person_level = [c for c in [*cov, *mod] if c not in municipal]
    continuous = [c for c in person_level if frame[c].nunique() > MAX_LEVELS]
    collapse = _decide(sufficient_statistics, continuous)
    x = _centred(frame, cov)
    z = _centred(frame, mod)
    country, countries = pd.factorize(frame[country_col], sort=True)
    muni, munis = pd.factorize(frame[muni_col], sort=True)
    muni_country = np.zeros(len(munis), dtype=np.int64)
    muni_country[muni] = country
    y = frame[outcome].to_numpy(dtype=float)
    rows = _Rows(
        np.ones(len(frame)), y, None, None, d.astype(float), x, z, country.astype(np.int64), muni.astype(np.int64)
    )
    person_row = np.arange(len(frame))
    if collapse:
        rows, person_row = _collapse(rows, fam, float(y.mean()))
    elif continuous and sufficient_statistics == "auto":
        warnings.warn(
            f"continuous person-level column(s) {continuous} (> {MAX_LEVELS} values): fitting at the person "
            "level, which is slow for large cohorts; discretise them (e.g. pd.cut into bands) to use cells.",
            O4OWarning,
            stacklevel=3,
        )
    _warn_modifiers_without_main_effect(cov, mod)
    fingerprint = hashlib.sha256(
        np.ascontiguousarray(muni.astype(np.int64)).tobytes() + d.astype(np.int8).tobytes() + y.tobytes()
    ).hexdigest()
    for arr in (*rows.arrays(), muni_country, person_row, y):
        arr.flags.writeable = False
    return Design(
        family=fam,
        collapsed=collapse,
        n_persons=len(frame),
        weight=rows.weight,
        y=rows.y,
        yc=rows.yc,
        y2=rows.y2,
        d=rows.d,
        x=rows.x,
        z=rows.z,
        country=rows.country,
        municipality=rows.muni,
        muni_country=muni_country,
        countries=tuple(map(str, countries)),
        municipalities=tuple(map(str, munis)),
        covariates=tuple(cov),
        modifiers=tuple(mod),
        y_mean=float(y.mean()),
        y_sd=float(y.std()) or 1.0,
        person_row=person_row,
        person_y=y,
        fingerprint=fingerprint,
    )


def _warn_modifiers_without_main_effect(cov: Sequence[str], mod: Sequence[str]) -> None:
    missing = [m for m in mod if m not in cov]
    if missing:
        warnings.warn(
            f"modifier(s) {missing} are not covariates: their main effect is fixed at zero, which biases "
            "their interaction with the treatment; add them to covariates.",
            O4OWarning,
            stacklevel=4,
        )


def _decide(requested: bool | str, continuous: list[str]) -> bool:
    if requested == "auto":
        return not continuous
    if requested is True and continuous:
        raise SpecificationError(
            format_error(
                what="sufficient_statistics=True",
                expected="discrete person-level covariates and modifiers",
                found=f"continuous columns {continuous} (> {MAX_LEVELS} distinct values)",
                fix="discretise them (e.g. pd.cut into bands) or use sufficient_statistics='auto'",
            )
        )
    if requested not in (True, False):
        raise SpecificationError(
            format_error(
                what="sufficient_statistics", expected="True, False or 'auto'", found=repr(requested), fix="use 'auto'"
            )
        )
    return bool(requested)


def _warn_one_arm(frame: pd.DataFrame, muni_col: str, d: np.ndarray) -> None:
    share = pd.Series(d, index=frame.index).groupby(frame[muni_col]).mean()
    one_arm = share.isin([0.0, 1.0])
    if one_arm.any():
        warnings.warn(
            f"{int(one_arm.sum())} of {len(share)} municipalities have only one treatment arm: their "
            "treatment effects are informed by the prior and the other municipalities only (partial pooling).",
            O4OWarning,
            stacklevel=4,
        )


def _centred(frame: pd.DataFrame, cols: Sequence[str]) -> np.ndarray:
    if not cols:
        return np.zeros((len(frame), 0))
    values = frame[list(cols)].to_numpy(dtype=float)
    constant = [c for c, sd in zip(cols, values.std(axis=0), strict=True) if sd == 0]
    if constant:
        raise DataError(
            format_error(
                what=f"column{'s' if len(constant) > 1 else ''} {constant}",
                expected="variation (a constant column is not identified next to the intercept)",
                found="a single value",
                fix="drop it",
            )
        )
    return np.asarray(values - values.mean(axis=0))


@dataclass
class _Rows:
    weight: np.ndarray
    y: np.ndarray
    yc: np.ndarray | None
    y2: np.ndarray | None
    d: np.ndarray
    x: np.ndarray
    z: np.ndarray
    country: np.ndarray
    muni: np.ndarray

    def arrays(self) -> list[np.ndarray]:
        arrays = (self.weight, self.y, self.yc, self.y2, self.d, self.x, self.z, self.country, self.muni)
        return [a for a in arrays if a is not None]


def _collapse(rows: _Rows, family: str, y_mean: float) -> tuple[_Rows, np.ndarray]:
    """Group persons into cells (municipality x treatment x covariate pattern); return cells and person -> cell.

    Normal outcomes keep the count, the sum and the sum of squares of ``y - y_mean`` per cell
    (centring keeps the sums exact for outcomes with large means, e.g. earnings).
    """
    key = pd.DataFrame(np.column_stack([rows.muni, rows.d, rows.x, rows.z]))
    codes, _ = pd.factorize(pd.MultiIndex.from_frame(key), sort=True)
    first = np.unique(codes, return_index=True)[1]
    k = first.size
    weight = np.bincount(codes, minlength=k).astype(float)
    total = np.bincount(codes, weights=rows.y, minlength=k)
    yc = y2 = None
    if family == "normal":
        centred = rows.y - y_mean
        yc = np.bincount(codes, weights=centred, minlength=k)
        y2 = np.bincount(codes, weights=centred**2, minlength=k)
    cells = _Rows(
        weight, total, yc, y2, rows.d[first], rows.x[first], rows.z[first], rows.country[first], rows.muni[first]
    )
    return cells, np.asarray(codes, dtype=np.int64)

"""Calibration of raw values into set memberships (direct method and crisp sets).

Direct method (Ragin 2008, ch. 5; R ``QCA::calibrate(type = "fuzzy", logistic = TRUE)``):
a value's distance from the crossover is scaled to log-odds of membership so that the
exclusion anchor maps to ``1 - inclusion_degree``, the crossover to 0.5 and the
inclusion anchor to ``inclusion_degree`` (default 0.95, as R's ``idm = 0.95``; log-odds
``+-log(19) = +-2.944``). Ragin's fsQCA software uses log-odds +-3 instead (0.0474 / 0.9526):
pass ``inclusion_degree=expit(3)`` to reproduce it. Given in descending order
(exclusion > crossover > inclusion), the anchors define a decreasing set ("not high").

Values exactly at the crossover get membership 0.5: such cases belong to no
truth-table row (neither in nor out of the set), so a warning is issued.

Memberships are not rounded or truncated: a value far beyond an anchor gets a
membership such as ``1e-9`` rather than exactly 0 (R's ``calibrate`` sets
memberships below 0.0001 to 0 and above 0.9999 to 1). The difference changes sums of
memberships by less than 0.0001 per case; round the result (``np.round(m, 4)``) to
reproduce R's figures to the last digit.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Literal, overload

import numpy as np
import pandas as pd

from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError, format_error
from o4o_causal.qca._sets import real_number

Method = Literal["direct", "crisp"]


def _values(values: object, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(
            format_error(
                what=what, expected="numeric values", found=type(values).__name__, fix="convert to numbers first"
            )
        ) from exc
    if arr.ndim != 1 or arr.size == 0:
        raise DataError(
            format_error(
                what=what, expected="a non-empty 1-D sequence", found=f"shape {arr.shape}", fix="pass a column"
            )
        )
    n_missing = int(np.isnan(arr).sum())
    if n_missing:
        raise DataError(
            format_error(
                what=what,
                expected="no missing values",
                found=f"{n_missing} missing of {arr.size}",
                fix="drop or impute missing values before calibrating",
            )
        )
    if not np.isfinite(arr).all():
        raise DataError(format_error(what=what, expected="finite values", found="infinite values", fix="recode them"))
    return arr


def _thresholds(thresholds: object, method: str, what: str) -> list[float]:
    if isinstance(thresholds, str) or not isinstance(thresholds, Sequence | np.ndarray):
        raise SpecificationError(
            format_error(
                what=f"thresholds of {what}",
                expected="a sequence of numbers",
                found=repr(thresholds),
                fix="pass e.g. thresholds=(exclusion, crossover, inclusion)",
            )
        )
    try:
        th = [float(t) for t in thresholds]
    except (TypeError, ValueError) as exc:
        raise SpecificationError(
            format_error(what=f"thresholds of {what}", expected="numbers", found=repr(thresholds), fix="pass numbers")
        ) from exc
    if not all(math.isfinite(t) for t in th):
        raise SpecificationError(
            format_error(what=f"thresholds of {what}", expected="finite numbers", found=repr(th), fix="pass numbers")
        )
    if method == "direct":
        if len(th) != 3:
            raise SpecificationError(
                format_error(
                    what=f"thresholds of {what}",
                    expected="three anchors (exclusion, crossover, inclusion) for the direct method",
                    found=f"{len(th)} value(s) {th}",
                    fix="pass thresholds=(exclusion, crossover, inclusion), or method='crisp'",
                )
            )
        e, c, i = th
        if not (e < c < i or e > c > i):
            raise SpecificationError(
                format_error(
                    what=f"thresholds of {what}",
                    expected="distinct anchors ordered exclusion < crossover < inclusion (increasing set) "
                    "or exclusion > crossover > inclusion (decreasing set)",
                    found=f"({e:g}, {c:g}, {i:g})",
                    fix="reorder the anchors; the crossover must lie strictly between the other two",
                )
            )
    else:
        if not th:
            raise SpecificationError(
                format_error(
                    what=f"thresholds of {what}", expected="at least one threshold", found="none", fix="add one"
                )
            )
        if any(b <= a for a, b in itertools.pairwise(th)):
            raise SpecificationError(
                format_error(
                    what=f"thresholds of {what}",
                    expected="distinct thresholds in increasing order for crisp calibration",
                    found=repr(th),
                    fix="sort the thresholds; for a decreasing crisp set use 1 - calibrate(...)",
                )
            )
    return th


@overload
def calibrate(
    values: pd.Series,
    *,
    thresholds: Sequence[float],
    method: Method = "direct",
    inclusion_degree: float = 0.95,
) -> pd.Series: ...


@overload
def calibrate(
    values: Sequence[float] | np.ndarray,
    *,
    thresholds: Sequence[float],
    method: Method = "direct",
    inclusion_degree: float = 0.95,
) -> np.ndarray: ...


def calibrate(
    values: pd.Series | Sequence[float] | np.ndarray,
    *,
    thresholds: Sequence[float],
    method: Method = "direct",
    inclusion_degree: float = 0.95,
) -> pd.Series | np.ndarray:
    """Calibrate raw values into set memberships.

    Parameters
    ----------
    values
        Raw values (a Series keeps its index and name; anything else gives an array).
    thresholds
        ``method="direct"``: ``(exclusion, crossover, inclusion)``, strictly increasing,
        or strictly decreasing for a decreasing set. ``method="crisp"``: one or more
        increasing thresholds; membership is the number of thresholds ``<=`` the value
        (one threshold: a crisp 0/1 set; several: multi-value levels 0..m, which the
        truth table does not accept -- build one crisp set per threshold instead).
    method
        ``"direct"`` (Ragin's direct method, log-odds) or ``"crisp"``.
    inclusion_degree
        Membership at the inclusion anchor (the exclusion anchor gets ``1 -`` it);
        0.95 as in R's QCA package, ``expit(3)`` as in the fsQCA software.

    Returns
    -------
    Series or ndarray
        Memberships in [0, 1] (crisp: integer levels).

    Warns
    -----
    O4OWarning
        When values lie exactly at the crossover (membership 0.5).
    """
    name = values.name if isinstance(values, pd.Series) else None
    what = f"values {name!r}" if name is not None else "values"
    if method not in ("direct", "crisp"):
        raise SpecificationError(
            format_error(what="method", expected="'direct' or 'crisp'", found=repr(method), fix="pick one")
        )
    arr = _values(values, what)
    th = _thresholds(thresholds, method, what)
    if method == "crisp":
        out: np.ndarray = np.searchsorted(np.asarray(th), arr, side="right").astype(np.int64)
    else:
        idm = real_number(inclusion_degree)
        if idm is None or not 0.5 < idm < 1.0:
            raise SpecificationError(
                format_error(
                    what="inclusion_degree",
                    expected="a number in (0.5, 1)",
                    found=repr(inclusion_degree),
                    fix="use 0.95 (default)",
                )
            )
        e, c, i = th
        scale = math.log(idm / (1.0 - idm))
        inclusion_side = (arr - c) * (i - c) >= 0
        log_odds = np.where(inclusion_side, scale * (arr - c) / (i - c), -scale * (arr - c) / (e - c))
        out = 1.0 / (1.0 + np.exp(-log_odds))
        at_crossover = int((arr == c).sum())
        if at_crossover:
            warnings.warn(
                format_error(
                    what=what,
                    expected="no value exactly at the crossover",
                    found=f"{at_crossover} value(s) equal to the crossover {c:g} (membership 0.5)",
                    fix="cases at 0.5 belong to no truth-table row; move the crossover slightly "
                    "(e.g. to a value no case has)",
                ),
                O4OWarning,
                stacklevel=2,
            )
    if isinstance(values, pd.Series):
        return pd.Series(out, index=values.index, name=values.name)
    return out


__all__ = ["calibrate"]

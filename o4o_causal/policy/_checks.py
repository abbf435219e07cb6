"""Boundary checks and panel bookkeeping shared by the policy estimators.

Every check raises :class:`~o4o_causal.exceptions.DataError` or
:class:`~o4o_causal.exceptions.SpecificationError` in the suite's one message format
(what, expected, found, fix). Nothing here mutates the caller's frame.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from o4o_causal import _validate
from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError, format_error

#: Treated clusters below which cluster-robust inference is flagged as unreliable.
FEW_TREATED_CLUSTERS = 10


def check_choice(value: object, choices: Sequence[str], what: str) -> str:
    """Return ``value`` if it is one of ``choices``, else raise :class:`SpecificationError`."""
    if not isinstance(value, str) or value not in choices:
        raise SpecificationError(
            format_error(what=what, expected=f"one of {list(choices)}", found=repr(value), fix="choose one of these")
        )
    return value


def check_name(value: object, what: str) -> str:
    """Return ``value`` if it is a column name (str), else raise :class:`SpecificationError`."""
    if not isinstance(value, str) or not value:
        raise SpecificationError(
            format_error(what=what, expected="a column name (str)", found=repr(value), fix=f"pass {what}='<column>'")
        )
    return value


def require_panel(
    data: object, columns: Sequence[str], *, numeric: Sequence[str] = (), what: str = "data"
) -> pd.DataFrame:
    """Check a long panel frame: a DataFrame with ``columns`` present, no missing values, ``numeric`` numeric."""
    frame = _validate.require_frame(data, what)
    _validate.require_columns(frame, columns, what)
    _validate.require_no_missing(frame, columns, what)
    for col in numeric:
        _validate.require_numeric(frame, [col], "outcome" if col == columns[0] else "numeric")
    return frame


def require_unique_keys(frame: pd.DataFrame, unit: str, time: str) -> None:
    """Raise :class:`DataError` if a (unit, time) pair occurs more than once."""
    dup = frame.duplicated([unit, time])
    if dup.any():
        first = frame.loc[dup, [unit, time]].iloc[0].tolist()
        raise DataError(
            format_error(
                what=f"panel keys ({unit!r}, {time!r})",
                expected="one row per unit and period",
                found=f"{int(dup.sum())} duplicated rows (first: {unit}={first[0]!r}, {time}={first[1]!r})",
                fix="aggregate to one row per unit and period first (e.g. outcomes.person_panel or groupby().mean())",
            )
        )


def binary(frame: pd.DataFrame, column: str, role: str) -> np.ndarray:
    """Return ``frame[column]`` as 0/1 int array; raise :class:`DataError` unless both 0 and 1 occur."""
    values = frame[column]
    if pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype(np.int64)
    uniq = pd.unique(values)
    numeric = pd.api.types.is_numeric_dtype(values.dtype)
    if not numeric or not set(np.asarray(uniq, dtype=object).tolist()) <= {0, 1}:
        shown = ", ".join(map(repr, sorted(np.asarray(uniq, dtype=object).tolist(), key=str)[:5]))
        raise DataError(
            format_error(
                what=f"{role} column {column!r}",
                expected="binary values 0/1 (or False/True)",
                found=f"values {shown}{', ...' if len(uniq) > 5 else ''}",
                fix=f"recode {column!r} to 0/1, e.g. (data[{column!r}] == <treated value>).astype(int)",
            )
        )
    if len(uniq) < 2:
        raise DataError(
            format_error(
                what=f"{role} column {column!r}",
                expected="both 0 and 1 rows",
                found=f"only the value {np.asarray(uniq).tolist()!r}",
                fix="check the sample selection: a difference-in-differences needs both groups and both periods",
            )
        )
    return values.to_numpy().astype(np.int64)


def constant_within(frame: pd.DataFrame, column: str, by: str, role: str, fix: str) -> None:
    """Raise :class:`DataError` if ``column`` varies within groups of ``by``."""
    varying = frame.groupby(by, sort=False)[column].nunique(dropna=False)
    bad = varying[varying > 1]
    if len(bad):
        raise DataError(
            format_error(
                what=f"{role} column {column!r}",
                expected=f"constant within each {by!r}",
                found=f"{len(bad)} {by} value(s) with more than one value (first: {bad.index[0]!r})",
                fix=fix,
            )
        )


def codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Return sorted integer codes (0..K-1) of ``values`` and the sorted unique labels."""
    labels, inverse = np.unique(values.to_numpy(), return_inverse=True)
    return inverse.astype(np.int64), labels


def cluster_structure(frame: pd.DataFrame, unit: str, cluster: str, treated: np.ndarray) -> tuple[int, int, bool]:
    """Return (clusters, treated clusters, coarser than unit) for a cluster column.

    A cluster is treated when any of its rows is treated. "Coarser than unit" means every
    unit lies in one cluster and there are fewer clusters than units.
    """
    n_clusters = int(frame[cluster].nunique())
    treated_clusters = int(frame.loc[treated.astype(bool), cluster].nunique())
    nested = bool((frame.groupby(unit, sort=False)[cluster].nunique() <= 1).all())
    coarser = cluster != unit and nested and n_clusters < int(frame[unit].nunique())
    return n_clusters, treated_clusters, coarser


def warn_few_treated_clusters(cluster: str, unit: str, n_treated_clusters: int, coarser: bool) -> None:
    """Warn when cluster-robust inference rests on too few treated clusters."""
    if not coarser:
        return
    if n_treated_clusters < 2:
        warnings.warn(
            f"cluster {cluster!r}: only {n_treated_clusters} treated cluster(s). Cluster-robust standard errors "
            "with a single treated cluster are invalid (the treated cluster's shocks cannot be separated from the "
            f"effect; they understate the uncertainty). Cluster at the unit level (cluster={unit!r}) for the "
            "person-level question, and answer the city-level question with synthetic_control(...) and its "
            "placebo-in-space inference.",
            O4OWarning,
            stacklevel=3,
        )
    elif n_treated_clusters < FEW_TREATED_CLUSTERS:
        warnings.warn(
            f"cluster {cluster!r}: only {n_treated_clusters} treated clusters. CR1 standard errors over-reject with "
            f"few treated clusters (Conley & Taber 2011; MacKinnon & Webb 2017); prefer randomisation / placebo "
            f"inference or a wild cluster bootstrap.",
            O4OWarning,
            stacklevel=3,
        )


def balance_panel(frame: pd.DataFrame, unit: str, time: str) -> tuple[pd.DataFrame, int]:
    """Keep units observed in every period of ``frame``; return the frame and the number of units dropped."""
    n_periods = frame[time].nunique()
    counts = frame.groupby(unit, sort=False)[time].nunique()
    keep = counts.index[counts == n_periods]
    dropped = int(len(counts) - len(keep))
    if dropped == len(counts):
        raise DataError(
            format_error(
                what=f"balance=True on ({unit!r}, {time!r})",
                expected="at least one unit observed in every period",
                found=f"none of {len(counts)} units is complete over {n_periods} periods",
                fix="use balance=False (all available unit-periods) or restrict the periods",
            )
        )
    return (frame[frame[unit].isin(keep)] if dropped else frame), dropped


def incomplete_units(frame: pd.DataFrame, unit: str, time: str) -> int:
    """Return the number of units not observed in every period of ``frame``."""
    counts = frame.groupby(unit, sort=False)[time].nunique()
    return int((counts < frame[time].nunique()).sum())


def z_value(ci_level: float) -> float:
    """Return the two-sided normal critical value for ``ci_level``."""
    from scipy import stats

    return float(stats.norm.ppf(0.5 + ci_level / 2.0))


def finite_or_nan(value: float) -> float:
    """Return ``value`` as float, NaN when not finite."""
    v = float(value)
    return v if math.isfinite(v) else math.nan

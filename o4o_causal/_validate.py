"""Boundary checks shared by every estimator (clear errors, never mutate input)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from o4o_causal.exceptions import DataError, SpecificationError, format_error


def require_frame(data: object, what: str = "data") -> pd.DataFrame:
    """Raise :class:`DataError` unless ``data`` is a non-empty DataFrame; return it."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            format_error(
                what=what,
                expected="a pandas DataFrame",
                found=type(data).__name__,
                fix="pass a DataFrame (e.g. store.cohort(...) or pd.read_parquet(...))",
            )
        )
    if data.empty:
        raise DataError(
            format_error(what=what, expected="at least one row", found="an empty frame", fix="check filters")
        )
    return data


def require_columns(data: pd.DataFrame, columns: Iterable[str], what: str = "data") -> None:
    """Raise :class:`DataError` naming every column of ``columns`` missing from ``data``."""
    missing = [c for c in columns if c not in data.columns]
    if missing:
        available = ", ".join(map(str, list(data.columns)[:20]))
        raise DataError(
            format_error(
                what=f"column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)} of {what}",
                expected="present",
                found=f"missing (available: {available}{', ...' if data.shape[1] > 20 else ''})",
                fix="rename the column or pass the right name",
            )
        )


def require_no_missing(data: pd.DataFrame, columns: Iterable[str], what: str = "data") -> None:
    """Raise :class:`DataError` if any of ``columns`` has missing values."""
    for col in columns:
        n_missing = int(data[col].isna().sum())
        if n_missing:
            raise DataError(
                format_error(
                    what=f"column {col!r} of {what}",
                    expected="no missing values",
                    found=f"{n_missing} missing of {len(data)}",
                    fix="drop or impute the missing rows before estimation",
                )
            )


def binary_treatment(data: pd.DataFrame, column: str, what: str = "data") -> np.ndarray:
    """Return ``data[column]`` as a 0/1 integer array, or raise :class:`DataError`."""
    values = data[column]
    uniq = pd.unique(values.dropna())
    if not set(uniq.tolist()) <= {0, 1}:
        shown = ", ".join(map(repr, sorted(uniq.tolist(), key=str)[:5]))
        raise DataError(
            format_error(
                what=f"treatment column {column!r} of {what}",
                expected="binary values 0/1 (or False/True)",
                found=f"values {shown}{', ...' if len(uniq) > 5 else ''}",
                fix="recode the treatment to 0/1",
            )
        )
    if len(uniq) < 2:
        raise DataError(
            format_error(
                what=f"treatment column {column!r} of {what}",
                expected="both treated (1) and untreated (0) rows",
                found=f"only the value {uniq.tolist()!r}",
                fix="check the cohort selection",
            )
        )
    return values.to_numpy().astype(np.int64)


def column_names(value: Sequence[str] | str | None, what: str) -> list[str]:
    """Return ``value`` (a name, names or None) as a list of distinct column names, in order.

    Raises :class:`SpecificationError` naming ``what`` when an entry is not a string.
    """
    if value is None:
        return []
    names = [value] if isinstance(value, str) else list(value)
    if not all(isinstance(v, str) for v in names):
        raise SpecificationError(
            format_error(what=what, expected="column names (str)", found=repr(names), fix="pass a list of names")
        )
    return list(dict.fromkeys(names))


def require_numeric(data: pd.DataFrame, columns: Iterable[str], role: str, *, note: str = "") -> None:
    """Raise :class:`DataError` for the first of ``columns`` that is not numeric or boolean.

    Categorical columns count as non-numeric even with numeric categories. ``note`` is
    appended to what was expected (e.g. why the column is not encoded silently).
    """
    for column in columns:
        dtype = data[column].dtype
        if pd.api.types.is_bool_dtype(dtype) or (
            pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype)
        ):
            continue
        raise DataError(
            format_error(
                what=f"{role} column {column!r}",
                expected=f"numeric values{f' ({note})' if note else ''}",
                found=f"dtype {dtype}",
                fix=f"encode it first, e.g. pd.get_dummies(data, columns=[{column!r}], drop_first=True, dtype=float)",
            )
        )


def ci_level(value: object) -> float:
    """Return an interval level as a float, or raise :class:`SpecificationError` naming ``ci_level``."""
    if not isinstance(value, int | float) or not 0.0 < float(value) < 1.0:
        raise SpecificationError(
            format_error(
                what="ci_level", expected="a level strictly between 0 and 1", found=repr(value), fix="use e.g. 0.95"
            )
        )
    return float(value)


def on_failure(value: object) -> str:
    """Return a convergence-gate mode (``"raise"`` or ``"warn"``), or raise :class:`SpecificationError`."""
    if value not in ("raise", "warn"):
        raise SpecificationError(
            format_error(what="on_failure", expected="'raise' or 'warn'", found=repr(value), fix="pick one")
        )
    return str(value)

"""Safe descriptives of microdata: no minima or maxima, averaged percentiles, bins above the threshold.

Rules (threshold ``t`` = ``config.DISCLOSURE.threshold`` unless given; an int or a preset
name ``"ssb"``, ``"dst"``, ``"acro"``):

* a statistic resting on fewer than ``t`` persons is not reported;
* **minima and maxima are never reported** (each is one person's value), nor are
  histogram edges placed at them;
* a **percentile** is reported the DST/ONS way: only when at least ``t`` persons lie at
  or below its rank and at least ``t`` at or above it, and then as the mean of the ``t``
  observations whose ranks are nearest to the percentile's rank ``q * (n - 1)`` -- an
  average of ``t`` persons, never a single person's value (so it differs slightly from
  :func:`numpy.quantile`);
* **histogram** bins with fewer than ``t`` persons are merged with their neighbours from
  the edges inward; edges lie on a grid of round numbers (1, 2, 2.5 or 5 times a power
  of ten) that contains the data, not at the data's minimum or maximum;
* **binned counts** (the data behind a binned scatter or hexbin) hide cells with
  ``0 < n < t``.

Missing values are left out (pairwise for :func:`binned_counts`). Inputs are never modified.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from o4o_causal._validate import column_names, require_columns, require_frame, require_numeric
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.sdc._suppression import MarginsSpec, resolve_threshold
from o4o_causal.sdc.tables import check_table

#: Percentiles reported by :func:`safe_describe`.
PERCENTILES: dict[str, float] = {"p10": 0.10, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p90": 0.90}
Bins = int | Sequence[float]


def _values(values: object, what: str) -> np.ndarray:
    """Return ``values`` (a Series or 1-D array-like of numbers) as a float array without missing values."""
    if isinstance(values, pd.DataFrame | str | bytes) or np.ndim(values) != 1:  # type: ignore[arg-type]
        raise DataError(format_error(what=what, expected="a 1-D Series or array of numbers",
                                     found=type(values).__name__, fix="pass one column, e.g. data['age']"))  # fmt: skip
    series = pd.Series(values)
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        raise DataError(format_error(what=what, expected="numeric values", found=f"dtype {series.dtype}",
                                     fix="convert the column to numbers"))  # fmt: skip
    out = series.dropna().to_numpy(dtype=float)
    if np.isinf(out).any():
        raise DataError(
            format_error(what=what, expected="finite values", found="infinite values", fix="clean the data")
        )
    return out


def _quantiles(q: float | Sequence[float]) -> list[float]:
    qs = [q] if isinstance(q, int | float) else list(q)
    bad = [v for v in qs if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 < float(v) < 1.0]
    if bad or not qs:
        raise SpecificationError(format_error(what="q", expected="quantiles strictly between 0 and 1", found=repr(q),
                                              fix="e.g. [0.25, 0.5, 0.75] (min/max are never reported)"))  # fmt: skip
    return [float(v) for v in qs]


def _percentile(ordered: np.ndarray, q: float, t: int) -> float:
    """Mean of the ``t`` order statistics nearest rank ``q * (n - 1)``; NaN without ``t`` persons on each side."""
    n = len(ordered)
    rank = q * (n - 1)
    if math.floor(rank) + 1 < t or n - math.ceil(rank) < t:
        return float("nan")
    start = min(max(math.ceil(rank - (t - 1) / 2 - 0.5), 0), n - t)  # ties: the lower window
    return float(ordered[start : start + t].mean())


def safe_percentiles(values: object, q: float | Sequence[float], *, threshold: int | str | None = None) -> pd.Series:
    """Return disclosure-safe percentiles (module docstring); NaN where too few persons.

    Parameters
    ----------
    values
        A numeric Series or 1-D array (missing values are left out).
    q
        Quantile(s) strictly between 0 and 1 (0 and 1 would be the minimum and maximum).
    threshold
        Persons required on each side of a percentile, and persons averaged into it.

    Returns
    -------
    Series
        Indexed by ``q``.
    """
    t = resolve_threshold(threshold)
    qs = _quantiles(q)
    ordered = np.sort(_values(values, "values"))
    return pd.Series([_percentile(ordered, v, t) for v in qs], index=pd.Index(qs, name="q"), dtype=float)


def _describe_one(x: np.ndarray, t: int) -> dict[str, float]:
    if len(x) < t:
        return {"count": np.nan, "mean": np.nan, "sd": np.nan, **{k: np.nan for k in PERCENTILES}}
    ordered = np.sort(x)
    sd = float(ordered.std(ddof=1)) if len(x) > 1 else float("nan")
    stats = {"count": float(len(x)), "mean": float(ordered.mean()), "sd": sd}
    return stats | {k: _percentile(ordered, q, t) for k, q in PERCENTILES.items()}


def safe_describe(
    data: pd.DataFrame,
    columns: Sequence[str] | str | None = None,
    *,
    threshold: int | str | None = None,
    by: str | None = None,
) -> pd.DataFrame:
    """Describe numeric columns safely: count, mean, sd and p10/p25/p50/p75/p90 -- never min or max.

    Parameters
    ----------
    data
        Microdata (one row per person).
    columns
        Numeric columns to describe; default: every numeric column except ``by``.
    threshold
        Minimum persons: a column (or group) with fewer non-missing values is reported
        as all missing; percentiles follow the rule in the module docstring.
    by
        Optional grouping column.

    Returns
    -------
    DataFrame
        Index ``variable`` (or ``(by, variable)``); columns ``count`` (nullable integer),
        ``mean``, ``sd``, ``p10``, ``p25``, ``p50``, ``p75``, ``p90``.
    """
    t = resolve_threshold(threshold)
    require_frame(data)
    group = column_names(by, "by")
    require_columns(data, group)
    names = column_names(columns, "columns") or [
        c for c in data.columns if c not in group and pd.api.types.is_numeric_dtype(data[c])
    ]
    if not names:
        raise DataError(format_error(what="columns", expected="at least one numeric column", found="none",
                                     fix="pass columns=[...]"))  # fmt: skip
    require_columns(data, names)
    require_numeric(data, names, "described")
    parts: list[tuple[Hashable, pd.DataFrame]] = (
        [(None, data)] if by is None else list(data.groupby(by, sort=True, observed=True))
    )
    rows, keys = [], []
    for value, part in parts:
        for col in names:
            rows.append(_describe_one(part[col].dropna().to_numpy(dtype=float), t))
            keys.append((value, col))
    index = (
        pd.Index([k[1] for k in keys], name="variable")
        if by is None
        else pd.MultiIndex.from_tuples(keys, names=[by, "variable"])
    )
    out = pd.DataFrame(rows, index=index)
    out["count"] = out["count"].astype("Int64")
    return out


def _nice(step: float) -> float:
    power = 10.0 ** math.floor(math.log10(step))
    return next(m * power for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * power >= step * (1 - 1e-12))


def _edges(x: np.ndarray, bins: Bins, what: str) -> np.ndarray:
    """Bin edges: user edges (must contain the data) or ``bins`` round-number bins covering it."""
    if isinstance(bins, int) and not isinstance(bins, bool):
        if bins < 1:
            raise SpecificationError(format_error(what=what, expected="a positive number of bins", found=repr(bins),
                                                  fix="e.g. bins=10"))  # fmt: skip
        lo, hi = float(x.min()), float(x.max())
        step = _nice((hi - lo) / bins if hi > lo else max(abs(lo), 1.0) / 10)
        first, last = math.floor(lo / step) * step, math.ceil(hi / step) * step
        last = last + step if last <= first else last
        return np.round(first + step * np.arange(round((last - first) / step) + 1), 12)
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or not (np.diff(edges) > 0).all() or not np.isfinite(edges).all():
        raise SpecificationError(format_error(what=what, expected="an int or at least two increasing finite edges",
                                              found=repr(bins), fix="e.g. bins=[0, 10, 20, 30]"))  # fmt: skip
    if x.min() < edges[0] or x.max() > edges[-1]:
        raise DataError(format_error(what=what, expected="edges that contain every value", found="values outside",
                                     fix="widen the first/last edge (no open-ended extreme bins)"))  # fmt: skip
    return edges


def _merge(counts: np.ndarray, t: int) -> list[tuple[int, int]]:
    """Group consecutive bins ``[start, stop)`` so each published group holds 0 or at least ``t`` persons."""
    nonzero = np.flatnonzero(counts)
    first, stop = int(nonzero[0]), int(nonzero[-1]) + 1  # leading/trailing empty bins dropped
    groups: list[tuple[int, int]] = []
    start, acc = first, 0
    for i in range(first, stop):
        acc += int(counts[i])
        if acc >= t or acc == 0:
            groups.append((start, i + 1))
            start, acc = i + 1, 0
    if acc:  # a short tail joins the last non-empty group (and the empty bins in between)
        while groups and not counts[groups[-1][0] : groups[-1][1]].any():
            groups.pop()
        groups = [*groups[:-1], (groups[-1][0], stop)] if groups else [(first, stop)]
    return groups


def histogram_table(values: object, bins: Bins = 10, *, threshold: int | str | None = None) -> pd.DataFrame:
    """Return a histogram whose every published bin holds at least ``threshold`` persons.

    Parameters
    ----------
    values
        A numeric Series or 1-D array (missing values are left out).
    bins
        Number of round-number bins covering the data, or the edges (which must contain
        every value: the extreme bins are never open-ended).
    threshold
        Minimum persons per published bin; smaller bins are merged with neighbours.

    Returns
    -------
    DataFrame
        Columns ``left``, ``right`` (bins include their left edge; the last also its
        right edge) and ``count`` (nullable integer). When all the data together hold
        fewer than ``threshold`` persons, edges and count are all missing.
    """
    t = resolve_threshold(threshold)
    x = _values(values, "values")
    if not len(x):
        raise DataError(format_error(what="values", expected="at least one value", found="none", fix="check filters"))
    edges = _edges(x, bins, "bins")
    counts = np.histogram(x, edges)[0]
    groups = _merge(counts, t)
    total = int(counts.sum())
    out = pd.DataFrame(
        {
            "left": [edges[a] for a, _ in groups],
            "right": [edges[b] for _, b in groups],
            "count": pd.array([int(counts[a:b].sum()) for a, b in groups], dtype="Int64"),
        }
    )
    if total < t:  # the edges would bound the values of these few persons
        out[["left", "right"]], out["count"] = np.nan, pd.NA
    return out


def binned_counts(
    x: object,
    y: object,
    *,
    bins: int | tuple[Bins, Bins] = 10,
    threshold: int | str | None = None,
    margins: MarginsSpec = "none",
) -> pd.DataFrame:
    """Return 2-D binned counts (the data behind a safe binned scatter or hexbin), small cells hidden.

    Parameters
    ----------
    x, y
        Numeric Series or 1-D arrays of equal length (pairs with a missing value are left out).
    bins
        Bins per axis (round-number bins covering the data), or ``(bins_x, bins_y)``, each
        a number or edges that contain every value.
    threshold
        Cells with ``0 < n < threshold`` persons are hidden (``pd.NA``).
    margins
        ``"none"`` (default): only the grid is published. Pass ``"known"`` when the
        marginal distributions of ``x`` and ``y`` are published too: secondary
        suppression then protects the hidden cells (:func:`~o4o_causal.sdc.tables.check_table`).

    Returns
    -------
    DataFrame
        Rows: ``x`` bins, columns: ``y`` bins (:class:`pandas.IntervalIndex`, closed left;
        the last bin includes its right edge); nullable integer counts.
    """
    t = resolve_threshold(threshold)
    if np.ndim(x) != 1 or np.ndim(y) != 1 or len(x) != len(y):  # type: ignore[arg-type]
        raise DataError(format_error(what="x, y", expected="1-D inputs of equal length", found="different shapes",
                                     fix="pass two columns of the same frame"))  # fmt: skip
    pairs = pd.DataFrame({"x": np.asarray(x), "y": np.asarray(y)}).dropna()
    vx, vy = _values(pairs["x"], "x"), _values(pairs["y"], "y")
    if not len(vx):
        raise DataError(format_error(what="x, y", expected="complete pairs", found="none", fix="check missing values"))
    bx, by = bins if isinstance(bins, tuple) else (bins, bins)
    ex, ey = _edges(vx, bx, "bins (x)"), _edges(vy, by, "bins (y)")
    grid = np.histogram2d(vx, vy, [ex, ey])[0].astype(np.int64)
    frame = pd.DataFrame(
        grid,
        index=pd.IntervalIndex.from_breaks(ex, closed="left", name=getattr(x, "name", None) or "x"),
        columns=pd.IntervalIndex.from_breaks(ey, closed="left", name=getattr(y, "name", None) or "y"),
    )
    return check_table(frame, threshold=t, margins=margins, zeros="ignore").safe_table()


__all__ = ["PERCENTILES", "binned_counts", "histogram_table", "safe_describe", "safe_percentiles"]

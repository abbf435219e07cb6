"""Private helpers of :mod:`o4o_causal.sdc`: validation, margins, secondary suppression and its LP audit, ACRO.

A 2-D table is handled as an *extended* array ``E`` (``r + 1`` x ``c + 1``): inner cells,
row totals (last column), column totals (last row), grand total (corner); every row and
column of ``E`` is an additive relation. A cell of ``E`` is ``TABLE`` (published, can be
hidden), ``KNOWN`` (a total outside the table that an attacker knows) or ``UNKNOWN``.
:func:`protect` applies the classic line rule to a fixed point, then audits with a
linear-programming attacker (:func:`intervals`) and hides further cells until every
hidden cell keeps an interval at least as wide as its protection level.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import warnings
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

import numpy as np
import pandas as pd
from scipy import optimize

from o4o_causal import config
from o4o_causal.exceptions import DataError, SpecificationError, format_error

UNKNOWN, KNOWN, TABLE = 0, 1, 2
#: Row/column labels recognised as totals (case-insensitive) with ``margins="auto"``.
TOTAL_LABELS = frozenset({"total", "totals", "totalt", "all", "i alt", "sum", "summa", "samlet", "overall"})
MarginsSpec = Literal["auto", "known", "none"] | tuple[Hashable | None, Hashable | None]
Cell = tuple[int, int]


def fail(error: type[Exception], what: str, expected: str, found: str, fix: str) -> NoReturn:
    """Raise ``error`` with a message in the suite's standard form (:func:`format_error`)."""
    raise error(format_error(what=what, expected=expected, found=found, fix=fix))


def resolve_threshold(threshold: object, what: str = "threshold") -> int:
    """Return the threshold as an int: ``None`` -> the configured default, a preset name -> its value."""
    presets = config.DISCLOSURE.presets
    if threshold is None:
        return config.DISCLOSURE.threshold
    if isinstance(threshold, str) and threshold.lower() in presets:
        return presets[threshold.lower()]
    if isinstance(threshold, int | np.integer) and not isinstance(threshold, bool) and threshold >= 1:
        return int(threshold)
    fail(SpecificationError, what, f"an integer >= 1 or a preset name ({', '.join(sorted(presets))})",
         repr(threshold), "pass e.g. 5 or 'dst' (None: config.DISCLOSURE.threshold)")  # fmt: skip


def numeric_frame(frame: object, what: str, *, counts: bool = False, allow_nan: bool = False) -> np.ndarray:
    """Return ``frame`` as a float array, or raise :class:`DataError` naming ``what``.

    ``counts``: values must be non-negative whole numbers without missing values.
    """
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        found = "an empty frame" if isinstance(frame, pd.DataFrame) else type(frame).__name__
        fail(DataError, what, "a non-empty DataFrame", found, "pass a 2-D table")
    for axis, labels in (("row", frame.index), ("column", frame.columns)):
        if labels.has_duplicates:
            fail(DataError, f"{what} {axis} labels", "unique labels", "duplicates", "aggregate or rename them")
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]) or frame[c].dtype == bool]
    if bad:
        fail(
            DataError, f"column {bad[0]!r} of {what}", "numeric values", f"dtype {frame[bad[0]].dtype}", "pass numbers"
        )
    values = frame.to_numpy(dtype=float, na_value=np.nan)
    problem = ""
    if np.isinf(values).any():
        problem = "infinite values"
    elif np.isnan(values).any() and not allow_nan:
        problem = "missing values"
    elif counts and ((values < 0).any() or not np.allclose(values, np.round(values))):
        problem = "negative or fractional counts"
    if problem:
        fail(DataError, what, "non-negative whole counts" if counts else "finite numbers", problem, "clean the table")
    return values


def validate_choice(value: object, choices: tuple[str, ...], what: str) -> str:
    """Return ``value`` if it is one of ``choices``, else raise :class:`SpecificationError`."""
    if not isinstance(value, str) or value not in choices:
        fail(SpecificationError, what, f"one of {choices!r}", repr(value), f"pass e.g. {choices[0]!r}")
    return value


def fraction(value: object, what: str, *, upper_inclusive: bool = False) -> float:
    """Return ``value`` as a float in (0, 1) (or (0, 1]), else raise :class:`SpecificationError`."""
    number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else float("nan")
    if 0.0 < number < 1.0 or (upper_inclusive and number == 1.0):
        return number
    fail(SpecificationError, what, f"a number in (0, 1{']' if upper_inclusive else ')'}", repr(value), "e.g. 0.1")


@dataclass(frozen=True)
class Layout:
    """Which positions of a frame are inner cells and totals, and whether outside totals are known."""

    rows: list[int]
    cols: list[int]
    total_row: int | None  # position of the row holding the column totals
    total_col: int | None  # position of the column holding the row totals
    totals_known: bool


def _total(labels: pd.Index, label: object, axis: str) -> int | None:
    """Position of the total ``label`` (``"auto"``: detected from :data:`TOTAL_LABELS`)."""
    if label == "auto":
        hits = [i for i, v in enumerate(labels) if str(v).strip().lower() in TOTAL_LABELS]
        if len(hits) > 1:
            fail(SpecificationError, f"margins ({axis} labels)", "at most one total label",
                 repr([labels[i] for i in hits]), "pass margins=(total_row_label, total_column_label)")  # fmt: skip
        return hits[0] if hits else None
    if label is not None and label not in labels:
        fail(SpecificationError, f"margins ({axis} total)", f"a {axis} label of the table", repr(label),
             f"pass one of {list(labels)[:10]!r} or None")  # fmt: skip
    return None if label is None else int(labels.get_loc(label))  # type: ignore[arg-type]


def layout(frame: pd.DataFrame, margins: object) -> Layout:
    """Return the :class:`Layout` of ``frame`` under the ``margins`` specification."""
    if margins is None or margins == "auto":
        margins = ("auto", "auto")
    if margins in ("known", "none"):
        total_row, total_col = None, None
    elif isinstance(margins, tuple) and len(margins) == 2:
        total_row, total_col = _total(frame.index, margins[0], "row"), _total(frame.columns, margins[1], "column")
    else:
        fail(SpecificationError, "margins", "'auto', 'known', 'none' or (total_row_label, total_column_label)",
             repr(margins), "use 'known' when the totals are published elsewhere")  # fmt: skip
    rows = [i for i in range(frame.shape[0]) if i != total_row]
    cols = [j for j in range(frame.shape[1]) if j != total_col]
    if not rows or not cols:
        fail(DataError, "table", "inner cells besides the totals", "only totals", "check margins")
    return Layout(rows, cols, total_row, total_col, margins != "none")


def check_additive(values: np.ndarray, lay: Layout, what: str) -> None:
    """Raise :class:`DataError` if a total row/column of ``values`` is not the sum of the inner cells."""
    inner = values[np.ix_(lay.rows, lay.cols)]
    if lay.total_row is not None and not np.allclose(values[lay.total_row, lay.cols], inner.sum(axis=0), atol=1e-6):
        fail(DataError, f"total row of {what}", "the column sums", "other totals", "correct it or pass margins=")
    if lay.total_col is not None and not np.allclose(values[lay.rows, lay.total_col], inner.sum(axis=1), atol=1e-6):
        fail(DataError, f"total column of {what}", "the row sums", "other totals", "correct it or pass margins=")


def with_totals(values: np.ndarray, lay: Layout) -> np.ndarray:
    """Return a copy of ``values`` whose total row/column hold the sums of the inner cells."""
    out = values.copy()  # the column of row totals first, then the row of column totals (and the corner)
    if lay.total_col is not None:
        out[lay.rows, lay.total_col] = out[np.ix_(lay.rows, lay.cols)].sum(axis=1)
    if lay.total_row is not None:
        out[lay.total_row, :] = out[lay.rows, :].sum(axis=0)
    return out


def extend(values: np.ndarray, lay: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(E, state, position)``: the extended table, cell states and frame positions (or -1)."""
    r, c = len(lay.rows), len(lay.cols)
    ext = np.zeros((r + 1, c + 1))
    ext[:r, :c] = values[np.ix_(lay.rows, lay.cols)]
    ext[:r, c] = ext[:r, :c].sum(axis=1)
    ext[r, :] = ext[:r, :].sum(axis=0)
    implicit = KNOWN if lay.totals_known else UNKNOWN
    state = np.full(ext.shape, implicit)
    state[:r, :c] = TABLE
    pos = np.full((*ext.shape, 2), -1)
    pos[:r, :c] = np.stack(np.meshgrid(lay.rows, lay.cols, indexing="ij"), axis=-1)
    if lay.total_col is not None:
        state[:r, c] = TABLE
        pos[:r, c] = np.column_stack([lay.rows, np.full(r, lay.total_col)])
    if lay.total_row is not None:
        state[r, :c] = TABLE
        pos[r, :c] = np.column_stack([np.full(c, lay.total_row), lay.cols])
    if lay.total_row is not None and lay.total_col is not None:
        state[r, c], pos[r, c] = TABLE, (lay.total_row, lay.total_col)
    return ext, state, pos


def lines(shape: tuple[int, ...]) -> Iterator[tuple[list[Cell], Cell]]:
    """Yield every additive relation of an extended table as ``(inner cells, total cell)``."""
    r, c = shape[0] - 1, shape[1] - 1
    for a in range(r + 1):
        yield [(a, b) for b in range(c)], (a, c)
    for b in range(c + 1):
        yield [(a, b) for a in range(r)], (r, b)


def _pick(cells: list[Cell], ext: np.ndarray, state: np.ndarray, supp: np.ndarray) -> Cell | None:
    """Return the next cell to hide: non-zero, pairing lone hidden cells of other lines (rectangles), smallest."""

    def lone(m: Cell) -> int:
        found = 0
        for inner, total in lines(ext.shape):
            members = [*inner, total]
            if m in members and state[total] != UNKNOWN and sum(bool(supp[x]) for x in members) == 1:
                found += 1
        return found

    if not cells:
        return None
    return min(cells, key=lambda m: (ext[m] == 0, -lone(m), abs(ext[m])))


def _line_pass(ext: np.ndarray, state: np.ndarray, supp: np.ndarray, level: np.ndarray) -> bool:
    changed = False
    for inner, total in lines(ext.shape):
        if state[total] == UNKNOWN:
            continue
        members = [*inner, total]
        hidden = [m for m in members if supp[m]]
        if not hidden:
            continue
        short = not supp[total] and sum(ext[m] for m in hidden) < max(level[m] for m in hidden)
        if len(hidden) == 1 or short:
            pick = _pick([m for m in members if state[m] == TABLE and not supp[m]], ext, state, supp)
            if pick is not None:
                supp[pick] = changed = True
    return changed


def intervals(
    ext: np.ndarray, state: np.ndarray, supp: np.ndarray, lower: float | None
) -> dict[Cell, tuple[float, float]]:
    """Return the attacker's ``(min, max)`` per suppressed cell: LP over hidden cells and unknown totals."""
    hidden = supp | (state == UNKNOWN)
    idx = {cell: k for k, cell in enumerate(zip(*np.nonzero(hidden), strict=True))}
    rows, rhs = [], []
    for inner, total in lines(ext.shape):
        coef = np.zeros(len(idx))
        known = 0.0
        for cell, sign in [*((m, 1.0) for m in inner), (total, -1.0)]:
            if cell in idx:
                coef[idx[cell]] += sign
            else:
                known += sign * ext[cell]
        if coef.any():
            rows.append(coef)
            rhs.append(-known)
    out: dict[Cell, tuple[float, float]] = {}
    for cell in zip(*np.nonzero(supp), strict=True):
        bounds = []
        for sign in (1.0, -1.0):
            objective = np.zeros(len(idx))
            objective[idx[cell]] = sign
            res = optimize.linprog(objective, A_eq=rows or None, b_eq=rhs or None, bounds=(lower, None), method="highs")
            bounds.append(sign * res.fun if res.status == 0 else sign * np.inf)
        out[(int(cell[0]), int(cell[1]))] = (bounds[0], bounds[1])
    return out


def _failing(
    ext: np.ndarray, state: np.ndarray, supp: np.ndarray, level: np.ndarray, lower: float | None
) -> list[Cell]:
    found = intervals(ext, state, supp, lower)
    return [cell for cell, (lo, hi) in found.items() if hi - lo < level[cell] * (1 - 1e-9)]


def _candidate(cell: Cell, ext: np.ndarray, state: np.ndarray, supp: np.ndarray) -> Cell | None:
    free = (state == TABLE) & ~supp
    near = [m for inner, total in lines(ext.shape) if cell in (*inner, total) and state[total] != UNKNOWN
            for m in (*inner, total) if free[m]]  # fmt: skip
    if near:
        return _pick(near, ext, state, supp)
    touched = [m for inner, total in lines(ext.shape) if state[total] != UNKNOWN
               and any(supp[x] for x in (*inner, total)) for m in (*inner, total) if free[m]]  # fmt: skip
    return _pick(touched, ext, state, supp)


def protect(
    ext: np.ndarray, state: np.ndarray, primary: np.ndarray, level: np.ndarray, lower: float | None
) -> tuple[np.ndarray, list[Cell]]:
    """Return ``(suppressed, unprotected)``: primary plus secondary cells of ``ext``, and cells left exposed.

    ``level``: the interval width an attacker must be left with, per cell.
    """
    supp = primary.copy()
    if not supp.any() or not any(state[t] != UNKNOWN for _, t in lines(ext.shape)):
        return supp, []
    given_up: set[Cell] = set()
    for _ in range(ext.size + 1):
        while _line_pass(ext, state, supp, level):
            pass
        failing = [f for f in _failing(ext, state, supp, level, lower) if f not in given_up]
        for cell in failing:
            pick = _candidate(cell, ext, state, supp)
            if pick is not None:
                supp[pick] = True
                break
            given_up.add(cell)
        else:
            break
    return supp, sorted(given_up)


def dominance(
    contributions: pd.Series,
    cell: pd.Series | pd.DataFrame | None = None,
    *,
    p: float | None = None,
    n: int | None = None,
    k: float | None = None,
) -> pd.DataFrame:
    """Apply the p% and n-k dominance rules to the contributions behind each cell.

    Parameters
    ----------
    contributions
        Non-negative individual contributions (e.g. the earnings of each person or firm).
    cell
        The cell of each contribution (same index): a Series, or a DataFrame whose columns
        together form the key; ``None``: one cell holding everything.
    p, n, k
        Rule parameters; default ``config.DISCLOSURE.dominance_p``, ``_n``, ``_k``.

    Returns
    -------
    DataFrame
        One row per cell: ``contributors``, ``total``, ``largest``, ``second``, ``p_ratio``
        (``(total - largest - second) / largest``), ``top_n_share``, ``p_rule``
        (``p_ratio < p``), ``nk_rule`` (``top_n_share >= k``, as in ACRO) and ``dominated``:
        a working table of individual contributions, never to be published.
    """
    p = fraction(config.DISCLOSURE.dominance_p if p is None else p, "p")
    k = fraction(config.DISCLOSURE.dominance_k if k is None else k, "k", upper_inclusive=True)
    n = config.DISCLOSURE.dominance_n if n is None else n
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        fail(SpecificationError, "n", "an integer >= 1", repr(n), "e.g. n=2")
    if not isinstance(contributions, pd.Series):
        fail(DataError, "contributions", "a pandas Series", type(contributions).__name__, "pass data[column]")
    values = numeric_frame(contributions.to_frame(), "contributions")[:, 0]
    if (values < 0).any():
        fail(DataError, "contributions", "non-negative values", "negative values", "dominance needs values >= 0")
    keys = pd.DataFrame({"cell": "all"}, index=contributions.index) if cell is None else pd.DataFrame(cell)
    if not keys.index.equals(contributions.index):
        fail(DataError, "cell", "the same index as contributions", "another index", "pass cell=data[[row, column]]")
    names = list(keys.columns)
    work = keys.assign(_v=values).sort_values("_v", ascending=False, kind="stable")
    grouped = work.groupby(names, sort=True, observed=True)["_v"]
    rank = grouped.cumcount()
    out = pd.DataFrame({"contributors": grouped.size(), "total": grouped.sum(), "largest": grouped.max()})
    out["second"] = work[rank == 1].groupby(names, observed=True)["_v"].sum().reindex(out.index, fill_value=0.0)
    top = work[rank < n].groupby(names, observed=True)["_v"].sum().reindex(out.index, fill_value=0.0)
    out["p_ratio"] = (out["total"] - out["largest"] - out["second"]) / out["largest"].where(out["largest"] > 0)
    out["top_n_share"] = top / out["total"].where(out["total"] > 0)
    out["p_rule"] = (out["p_ratio"] < p).fillna(False).astype(bool)
    out["nk_rule"] = (out["top_n_share"] >= k).fillna(False).astype(bool)
    out["dominated"] = out["p_rule"] | out["nk_rule"]
    return out


_ACRO_LOGGERS = ("acro", "acro:records", "acro:summary", "acro.ontology_handler")


@contextlib.contextmanager
def quiet_acro() -> Iterator[Any]:
    """Import ACRO silenced; undo its import-time ``logging.basicConfig`` and warning filters."""
    root = logging.getLogger()
    handlers, root_level = list(root.handlers), root.level
    loggers = [logging.getLogger(name) for name in _ACRO_LOGGERS]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield importlib.import_module("acro")
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(root_level)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def acro_crosstab(data: pd.DataFrame, index: str, columns: str, values: str | None, aggfunc: str | None,
                  t: int, zeros: bool) -> tuple[pd.DataFrame, np.ndarray, dict[str, np.ndarray]]:  # fmt: skip
    """Run ``ACRO.crosstab`` without mitigation (nothing written) -> ``(table, counts, primary flags)``."""
    d = config.DISCLOSURE
    with quiet_acro() as acro:
        session = acro.ACRO(suppress=False)
        session.config.update(safe_threshold=t, safe_pratio_p=d.dominance_p, safe_nk_n=d.dominance_n,
                              safe_nk_k=d.dominance_k, zeros_are_disclosive=zeros,
                              check_missing_values=False)  # fmt: skip
        vals = None if values is None else data[values].copy()  # config is ACRO's risk appetite (same dict)
        table = session.crosstab(data[index].copy(), data[columns].copy(), values=vals, aggfunc=aggfunc)
        outcome = list(session.results.results.values())[-1].outcome
    counts = pd.crosstab(data[index], data[columns], dropna=False).reindex(index=table.index, columns=table.columns)
    n = counts.fillna(0).to_numpy(dtype=float)
    text = outcome.reindex(index=table.index, columns=table.columns).fillna("").astype(str).to_numpy()
    has = {k: np.char.find(text.astype(str), k) >= 0 for k in ("Threshold", "NKCheck", "PPercent", "PresenceOfZero")}
    flags = {"primary": has["Threshold"] & (n > 0), "dominance": has["NKCheck"] | has["PPercent"],
             "zero": has["PresenceOfZero"] | (n == 0)}  # fmt: skip
    return table, n, flags

"""Disclosure control of published tables: primary and secondary suppression, rounding, dominance.

Primary rules (threshold ``t``: an int or ``"ssb"`` 3 / ``"dst"`` 5 / ``"acro"`` 10): a cell on
``0 < n < t`` persons (a proportion also when ``value * n`` or ``n - value * n`` persons are
in ``(0, t)``); dominance (:func:`dominance`, p% and n-k). Zeros (a zero, or a share of 0
or 1) are reported per ``zeros``, not hidden; :func:`check_model` checks residual df.
**Secondary suppression** hides further cells until no hidden cell can be recovered or
narrowed below its protection level (``t`` persons for a count-based primary cell, ``p``
times the value for a magnitude one, one unit for a secondary cell) from the published
cells and the row, column and grand totals, audited by a linear-programming attacker
(:mod:`o4o_causal.sdc._suppression`). Totals come from a ``"Total"``/``"All"``/``"Sum"``/
``"I alt"`` row or column (``margins="auto"``) or ``margins=(row_label, column_label)``;
totals not in the table are assumed known to an attacker (safe default; ``margins="none"``
only if no total is published anywhere). Proportion and mean tables are protected
through their counts. Findings that suppression resolves are *warnings* (hidden by
:meth:`TableCheck.safe_table`); *errors* (``zeros="error"``, too few residual df, a cell
pinned down by known totals) make :attr:`TableCheck.ok` false: do not export.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from o4o_causal import config
from o4o_causal._validate import require_columns, require_frame
from o4o_causal.exceptions import DataError, SpecificationError
from o4o_causal.sdc import _suppression as eng
from o4o_causal.sdc._suppression import dominance, fail, numeric_frame, resolve_threshold, validate_choice
from o4o_causal.sdc.findings import Finding, blocking

type Kind = Literal["frequency", "proportion", "mean", "magnitude"]
type Zeros = Literal["warn", "error", "ignore"]
KINDS, SUPPRESSED = ("frequency", "proportion", "mean", "magnitude"), ("primary", "dominance", "secondary")
_REASON = {
    "primary": ("threshold", "rests on fewer than {t} persons"),
    "dominance": ("dominance", "one or two contributors dominate the cell (p% or n-k rule)"),
    "secondary": ("secondary", "hidden so that suppressed cells cannot be recovered from the totals"),
}


@dataclass(frozen=True, eq=False)
class TableCheck:
    """Outcome of a table check.

    Attributes
    ----------
    table
        A copy of the checked table (never the caller's object).
    status
        Same labels as ``table``: ``"ok"``, ``"primary"`` (threshold), ``"dominance"``,
        ``"secondary"`` or ``"zero"`` per cell.
    findings
        Every risk found (:class:`~o4o_causal.sdc.findings.Finding`).
    log
        The suppression log (``row, column, rule, reason``), one row per hidden cell.
    threshold
        The threshold applied.
    """

    table: pd.DataFrame
    status: pd.DataFrame
    findings: list[Finding]
    log: pd.DataFrame
    threshold: int

    @property
    def ok(self) -> bool:
        """Whether no finding is an error (then :meth:`safe_table` may be exported)."""
        return not blocking(self.findings)

    @property
    def mask(self) -> pd.DataFrame:
        """Boolean frame: the cells hidden by :meth:`safe_table`."""
        return self.status.isin(SUPPRESSED)

    def safe_table(self) -> pd.DataFrame:
        """Return a copy of the table with hidden cells missing (``pd.NA`` in integer columns)."""
        out = self.table.copy()
        for col in [c for c in out.columns if pd.api.types.is_integer_dtype(out[c].dtype)]:
            out[col] = out[col].astype("Int64")
        return out.mask(self.mask.to_numpy())

    def __repr__(self) -> str:
        n = ", ".join(f"{int((self.status == s).to_numpy().sum())} {s}" for s in (*SUPPRESSED, "zero"))
        head = f"{'ok' if self.ok else 'NOT OK'}: {self.table.shape[0]}x{self.table.shape[1]} table"
        tail = f"{len(self.findings)} findings, {len(blocking(self.findings))} errors"
        return f"TableCheck({head}, threshold {self.threshold}, {n}; {tail})"


def _log(rows: list[dict[str, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["row", "column", "rule", "reason"])


def _hide(ext: np.ndarray, state: np.ndarray, prim: np.ndarray, t: int, mag: bool) -> tuple[np.ndarray, list[Any]]:
    """Secondary suppression on the extended table (protection levels: module docstring)."""
    tiny = 1e-6 * max(1.0, float(np.abs(ext).max()))
    prim_level = np.maximum(config.DISCLOSURE.dominance_p * np.abs(ext), tiny) if mag else float(t)
    level = np.where(prim, prim_level, tiny if mag else 1.0)
    return eng.protect(ext, state, prim, level, 0.0 if (ext >= 0).all() else None)


def _assemble(table: pd.DataFrame, additive: np.ndarray, flags: dict[str, np.ndarray], lay: eng.Layout, t: int, *,
              magnitude: bool = False, zeros: str = "warn", extra: Sequence[Finding] = ()) -> TableCheck:  # fmt: skip
    """Run secondary suppression on ``additive`` and build the :class:`TableCheck`."""
    primary = flags["primary"] | flags["dominance"]
    ext, state, pos = eng.extend(additive, lay)
    inner = pos[..., 0] >= 0
    prim = np.zeros(ext.shape, dtype=bool)
    prim[inner] = primary[pos[inner, 0], pos[inner, 1]]
    supp, exposed = _hide(ext, state, prim, t, magnitude)
    status = np.full(table.shape, "ok", dtype=object)
    status[flags["zero"] & (zeros != "ignore")] = "zero"
    status[pos[inner & supp, 0], pos[inner & supp, 1]] = "secondary"
    status[flags["dominance"]], status[flags["primary"]] = "dominance", "primary"
    findings, log = list(extra), []
    for i, j in zip(*np.nonzero(status != "ok"), strict=True):
        where, kind = f"row {table.index[i]!r}, column {table.columns[j]!r}", str(status[i, j])
        if kind == "zero":
            msg = "a zero (or a share of 0 or 1): no one (everyone) in this group has the trait; merge or confirm"
            findings.append(Finding("zeros", where, msg, "error" if zeros == "error" else "warning"))
            continue
        rule, reason = _REASON[kind]
        if kind == "primary" and flags["dominance"][i, j]:
            findings.append(Finding("dominance", where, _REASON["dominance"][1], "warning"))
        findings.append(Finding(rule, where, reason.format(t=t) + "; hidden in safe_table()", "warning"))
        log.append({"row": table.index[i], "column": table.columns[j], "rule": rule, "reason": reason.format(t=t)})
    for a, b in exposed:
        where = f"row {table.index[pos[a, b, 0]]!r}, column {table.columns[pos[a, b, 1]]!r}" if inner[a, b] else "total"
        msg = "known totals pin this hidden cell down too closely; merge categories or do not publish the totals"
        findings.append(Finding("secondary", where, msg, "error"))
    frame = pd.DataFrame(status, index=table.index, columns=table.columns)
    return TableCheck(table.copy(), frame, findings, _log(log), t)


def _on_cells(table: pd.DataFrame, per_cell: pd.Series) -> np.ndarray:
    """Values of a Series indexed by ``(row, column)`` on the table's cells (0 where absent)."""
    keys = pd.MultiIndex.from_product([table.index, table.columns])
    return per_cell.reindex(keys).fillna(0).to_numpy(dtype=float).reshape(table.shape)


def _counts_for(table: pd.DataFrame, counts: object, kind: str, contributions: object, cell: object) -> np.ndarray:
    if counts is None and kind == "frequency":
        return numeric_frame(table, "table", counts=True)
    if counts is None and kind == "magnitude" and isinstance(contributions, pd.Series):
        return _on_cells(table, dominance(contributions, _cells(cell))["contributors"])
    if counts is None:
        fail(DataError, "counts", f"the persons behind each cell of a {kind} table", "None", "pass counts=")
    values = numeric_frame(counts, "counts", counts=True)
    if not (counts.index.equals(table.index) and counts.columns.equals(table.columns)):  # type: ignore[attr-defined]
        fail(DataError, "counts", "the row and column labels of table", "other labels", "reindex counts like the table")
    return values


def _cells(cell: object) -> pd.DataFrame:
    if not isinstance(cell, pd.DataFrame) or cell.shape[1] != 2:
        fail(DataError, "cell", "a DataFrame of two key columns", type(cell).__name__, "pass data[[row, col]]")
    return cell


def _dominance_flags(table: pd.DataFrame, lay: eng.Layout, contributions: pd.Series, cell: object) -> np.ndarray:
    """Dominance per cell, totals included (a total's contributions: its whole row or column)."""
    keys = _cells(cell)
    rows = [None] if lay.total_row is None else [None, table.index[lay.total_row]]
    cols = [None] if lay.total_col is None else [None, table.columns[lay.total_col]]
    pairs = [dict(zip(keys.columns, (a, b), strict=True)) for a in rows for b in cols]
    parts = [keys.assign(**{k: v for k, v in pair.items() if v is not None}) for pair in pairs]
    stacked = pd.concat(parts, ignore_index=True)
    values = pd.concat([contributions] * len(parts), ignore_index=True)
    return _on_cells(table, dominance(values, stacked)["dominated"].astype(float)) > 0


def _proportion_flags(values: np.ndarray, n: np.ndarray, t: int, flags: dict[str, np.ndarray]) -> None:
    shares = np.nan_to_num(values)
    if ((shares < 0) | (shares > 1)).any():
        fail(DataError, "table", "shares in [0, 1] for kind='proportion'", "values outside [0, 1]", "divide % by 100")
    for part in (np.round(shares * n), np.round((1 - shares) * n)):
        flags["primary"] |= (part > 0) & (part < t)
        flags["zero"] |= (n > 0) & (part == 0)


def check_table(
    table: pd.DataFrame,
    counts: pd.DataFrame | None = None,
    *,
    threshold: int | str | None = None,
    kind: Kind = "frequency",
    contributions: pd.Series | None = None,
    cell: pd.DataFrame | None = None,
    margins: eng.MarginsSpec | None = None,
    residual_df: float | None = None,
    zeros: Zeros = "warn",
) -> TableCheck:
    """Check a published 2-D table and compute its primary and secondary suppression.

    Parameters
    ----------
    table
        Published values (rows x columns), possibly with a total row and/or column.
    counts
        Persons behind each cell (same labels); optional for ``kind="frequency"`` (the
        table holds the counts) and for ``"magnitude"`` (counted from ``contributions``).
    threshold
        Minimum persons per cell: an int or ``"ssb"``/``"dst"``/``"acro"``.
    kind
        ``"frequency"``, ``"proportion"`` (shares in [0, 1]), ``"mean"`` or ``"magnitude"`` (sums).
    contributions, cell
        Individual contributions and their ``(row label, column label)`` (a two-column
        DataFrame, same index), for the dominance rules; required for ``"magnitude"``.
    margins
        ``None``/``"auto"``, ``"known"``, ``"none"`` or ``(total_row_label, total_column_label)``.
    residual_df
        Residual degrees of freedom of the model behind the table, if any.
    zeros
        How zero cells are reported: ``"warn"``, ``"error"`` or ``"ignore"``.

    Returns
    -------
    TableCheck
        Status per cell, findings, the suppression log and :meth:`~TableCheck.safe_table`.
    """
    t = resolve_threshold(threshold)
    validate_choice(kind, KINDS, "kind")
    validate_choice(zeros, ("warn", "error", "ignore"), "zeros")
    values = numeric_frame(table, "table", allow_nan=kind in ("proportion", "mean"))
    if kind == "magnitude" and contributions is None:
        fail(DataError, "contributions", "contributions for a magnitude table", "None", "pass contributions=, cell=")
    n, lay = _counts_for(table, counts, kind, contributions, cell), eng.layout(table, margins)
    if counts is None and kind == "magnitude":  # persons behind a total: those of its row/column
        n = eng.with_totals(n, lay)
    additive = values if kind == "magnitude" else n
    eng.check_additive(additive, lay, "the table" if kind == "magnitude" else "counts")
    flags = {"primary": (n > 0) & (n < t), "dominance": np.zeros(n.shape, dtype=bool), "zero": n == 0}
    if kind == "proportion":
        _proportion_flags(values, n, t, flags)
    if contributions is not None:
        flags["dominance"] = _dominance_flags(table, lay, contributions, cell)
    extra = [] if residual_df is None else check_model(residual_df, location="table")
    return _assemble(table, additive, flags, lay, t, magnitude=kind == "magnitude", zeros=zeros, extra=extra)


def suppress(
    counts: pd.DataFrame, *, threshold: int | str | None = None, margins: eng.MarginsSpec | None = None
) -> pd.DataFrame:
    """Return the mask (``True``: hide; primary and secondary) of a frequency table; see :func:`check_table`."""
    return check_table(counts, threshold=threshold, margins=margins, zeros="ignore").mask


def round_counts(
    counts: pd.DataFrame,
    *,
    base: int = 3,
    seed: int = 0,
    method: Literal["random", "nearest"] = "random",
    margins: eng.MarginsSpec | None = None,
) -> pd.DataFrame:
    """Round the cells of a frequency table to multiples of ``base`` (SSB-style small-count rounding).

    ``"random"``: unbiased random rounding -- ``q * base + r`` becomes ``(q + 1) * base``
    with probability ``r / base``, else ``q * base`` (expected value: the count); seeded.
    ``"nearest"``: halves up. Zeros and multiples of ``base`` stay. Totals in the table
    (``margins`` as in :func:`check_table`) are *recomputed* from the rounded cells: the
    table stays additive (a total is a sum of rounded cells, not the rounded true total).

    Returns
    -------
    DataFrame
        A new integer frame with the labels of ``counts``; the input is not modified.
    """
    values = numeric_frame(counts, "counts", counts=True)
    if isinstance(base, bool) or not isinstance(base, int) or base < 2:
        fail(SpecificationError, "base", "an integer >= 2", repr(base), "e.g. base=3")
    validate_choice(method, ("random", "nearest"), "method")
    lay = eng.layout(counts, margins)
    eng.check_additive(values, lay, "counts")
    q, r = np.divmod(values[np.ix_(lay.rows, lay.cols)], base)
    up = np.random.default_rng(seed).random(q.shape) < r / base if method == "random" else r >= base / 2
    out = values.copy()
    out[np.ix_(lay.rows, lay.cols)] = (q + up) * base
    return pd.DataFrame(
        eng.with_totals(out, lay).astype(np.int64), index=counts.index.copy(), columns=counts.columns.copy()
    )


def check_model(residual_df: float, *, min_df: int | None = None, location: str = "model") -> list[Finding]:
    """Check that a model has enough residual degrees of freedom to be published.

    Parameters
    ----------
    residual_df
        Residual degrees of freedom (observations minus estimated parameters).
    min_df
        Minimum; default ``config.DISCLOSURE.min_residual_df``.
    location
        Where the model is (for the finding).

    Returns
    -------
    list of Finding
        Empty when ``residual_df >= min_df``, else one error (rule ``"residual_df"``).
    """
    limit = config.DISCLOSURE.min_residual_df if min_df is None else resolve_threshold(min_df, "min_df")
    if isinstance(residual_df, bool) or not isinstance(residual_df, int | float) or not residual_df >= 0:
        fail(SpecificationError, "residual_df", "a non-negative number", repr(residual_df), "pass model.df_resid")
    if residual_df >= limit:
        return []
    msg = f"{residual_df:g} residual degrees of freedom, fewer than {limit}; simplify the model or pool groups"
    return [Finding("residual_df", location, msg, "error")]


def check_estimates(
    frame: pd.DataFrame, *, n: str = "n", threshold: int | str | None = None, shares: Sequence[str] | None = None
) -> TableCheck:
    """Check a table of estimates per group (CATE/GATE, posterior summaries, type shares).

    A row whose group has fewer than ``threshold`` persons (column ``n``) is hidden whole:
    estimate, uncertainty and ``n`` (non-numeric label columns stay). Share columns
    (``shares``; default: names containing ``"share"`` or ``"proportion"``) reveal counts
    ``share * n``: they are checked as a frequency table whose totals are taken as known,
    with secondary suppression. If the groups partition a published population, check
    the ``n`` column with :func:`check_table` too.

    Returns
    -------
    TableCheck
        Over ``frame``; :meth:`~TableCheck.safe_table` hides the flagged cells.
    """
    t = resolve_threshold(threshold)
    require_columns(require_frame(frame, "frame"), [n], "frame")
    sizes = numeric_frame(frame[[n]], f"column {n!r}", counts=True)[:, 0]
    names = [c for c in frame.columns if c != n and any(w in str(c).lower() for w in ("share", "proportion"))]
    names = names if shares is None else list(shares)
    require_columns(frame, names, "frame")
    status = pd.DataFrame("ok", index=frame.index, columns=frame.columns, dtype=object)
    findings: list[Finding] = []
    if names:
        implied = np.round(numeric_frame(frame[names], "share columns") * sizes[:, None])
        sub = check_table(pd.DataFrame(implied, index=frame.index, columns=names), threshold=t, margins="known")
        status[names], findings = sub.status.to_numpy(), sub.findings
    small = sizes < t
    status.loc[small, [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]] = "primary"
    msg = f"the group rests on fewer than {t} persons: its estimates and n are hidden in safe_table()"
    findings += [Finding("threshold", f"row {label!r}", msg, "warning") for label in frame.index[small]]
    log = [{"row": frame.index[i], "column": frame.columns[j], "rule": _REASON[str(status.iat[i, j])][0],
            "reason": msg if small[i] else _REASON[str(status.iat[i, j])][1].format(t=t)}
           for i, j in zip(*np.nonzero(status.isin(SUPPRESSED).to_numpy()), strict=True)]  # fmt: skip
    return TableCheck(frame.copy(), status, findings, _log(log), t)


def check_crosstab(
    data: pd.DataFrame,
    index: str,
    columns: str,
    *,
    values: str | None = None,
    aggfunc: Literal["sum", "mean"] | None = None,
    threshold: int | str | None = None,
    zeros: Zeros = "warn",
) -> TableCheck:
    """Cross-tabulate microdata with ACRO's checks, then add secondary suppression.

    ACRO (``acro.ACRO.crosstab``) flags primary cells with the suite's settings (threshold,
    p%, n-k, zeros). Its own suppression is primary only (it drops the flagged records and
    recomputes the table), so secondary suppression against the row and column totals
    (assumed known) is added here. One row of ``data`` is one person. Nothing is written.

    Parameters
    ----------
    data, index, columns
        Microdata and the names of its row and column variables.
    values, aggfunc
        A numeric column and ``"sum"`` (magnitude) or ``"mean"``; both or neither.
    threshold, zeros
        As in :func:`check_table`.

    Returns
    -------
    TableCheck
        Over the table of counts (``values=None``) or sums/means.
    """
    t = resolve_threshold(threshold)
    validate_choice(zeros, ("warn", "error", "ignore"), "zeros")
    require_frame(data)
    require_columns(data, [index, columns] + ([values] if values else []))
    if (values is None) != (aggfunc is None) or aggfunc not in (None, "sum", "mean"):
        fail(SpecificationError, "values/aggfunc", "both (aggfunc 'sum' or 'mean') or neither",
             f"values={values!r}, aggfunc={aggfunc!r}", "pass both")  # fmt: skip
    table, n, flags = eng.acro_crosstab(data, index, columns, values, aggfunc, t, zeros != "ignore")
    additive = np.nan_to_num(table.to_numpy(dtype=float)) if aggfunc == "sum" else n
    return _assemble(table, additive, flags, eng.layout(table, "known"), t, magnitude=aggfunc == "sum", zeros=zeros)


__all__ = ["KINDS", "TableCheck", "check_crosstab", "check_estimates", "check_model", "check_table",
           "dominance", "round_counts", "suppress"]  # fmt: skip

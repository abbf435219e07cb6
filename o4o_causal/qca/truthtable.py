"""The truth table: one row per corner of the property space (2^k configurations).

A case's membership in a row (configuration) is the minimum over the conditions of
``x`` (condition present in the row) or ``1 - x`` (absent). Each case belongs to the one
row in which its membership exceeds 0.5; cases with a membership of exactly 0.5 in some
condition belong to none and are left out of ``n`` (with a warning). Per row:

* ``n``: cases belonging to the row; ``n_outcome``: of those, cases with outcome > 0.5;
* ``consistency`` (raw): ``sum(min(m, y)) / sum(m)`` over all cases (fuzzy sums);
* ``pri``: proportional reduction in inconsistency (vs the negated outcome);
* ``coverage``: ``sum(min(m, y)) / sum(y)``;
* ``out``: ``"1"`` when ``n >= n_cut`` and consistency ``>= incl_cut`` (and PRI ``>= pri_cut``
  when given), ``"0"`` when ``n >= n_cut`` otherwise, ``"?"`` (logical remainder) when
  ``n < n_cut``; cut-offs are met up to a float tolerance of ``1e-10`` (as R's ``agteb``);
* ``contradictory``: the row holds cases on both sides of 0.5 in the outcome (a true
  logical contradiction in crisp data; deviant cases in kind in fuzzy data).

Rows are numbered as in R's QCA package (first condition = most significant bit, 1-based).
Measures of remainders (``n = 0``) are NaN. Case labels per row (``show_cases=True``) are
meant for case-level units such as municipalities, never for persons.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from o4o_causal.exceptions import O4OWarning, SpecificationError, format_error
from o4o_causal.qca._sets import check_negate, implicant_membership, meets, prepare_sets, pri, real_number

_OUT_ORDER = {"1": 0, "0": 1, "?": 2}


def _check_cuts(n_cut: object, incl_cut: object, pri_cut: object) -> tuple[int, float, float | None]:
    if isinstance(n_cut, bool) or not isinstance(n_cut, int | np.integer) or n_cut < 1:
        raise SpecificationError(
            format_error(what="n_cut", expected="an integer >= 1", found=repr(n_cut), fix="pass e.g. n_cut=1")
        )
    incl = real_number(incl_cut)
    if incl is None or not 0.0 < incl <= 1.0:
        raise SpecificationError(
            format_error(what="incl_cut", expected="a number in (0, 1]", found=repr(incl_cut), fix="use e.g. 0.8")
        )
    pri_value = None if pri_cut is None else real_number(pri_cut)
    if pri_cut is not None and (pri_value is None or not 0.0 <= pri_value <= 1.0):
        raise SpecificationError(
            format_error(what="pri_cut", expected="None or a number in [0, 1]", found=repr(pri_cut), fix="use 0.5")
        )
    return int(n_cut), incl, pri_value


@dataclass(frozen=True, repr=False)
class TruthTable:
    """A truth table with the memberships it was built from (see the module docstring).

    Attributes
    ----------
    outcome
        Outcome label (``"~Y"`` when the outcome was negated).
    conditions
        Condition names, in row-code order.
    table
        All ``2^k`` rows: ``row, code, <conditions>, out, n, n_outcome, consistency, pri,
        coverage, contradictory`` (and ``cases`` when built with ``show_cases=True``).
    x, y
        Read-only case memberships (cases x conditions; outcome, negated if asked).
    case_labels
        Case labels (``case_id`` column or the data's index), in data order.
    """

    outcome: str
    conditions: tuple[str, ...]
    table: pd.DataFrame
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    case_labels: tuple[str, ...] = field(repr=False)
    n_cut: int = 1
    incl_cut: float = 0.8
    pri_cut: float | None = None
    negate_outcome: bool = False

    @property
    def codes(self) -> tuple[str, ...]:
        """Row codes (``"101"``: first and third condition present) in row order."""
        return tuple(self.table["code"])

    def _codes_with(self, out: str) -> tuple[str, ...]:
        return tuple(self.table.loc[self.table["out"] == out, "code"])

    @property
    def positive(self) -> tuple[str, ...]:
        """Codes of rows with ``out == "1"`` (the minterms of minimisation)."""
        return self._codes_with("1")

    @property
    def negative(self) -> tuple[str, ...]:
        """Codes of rows with ``out == "0"``."""
        return self._codes_with("0")

    @property
    def remainders(self) -> tuple[str, ...]:
        """Codes of logical remainders (``out == "?"``: fewer than ``n_cut`` cases)."""
        return self._codes_with("?")

    @property
    def contradictions(self) -> tuple[str, ...]:
        """Codes of contradictory rows."""
        return tuple(self.table.loc[self.table["contradictory"], "code"])

    @property
    def n_cases(self) -> int:
        """Number of cases."""
        return int(self.x.shape[0])

    @property
    def diversity(self) -> float:
        """Share of the ``2^k`` rows holding at least one case (1 = no limited diversity)."""
        return float((self.table["n"] > 0).mean())

    def membership(self, code: str) -> np.ndarray:
        """Return every case's membership in the configuration or implicant ``code``."""
        return implicant_membership(code, self.x)

    def to_frame(self, *, complete: bool = False, sort: bool = True) -> pd.DataFrame:
        """Return the table as a DataFrame (a copy).

        Parameters
        ----------
        complete
            Include remainder rows without cases (``n == 0``).
        sort
            Sort by ``out`` (1, 0, ?) then consistency (descending), as QCA software shows
            it; otherwise in row order.
        """
        t = self.table if complete else self.table[self.table["n"] > 0]
        if sort:
            key = t["out"].map(_OUT_ORDER)
            t = t.assign(_k=key).sort_values(["_k", "consistency", "row"], ascending=[True, False, True])
            t = t.drop(columns="_k")
        return t.reset_index(drop=True).copy()

    def summary(self) -> pd.DataFrame:
        """Return the observed rows (suite convention: same as ``to_frame()``)."""
        return self.to_frame()

    def __repr__(self) -> str:
        k = len(self.conditions)
        head = (
            f"TruthTable({self.outcome} ~ {'*'.join(self.conditions)}: {self.n_cases} cases, {2**k} rows "
            f"({int((self.table['n'] > 0).sum())} observed, {len(self.positive)} positive, "
            f"{len(self.negative)} negative, {len(self.remainders)} remainders, "
            f"{len(self.contradictions)} contradictory); n_cut={self.n_cut}, incl_cut={self.incl_cut:g}"
            f"{'' if self.pri_cut is None else f', pri_cut={self.pri_cut:g}'})"
        )
        shown = self.to_frame().drop(columns=["code"])
        with pd.option_context("display.width", 120, "display.max_columns", 30):
            return f"{head}\n{shown.to_string(index=False, float_format=lambda v: f'{v:.3f}')}"


def truth_table(
    data: pd.DataFrame,
    *,
    outcome: str,
    conditions: Sequence[str],
    n_cut: int = 1,
    incl_cut: float = 0.8,
    pri_cut: float | None = None,
    negate_outcome: bool = False,
    show_cases: bool = False,
    case_id: str | None = None,
) -> TruthTable:
    """Build the truth table of ``outcome`` over ``conditions``.

    Parameters
    ----------
    data
        One row per case (e.g. municipality) with memberships in [0, 1] (calibrated).
    outcome
        Outcome set column.
    conditions
        Condition set columns (at most 12).
    n_cut
        Rows with fewer cases are logical remainders (``out == "?"``).
    incl_cut
        Minimum raw consistency for ``out == "1"``.
    pri_cut
        Optional minimum PRI for ``out == "1"`` (guards against simultaneous subset
        relations with the negated outcome; 0.5 or more is common).
    negate_outcome
        Analyse ``~outcome`` (``1 - y``).
    show_cases
        Add a ``cases`` column listing case labels per row (for case-level units such as
        municipalities only: never list persons).
    case_id
        Column with case labels (default: the index); with ``show_cases=True`` the labels
        must be unique.

    Returns
    -------
    TruthTable

    Warns
    -----
    O4OWarning
        Fewer cases than rows (limited diversity), cases with a membership of exactly 0.5,
        contradictory rows, skewed sets.
    """
    n_cut_, incl_cut_, pri_cut_ = _check_cuts(n_cut, incl_cut, pri_cut)
    negate = check_negate(negate_outcome, "negate_outcome")
    frame, conds, x, y = prepare_sets(data, outcome=outcome, conditions=conditions)
    if case_id is not None:
        if case_id not in frame.columns:
            raise SpecificationError(
                format_error(what="case_id", expected="a column of data", found=repr(case_id), fix="name a column")
            )
        labels = tuple(str(v) for v in frame[case_id])
    else:
        labels = tuple(str(v) for v in frame.index)
    if show_cases and len(set(labels)) < len(labels):
        dup = sorted({v for v in labels if labels.count(v) > 1})[:5]
        raise SpecificationError(
            format_error(
                what="case labels" if case_id is None else f"case_id column {case_id!r}",
                expected="unique case labels with show_cases=True",
                found=f"duplicates {dup}",
                fix="pass case_id naming a column of unique labels, or reset the index",
            )
        )
    if negate:
        y = 1.0 - y
    x.setflags(write=False)
    y.setflags(write=False)
    k = len(conds)
    n_rows = 2**k
    bits = ((np.arange(n_rows)[:, None] >> np.arange(k - 1, -1, -1)[None, :]) & 1).astype(np.int64)
    codes = ["".join(map(str, b)) for b in bits]
    undecided = (x == 0.5).any(axis=1)
    case_row = np.where(undecided, -1, ((x > 0.5).astype(np.int64) << np.arange(k - 1, -1, -1)).sum(axis=1))
    if undecided.any():
        warnings.warn(
            format_error(
                what="conditions",
                expected="memberships different from 0.5",
                found=f"{int(undecided.sum())} case(s) with a membership of exactly 0.5",
                fix="these cases belong to no truth-table row (left out of n); recalibrate with a crossover "
                "no case sits on",
            ),
            O4OWarning,
            stacklevel=2,
        )
    n = np.bincount(case_row[case_row >= 0], minlength=n_rows)
    n_out = np.bincount(case_row[(case_row >= 0) & (y > 0.5)], minlength=n_rows)
    n_not = np.bincount(case_row[(case_row >= 0) & (y < 0.5)], minlength=n_rows)
    cons = np.full(n_rows, np.nan)
    pris = np.full(n_rows, np.nan)
    cov = np.full(n_rows, np.nan)
    sum_y = float(y.sum())
    for r in np.flatnonzero(n > 0):
        m = implicant_membership(codes[r], x)
        both = float(np.minimum(m, y).sum())
        cons[r] = both / float(m.sum())
        pris[r] = pri(m, y)
        cov[r] = both / sum_y if sum_y > 0 else np.nan
    passes = meets(cons, incl_cut_)
    if pri_cut_ is not None:
        passes &= meets(pris, pri_cut_)
    out = np.where(n < n_cut_, "?", np.where(passes, "1", "0"))
    contradictory = (n >= n_cut_) & (n_out > 0) & (n_not > 0)
    table = pd.DataFrame({"row": np.arange(1, n_rows + 1), "code": codes})
    for j, c in enumerate(conds):
        table[c] = bits[:, j]
    table["out"] = out
    table["n"] = n
    table["n_outcome"] = n_out
    table["consistency"] = cons
    table["pri"] = pris
    table["coverage"] = cov
    table["contradictory"] = contradictory
    if show_cases:
        label_arr = np.asarray(labels, dtype=object)
        table["cases"] = [",".join(label_arr[case_row == r]) for r in range(n_rows)]
    label = f"~{outcome}" if negate else outcome
    if frame.shape[0] < n_rows:
        warnings.warn(
            format_error(
                what="conditions",
                expected=f"at least as many cases as truth-table rows (2^{k} = {n_rows})",
                found=f"{frame.shape[0]} cases; {int((n == 0).sum())} of {n_rows} rows are remainders without cases",
                fix="limited diversity: read parsimonious/intermediate solutions as resting on counterfactuals "
                "(see Solution.remainders_used) or use fewer conditions",
            ),
            O4OWarning,
            stacklevel=2,
        )
    if contradictory.any():
        shown = ", ".join(codes[r] for r in np.flatnonzero(contradictory)[:5])
        warnings.warn(
            format_error(
                what=f"truth table of {label!r}",
                expected="rows whose cases agree on the outcome",
                found=f"{int(contradictory.sum())} contradictory row(s) ({shown}"
                f"{', ...' if contradictory.sum() > 5 else ''})",
                fix="inspect the cases (show_cases=True), revisit calibration or add a condition; "
                "contradictory rows are flagged in the 'contradictory' column",
            ),
            O4OWarning,
            stacklevel=2,
        )
    return TruthTable(
        outcome=label,
        conditions=tuple(conds),
        table=table,
        x=x,
        y=y,
        case_labels=labels,
        n_cut=n_cut_,
        incl_cut=incl_cut_,
        pri_cut=pri_cut_,
        negate_outcome=negate,
    )


__all__ = ["TruthTable", "truth_table"]

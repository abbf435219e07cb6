"""Validation of staged extract tables, done as DuckDB queries.

Each check is a :class:`Rule`: a SQL condition that marks offending rows of a staging
table. :func:`check` counts the offending rows of many rules in one scan and, for the
first rule with offending rows, raises :class:`~o4o_causal.exceptions.DataError` naming
the file, the native column, the rule, the number of offending rows, up to five
offending keys and the fix. :func:`check_duplicates` does the same for duplicated keys.
The per-file rule sets live in :mod:`o4o_causal.registers.checks`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb

from o4o_causal.exceptions import DataError, format_error
from o4o_causal.registers import formats
from o4o_causal.registers.readers import ident, one_row

#: First and last day of the study window (from ``formats.STUDY_START``/``STUDY_END``).
STUDY_FIRST_DAY: dt.date = dt.date(formats.STUDY_START // 100, formats.STUDY_START % 100, 1)
_END_YEAR, _END_MONTH = divmod(formats.STUDY_END, 100)
STUDY_LAST_DAY: dt.date = dt.date(_END_YEAR + _END_MONTH // 12, _END_MONTH % 12 + 1, 1) - dt.timedelta(days=1)
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Table:
    """A staging table and the raw file it came from.

    Attributes
    ----------
    name
        Staging table name (columns are harmonised meanings).
    path
        The raw file, named in error messages.
    native
        ``meaning -> native column name``, used to name columns in messages.
    key
        Meanings identifying a row, shown as offending keys.
    """

    name: str
    path: Path
    native: dict[str, str] = field(default_factory=dict)
    key: tuple[str, ...] = ("person",)

    def col(self, meaning: str) -> str:
        """Return the native name of column ``meaning``."""
        return self.native.get(meaning, meaning)

    def reported_as(self, path: Path) -> Table:
        """Return a copy whose errors name ``path`` instead (e.g. coverage checks)."""
        return replace(self, path=path)


@dataclass(frozen=True)
class Rule:
    """One validation rule: ``where`` marks offending rows of the table (alias ``t``).

    Attributes
    ----------
    column
        Meaning of the column concerned.
    rule
        Short rule name, shown in the message.
    expected
        What valid rows look like.
    where
        SQL condition on the table aliased ``t``; NULL counts as not offending.
    fix
        How to fix the file.
    show
        Extra meanings to show with the offending keys.
    """

    column: str
    rule: str
    expected: str
    where: str
    fix: str
    show: tuple[str, ...] = ()


def _examples(con: duckdb.DuckDBPyConnection, table: Table, columns: Sequence[str], source: str, where: str) -> str:
    cols = list(dict.fromkeys(columns))
    select = ", ".join(f"CAST(t.{ident(c)} AS VARCHAR)" for c in cols)
    order = ", ".join(f"t.{ident(c)}" for c in cols)
    rows = con.execute(f"SELECT {select} FROM {source} AS t WHERE {where} ORDER BY {order} LIMIT {MAX_EXAMPLES}")
    shown = [
        "; ".join(f"{table.col(c)}={'<empty>' if v is None else v}" for c, v in zip(cols, row, strict=True))
        for row in rows.fetchall()
    ]
    return " | ".join(f"[{s}]" for s in shown)


def raise_rows(*, table: Table, column: str, rule: str, expected: str, n: int, examples: str, fix: str) -> DataError:
    """Build the :class:`DataError` of a rule with offending rows.

    Parameters
    ----------
    table
        The staging table (names the file and native column).
    column
        Meaning of the column concerned.
    rule
        Rule name.
    expected
        What valid rows look like.
    n
        Number of offending rows.
    examples
        Offending keys, already formatted.
    fix
        How to fix it.

    Returns
    -------
    DataError
        The error, to be raised by the caller.
    """
    return DataError(
        format_error(
            what=f"file {table.path}, column {table.col(column)!r} (rule: {rule})",
            expected=expected,
            found=f"{n} offending row{'s' if n != 1 else ''} (first keys: {examples or 'n/a'})",
            fix=fix,
        )
    )


def check(con: duckdb.DuckDBPyConnection, table: Table, rules: Sequence[Rule], *, source: str | None = None) -> None:
    """Raise :class:`DataError` for the first rule that has offending rows.

    Parameters
    ----------
    con
        Connection holding the table.
    table
        The staging table.
    rules
        Rules, checked in order (all counted in one scan).
    source
        SQL relation to scan instead of the table (e.g. a subquery adding window columns).
    """
    if not rules:
        return
    src = source or ident(table.name)
    filters = ", ".join(f"count(*) FILTER (WHERE coalesce({r.where}, false))" for r in rules)
    counts = one_row(con, f"SELECT {filters} FROM {src} AS t")
    for r, n in zip(rules, counts, strict=True):
        if n:
            where = f"coalesce({r.where}, false)"
            examples = _examples(con, table, [*table.key, *r.show, r.column], src, where)
            raise raise_rows(
                table=table, column=r.column, rule=r.rule, expected=r.expected, n=int(n), examples=examples, fix=r.fix
            )


def check_duplicates(con: duckdb.DuckDBPyConnection, table: Table, keys: Sequence[str], *, what: str) -> None:
    """Raise :class:`DataError` if two rows of the table share ``keys``.

    Parameters
    ----------
    con
        Connection holding the table.
    table
        The staging table.
    keys
        Meanings that must identify a row.
    what
        What one row stands for (e.g. ``"person-month"``), for the message.
    """
    group = ", ".join(ident(k) for k in keys)
    dupes = f"(SELECT {group}, count(*) AS _n FROM {ident(table.name)} GROUP BY {group} HAVING count(*) > 1)"
    row = one_row(con, f"SELECT count(*), coalesce(sum(_n), 0) FROM {dupes}")
    if row[0]:
        examples = _examples(con, table, keys, dupes, "true")
        raise raise_rows(
            table=table,
            column=keys[-1],
            rule=f"one row per {what}",
            expected=f"unique ({', '.join(table.col(k) for k in keys)})",
            n=int(row[1]),
            examples=f"{examples} ({row[0]} duplicated keys)",
            fix="remove the duplicated rows (or aggregate them) before ingestion",
        )


def missing(columns: Sequence[str]) -> list[Rule]:
    """Rules refusing missing values (NULL, empty text, NaN) in ``columns``."""
    return [
        Rule(c, "missing value", "a value in every row", f"t.{ident(c)} IS NULL", "fill in or drop those rows")
        for c in columns
    ]


def in_set(column: str, values: Sequence[object], rule: str, fix: str) -> Rule:
    """Rule refusing values of ``column`` outside ``values``."""
    listed = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)
    return Rule(column, rule, f"one of {listed}", f"t.{ident(column)} NOT IN ({listed})", fix)


def yyyymm_rules(column: str) -> list[Rule]:
    """Rules for a YYYYMM column: a valid month, inside the study window."""
    x = f"t.{ident(column)}"
    window = f"{formats.STUDY_START}..{formats.STUDY_END}"
    return [
        Rule(
            column,
            "valid month YYYYMM",
            "YYYYMM with month 01..12",
            f"{x} % 100 NOT BETWEEN 1 AND 12",
            "fix the months",
        ),
        Rule(
            column,
            "study window",
            f"a month in {window} (formats.STUDY_START..STUDY_END)",
            f"{x} NOT BETWEEN {formats.STUDY_START} AND {formats.STUDY_END}",
            "drop rows outside the study window or correct the month",
        ),
    ]


def date_window_rule(column: str) -> Rule:
    """Rule refusing dates of ``column`` outside the study window."""
    x = f"t.{ident(column)}"
    return Rule(
        column,
        "study window",
        f"a date in {STUDY_FIRST_DAY}..{STUDY_LAST_DAY} (formats.STUDY_START..STUDY_END)",
        f"({x} < DATE '{STUDY_FIRST_DAY}' OR {x} > DATE '{STUDY_LAST_DAY}')",
        "clip the dates to the study window (spells: start and end) or drop those rows",
    )


def orphans(population: str, column: str = "person") -> Rule:
    """Rule refusing rows whose person is not in the population table ``population``."""
    return Rule(
        column,
        "person in population",
        "every person to be listed in the population file",
        f"t.{ident(column)} NOT IN (SELECT p.person FROM {ident(population)} AS p)",
        "drop rows of persons outside the extract population, or add them to the population file",
    )

"""The Danish DREAM-like weekly wide file: load, validate and make monthly.

The file holds ``pnr`` and one column ``y_YYWW`` per ISO week (year 20YY, week WW) with
an integer code or empty. The week columns are UNPIVOTed in DuckDB into a long table
(``person, week, code``); every ISO week is assigned to the month containing its
Thursday (:func:`week_month`). Monthly states follow the rule in
:mod:`o4o_causal.registers.harmonise`.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb

from o4o_causal.exceptions import DataError, format_error
from o4o_causal.registers import formats
from o4o_causal.registers.readers import ident, load_raw, missing_sql, parse_sql, type_columns
from o4o_causal.registers.validate import Rule, Table, check, check_duplicates, missing, orphans

WEEK_COLUMN = re.compile(r"^y_(\d{2})(\d{2})$")
LONG = "s_DK_dream_long"
WEEKS = "dk_weeks"
MONTH_WEEKS = "dk_month_weeks"


def week_month(column: str) -> int | None:
    """Return the month ``YYYYMM`` containing the Thursday of week column ``y_YYWW``.

    Parameters
    ----------
    column
        A week column name, e.g. ``"y_1944"`` (ISO week 44 of 2019).

    Returns
    -------
    int or None
        ``YYYYMM`` of the Thursday's month (2019-W44: Thursday 31 October -> 201910), or
        None when the year has no such ISO week.
    """
    match = WEEK_COLUMN.match(column)
    if match is None:
        return None
    try:
        thursday = dt.date.fromisocalendar(2000 + int(match.group(1)), int(match.group(2)), 4)
    except ValueError:
        return None
    return thursday.year * 100 + thursday.month


def thursdays(yyyymm: int) -> int:
    """Return the number of ISO weeks belonging to month ``YYYYMM`` (its Thursdays)."""
    year, month = divmod(yyyymm, 100)
    first = dt.date(year, month, 1)
    offset = (3 - first.weekday()) % 7  # Thursday is weekday 3
    days = (dt.date(year + month // 12, month % 12 + 1, 1) - first).days
    return (days - offset + 6) // 7


def _week_columns(path: Path, columns: list[str]) -> list[str]:
    weeks = [c for c in columns if c != "pnr"]
    bad = [c for c in weeks if not WEEK_COLUMN.match(c)]
    if bad or not weeks:
        raise DataError(
            format_error(
                what=f"file {path}, column {bad[0]!r}" if bad else f"file {path}",
                expected="columns pnr and y_YYWW (20YY, ISO week WW) only (rule: week column name)",
                found=f"{len(bad)} other columns: {', '.join(bad[:5])}" if bad else "no week columns",
                fix="rename the week columns to y_YYWW, e.g. y_1944 for ISO week 44 of 2019, and drop other columns",
            )
        )
    return weeks


def _weeks_tables(con: duckdb.DuckDBPyConnection, weeks: list[str]) -> None:
    values = []
    for week in weeks:  # names match WEEK_COLUMN, so they are safe to inline
        month = week_month(week)
        values.append(
            f"('{week}', {month}, {(month // 100) * 12 + month % 100 - 1})" if month else f"('{week}', NULL, NULL)"
        )
    con.execute(f"CREATE TABLE {WEEKS} (week VARCHAR, month INTEGER, mi INTEGER)")
    con.execute(f"INSERT INTO {WEEKS} VALUES {', '.join(values)}")
    first, last = divmod(formats.STUDY_START, 100), divmod(formats.STUDY_END, 100)
    months = [
        (y * 12 + m - 1, thursdays(y * 100 + m))
        for y in range(first[0], last[0] + 1)
        for m in range(1, 13)
        if first <= (y, m) <= last
    ]
    con.execute(f"CREATE TABLE {MONTH_WEEKS} (mi INTEGER, n_weeks INTEGER)")
    con.execute(f"INSERT INTO {MONTH_WEEKS} VALUES {', '.join(f'({mi}, {n})' for mi, n in months)}")


def load_dream(con: duckdb.DuckDBPyConnection, path: Path, population: str) -> Table:
    """Load and validate the DREAM-like file into ``s_DK_dream`` and the long table.

    Parameters
    ----------
    con
        Connection to load into (the municipality and population tables exist).
    path
        The raw dream file.
    population
        Staging table of the DK population (for persons outside the population).

    Returns
    -------
    Table
        The long table ``s_DK_dream_long`` (``person, week, value, code, month``).

    Raises
    ------
    DataError
        For misnamed week columns, invalid ISO weeks, weeks outside the study window,
        codes that are not integers or not in :data:`formats.DK_CODES`, missing or
        duplicated ``pnr`` and persons outside the population.
    """
    types = load_raw(con, path, "r_DK_dream")
    wide = Table("s_DK_dream", path, {"person": "pnr"})
    type_columns(con, path=path, raw="r_DK_dream", types=types, spec={"pnr": ("person", "str")}, table=wide.name)
    weeks = _week_columns(path, list(types))
    check(con, wide, [*missing(["person"]), orphans(population)])
    check_duplicates(con, wide, ["person"], what="person (pnr)")
    _weeks_tables(con, weeks)
    _unpivot(con, types, weeks)
    long = Table(LONG, path, {"person": "pnr", "week": "week column", "value": "y_YYWW"}, key=("person", "week"))
    window = f"{formats.STUDY_START}..{formats.STUDY_END}"
    codes = ", ".join(str(c) for c in sorted(formats.DK_CODES))
    check(con, long, _long_rules(window, codes))
    return long


def _unpivot(con: duckdb.DuckDBPyConnection, types: dict[str, str], weeks: list[str]) -> None:
    """Create the long table ``person, week, value, code, month`` of the non-empty cells."""
    integers = all(_is_integer(types[w]) for w in weeks)
    if integers:  # typed codes (parquet): no text parsing needed
        cells = ", ".join(f"CAST({ident(w)} AS BIGINT) AS {ident(w)}" for w in weeks)
        code = "u.value"
    else:  # text (csv) or doubles (Stata/SAS): blank -> NULL, parse strictly as integers
        cells = ", ".join(
            f"CASE WHEN {missing_sql(w, types[w])} THEN NULL ELSE CAST({ident(w)} AS VARCHAR) END AS {ident(w)}"
            for w in weeks
        )
        code = parse_sql("value", "VARCHAR", "int")
    person = parse_sql("pnr", types["pnr"], "str")
    con.execute(
        f"CREATE TABLE {LONG} AS SELECT u.person, u.week, u.value, {code} AS code, "
        f"w.month FROM (UNPIVOT (SELECT {person} AS person, {cells} FROM r_DK_dream) "
        f"ON {', '.join(ident(w) for w in weeks)} INTO NAME week VALUE value) AS u LEFT JOIN {WEEKS} AS w USING (week)"
    )


def _is_integer(duck_type: str) -> bool:
    return duck_type.upper() in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")


def _long_rules(window: str, codes: str) -> list[Rule]:
    return [
        Rule("week", "valid ISO week", "y_YYWW naming an existing ISO week", "t.month IS NULL", "fix the column name"),
        Rule(
            "week",
            "study window",
            f"weeks whose Thursday falls in {window} (formats.STUDY_START..STUDY_END)",
            f"t.month NOT BETWEEN {formats.STUDY_START} AND {formats.STUDY_END}",
            "drop the week columns outside the study window",
        ),
        Rule("value", "type int", "integer codes or empty cells", "t.code IS NULL", "blank or correct those cells"),
        Rule(
            "value",
            "known benefit code",
            f"one of {codes} (formats.DK_CODES)",
            f"t.code NOT IN ({codes})",
            "map the codes to formats.DK_CODES or blank them",
        ),
    ]

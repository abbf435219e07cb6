"""Rule sets of each raw file (see :mod:`o4o_causal.registers.validate` for the engine).

Checked, in this order per file: missing values, codes and domains, valid months and the
study window, inverted and overlapping spells, duplicates, and persons outside the
extract population. Coverage checks (a population person without a persons/LISA row)
run after both files are staged.
"""

from __future__ import annotations

import duckdb

from o4o_causal.registers import formats
from o4o_causal.registers.readers import ident
from o4o_causal.registers.validate import (
    Rule,
    Table,
    check,
    check_duplicates,
    date_window_rule,
    in_set,
    missing,
    orphans,
    yyyymm_rules,
)

_MUNIS = "s_municipalities"
_FOREVER = "DATE '9999-12-31'"


def check_municipalities(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Validate the municipality table (complete rows, ids ``<country>-<code>``, unique ids)."""
    rules = missing(list(formats.MUNICIPALITY_COLUMNS))
    rules.append(in_set("country", formats.COUNTRIES, "known country", "use the country codes NO, SE, DK"))
    rules.append(
        Rule(
            "municipality_id",
            "municipality_id = <country>-<code>",
            "municipality_id equal to country || '-' || code",
            "t.municipality_id <> t.country || '-' || t.code",
            "rebuild municipality_id from country and code",
            show=("country", "code"),
        )
    )
    check(con, table, rules)
    check_duplicates(con, table, ["municipality_id"], what="municipality")


def check_population(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    """Validate a population file (cohorts, months, windows, one row per person)."""
    months = ["index_month", "window_start", "window_end"]
    rules = missing(["person", "cohort", *months])
    rules.append(in_set("cohort", formats.COHORTS, "known cohort", "use the cohort names of formats.COHORTS"))
    for col in months:
        rules += yyyymm_rules(col)
    rules.append(
        Rule(
            "window_end",
            "window start <= window end",
            "window_start <= window_end",
            "t.window_start > t.window_end",
            "swap or correct the window months",
            show=("window_start",),
        )
    )
    check(con, table, rules)
    check_duplicates(con, table, ["person"], what="person")


def _attribute_rules(country: str, table: Table) -> list[Rule]:
    sexes: tuple[object, ...] = ("M", "K") if country == "DK" else (1, 2)
    code_fix = f"use the municipality codes of {country} in the municipality file"
    return [
        *missing(["person", "birth_year", "sex", "background", "education_level", "n_children", "health_problem"]),
        Rule(
            "municipality_code",
            "person without a municipality",
            "a municipality code in every row",
            "t.municipality_code IS NULL",
            "fill in the municipality of residence (or drop the person from the extract)",
        ),
        in_set("sex", sexes, "known sex code", "recode sex to the codes of formats.COLUMNS"),
        in_set(
            "background",
            tuple(formats.BACKGROUND_CODES),
            "known background code",
            "recode to 1 native, 2 western, 3 non-western",
        ),
        in_set("health_problem", (0, 1), "binary health flag", "recode health to 0/1"),
        Rule("n_children", "non-negative count", "n_children >= 0", "t.n_children < 0", "correct the counts"),
        Rule(
            "education_level",
            "non-negative level",
            "education level >= 0",
            "t.education_level < 0",
            "correct the education levels",
        ),
        Rule(
            "municipality_code",
            "known municipality code",
            f"a code listed for {country} in the municipality file",
            f"t.municipality_code NOT IN (SELECT m.code FROM {_MUNIS} AS m WHERE m.country = '{country}')",
            code_fix,
        ),
    ]


def check_persons(con: duckdb.DuckDBPyConnection, table: Table, country: str) -> None:
    """Validate a NO/DK persons file (codes, municipality, one row per person)."""
    check(con, table, _attribute_rules(country, table))
    check_duplicates(con, table, ["person"], what="person")


def check_lisa(con: duckdb.DuckDBPyConnection, table: Table, year: int) -> None:
    """Validate one SE LISA annual file (its year, codes, one row per person-year)."""
    rules = _attribute_rules("SE", table)
    rules.insert(
        0,
        Rule(
            "year",
            "year matches the file name",
            f"{table.col('year')} = {year} in lisa_{year}",
            f"t.year IS NOT NULL AND t.year <> {year}",
            "put each year's rows in its own lisa_<YYYY> file",
        ),
    )
    check(con, table, rules)
    check_duplicates(con, table, ["person", "year"], what="person-year")


def check_coverage(con: duckdb.DuckDBPyConnection, population: Table, target: Table, *, lisa: bool = False) -> None:
    """Refuse population persons without a row in ``target`` (LISA: of the index year)."""
    cond = "x.person = t.person" + (" AND x.year = t.index_month // 100" if lisa else "")
    what = "a LISA row for the index year" if lisa else "a row in the persons file"
    rule = Rule(
        "person",
        f"population person without {what}",
        f"{what} for every person of the population file",
        f"NOT EXISTS (SELECT 1 FROM {ident(target.name)} AS x WHERE {cond})",
        f"add {what} for those persons, or drop them from the population",
        show=("index_month",) if lisa else (),
    )
    check(con, population.reported_as(target.path), [rule])


def check_events(con: duckdb.DuckDBPyConnection, table: Table, population: str) -> None:
    """Validate the SE events file (person and date present, persons in the population)."""
    check(con, table, [*missing(["person", "exit_date"]), orphans(population)])


def check_followup(con: duckdb.DuckDBPyConnection, table: Table, population: str) -> None:
    """Validate a follow-up file (person and date present, persons in the population)."""
    check(con, table, [*missing(["person", "followup_date"]), orphans(population)])


def check_earnings(con: duckdb.DuckDBPyConnection, table: Table, population: str) -> None:
    """Validate an earnings file (months, window, one row per person-month, population)."""
    rules = [*missing(["person", "month", "earnings"]), *yyyymm_rules("month"), orphans(population)]
    check(con, table, rules)
    check_duplicates(con, table, ["person", "month"], what="person-month")


def check_spells(con: duckdb.DuckDBPyConnection, table: Table, country: str, population: str) -> None:
    """Validate a NO/SE spell file (codes, window, inverted and overlapping spells)."""
    codes = formats.NO_CODES if country == "NO" else formats.SE_CODES
    end = f"coalesce(end_date, {_FOREVER})"
    source = (
        f"(SELECT *, max({end}) OVER (PARTITION BY person, code ORDER BY start_date, {end} "
        f"ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end FROM {ident(table.name)})"
    )
    spell = ("code", "start_date", "end_date")
    rules = [
        *missing(["person", "code", "start_date"]),
        in_set("code", sorted(codes), "known benefit code", f"map the codes to formats.{country}_CODES"),
        date_window_rule("start_date"),
        date_window_rule("end_date"),
        Rule(
            "end_date",
            "inverted spell",
            "end date on or after the start date",
            "t.end_date < t.start_date",
            "swap or correct the dates",
            show=spell,
        ),
        Rule(
            "start_date",
            "overlapping spells",
            "spells of one person and code that do not overlap",
            "t.prev_end >= t.start_date",
            "merge overlapping spells of the same code into one spell",
            show=spell,
        ),
        orphans(population),
    ]
    check(con, table, rules, source=source)

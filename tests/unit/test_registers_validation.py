"""Every validation rule: a DataError naming file, column, rule, count, keys and fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from o4o_causal.exceptions import DataError
from o4o_causal.registers import ingest
from tests.register_extract import Tables, minimal_extract, write_extract


def only(tables: Tables, country: str) -> Tables:
    """Keep the municipality table and one country (ingestion of one country is faster)."""
    return {k: v for k, v in tables.items() if k == "municipalities" or k.startswith(f"{country}/")}


def broken(tmp_path: Path, country: str, change: Callable[[Tables], None], fmt: str = "parquet") -> str:
    """Write the extract of ``country`` changed by ``change``; return the ingestion error."""
    tables = {k: v.copy() for k, v in only(minimal_extract(), country).items()}
    change(tables)
    raw = write_extract(tables, tmp_path, fmt)
    with pytest.raises(DataError) as info:
        ingest(raw, tmp_path / "store.duckdb", progress=False)
    assert not (tmp_path / "store.duckdb").exists()
    return str(info.value)


def contains(message: str, *parts: str) -> None:
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


# 1. missing or misnamed columns ------------------------------------------------------------
def test_misnamed_column_suggests_the_closest_name(tmp_path: Path) -> None:
    msg = broken(
        tmp_path, "NO", lambda t: t.__setitem__("NO/spells", t["NO/spells"].rename(columns={"til_dato": "til_date"}))
    )
    contains(msg, "spells.parquet", "'til_dato'", "required column", "1 missing", "rename 'til_date' to 'til_dato'")


def test_missing_column(tmp_path: Path) -> None:
    msg = broken(tmp_path, "SE", lambda t: t.__setitem__("SE/earnings", t["SE/earnings"].drop(columns="bruttolon")))
    contains(msg, "SE/earnings.parquet", "'bruttolon'", "required column", "add column 'bruttolon'")


def test_column_names_are_case_insensitive(tmp_path: Path) -> None:
    raw = write_extract(only(minimal_extract(), "NO"), tmp_path, upper=True)
    assert ingest(raw, tmp_path / "store.duckdb", progress=False).is_file()


# 2. wrong types ----------------------------------------------------------------------------------
def _text_in(key: str, column: str, row: int, value: str) -> Callable[[Tables], None]:
    def change(t: Tables) -> None:
        col = t[key][column].astype(object).astype(str)
        col.iloc[row] = value
        t[key][column] = col

    return change


def test_text_in_a_yyyymm_column(tmp_path: Path) -> None:
    msg = broken(tmp_path, "NO", _text_in("NO/earnings", "aarmnd", 0, "2019-07"))
    contains(msg, "NO/earnings.parquet", "'aarmnd'", "rule: type yyyymm", "1 of 22 rows", "lopenr=1: '2019-07'")


def test_text_in_a_date_column(tmp_path: Path) -> None:
    msg = broken(tmp_path, "NO", _text_in("NO/spells", "fra_dato", 2, "2020-13-45"))
    contains(msg, "NO/spells.parquet", "'fra_dato'", "rule: type date", "1 of 8 rows", "'2020-13-45'")


def test_non_integer_in_an_int_column(tmp_path: Path) -> None:
    msg = broken(tmp_path, "NO", _text_in("NO/persons", "foedselsaar", 1, "1990.5"), fmt="csv")
    contains(msg, "NO/persons.csv", "'foedselsaar'", "rule: type int", "1 of 5 rows", "lopenr=2: '1990.5'")


def test_text_in_a_float_column(tmp_path: Path) -> None:
    msg = broken(tmp_path, "DK", _text_in("DK/earnings", "beloeb", 0, "14 000 kr"))
    contains(msg, "DK/earnings.parquet", "'beloeb'", "rule: type float", "pnr=0101: '14 000 kr'")


# 3. unknown codes --------------------------------------------------------------------------------
def test_unknown_no_benefit_code(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["NO/spells"].loc[0, "ytelse"] = "XXX"

    msg = broken(tmp_path, "NO", change)
    contains(msg, "NO/spells.parquet", "'ytelse'", "rule: known benefit code", "1 offending row", "lopenr=1", "XXX")


def test_unknown_se_benefit_code(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["SE/spells"].loc[t["SE/spells"]["forman"] == "PROG", "forman"] = "FOO"

    msg = broken(tmp_path, "SE", change)
    contains(msg, "SE/spells.parquet", "'forman'", "known benefit code", "2 offending rows", "forman=FOO")


def test_unknown_dk_dream_code(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["DK/dream"].loc[0, "y_1950"] = 999

    msg = broken(tmp_path, "DK", change)
    contains(msg, "DK/dream.parquet", "'y_YYWW'", "known benefit code", "1 offending row", "pnr=0101", "y_1950")


def test_unknown_municipality_code(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["NO/persons"].loc[2, "bosted"] = "9999"

    msg = broken(tmp_path, "NO", change)
    contains(msg, "NO/persons.parquet", "'bosted'", "known municipality code", "1 offending row", "lopenr=3")


def test_unknown_lisa_municipality(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["SE/lisa_2020"].loc[0, "kommun"] = "0999"

    msg = broken(tmp_path, "SE", change)
    contains(msg, "SE/lisa_2020.parquet", "'kommun'", "known municipality code", "lopnr=1")


# 4. inverted and overlapping spells ------------------------------------------------------
def test_inverted_spell(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["NO/spells"].loc[6, "til_dato"] = pd.Timestamp("2019-10-01")

    msg = broken(tmp_path, "NO", change)
    contains(msg, "NO/spells.parquet", "'til_dato'", "inverted spell", "1 offending row", "lopenr=4", "ytelse=SOSH")


def test_overlapping_spells_of_one_code(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        extra = pd.DataFrame(
            {"lopnr": [1], "forman": ["AKE"], "from_datum": [pd.Timestamp("2020-12-01")], "tom_datum": [pd.NaT]}
        )
        t["SE/spells"] = pd.concat([t["SE/spells"], extra], ignore_index=True)

    msg = broken(tmp_path, "SE", change)
    contains(msg, "SE/spells.parquet", "'from_datum'", "overlapping spells", "1 offending row", "forman=AKE")


# 5. duplicates -----------------------------------------------------------------------------------------
def _duplicate_row(key: str, row: int) -> Callable[[Tables], None]:
    def change(t: Tables) -> None:
        t[key] = pd.concat([t[key], t[key].iloc[[row]]], ignore_index=True)

    return change


def test_duplicate_person_month_in_earnings(tmp_path: Path) -> None:
    msg = broken(tmp_path, "NO", _duplicate_row("NO/earnings", 3))
    contains(
        msg,
        "NO/earnings.parquet",
        "'aarmnd'",
        "one row per person-month",
        "2 offending rows",
        "lopenr=1; aarmnd=201910",
    )


def test_duplicate_pnr_in_dream(tmp_path: Path) -> None:
    msg = broken(tmp_path, "DK", _duplicate_row("DK/dream", 1))
    contains(msg, "DK/dream.parquet", "'pnr'", "one row per person (pnr)", "2 offending rows", "pnr=0202")


def test_duplicate_person_year_in_lisa(tmp_path: Path) -> None:
    msg = broken(tmp_path, "SE", _duplicate_row("SE/lisa_2019", 1))
    contains(msg, "SE/lisa_2019.parquet", "'ar'", "one row per person-year", "2 offending rows", "lopnr=2; ar=2019")


def test_duplicate_person_in_population(tmp_path: Path) -> None:
    msg = broken(tmp_path, "DK", _duplicate_row("DK/population", 2))
    contains(msg, "DK/population.parquet", "'pnr'", "one row per person", "pnr=0303")


def test_duplicate_person_in_persons(tmp_path: Path) -> None:
    msg = broken(tmp_path, "NO", _duplicate_row("NO/persons", 0))
    contains(msg, "NO/persons.parquet", "'lopenr'", "one row per person", "lopenr=1")


# 6. persons without a municipality -------------------------------------------------------------
def test_person_without_municipality(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["NO/persons"].loc[[1, 4], "bosted"] = ""

    msg = broken(tmp_path, "NO", change)
    contains(
        msg,
        "NO/persons.parquet",
        "'bosted'",
        "person without a municipality",
        "2 offending rows",
        "lopenr=2",
        "lopenr=5",
    )


def test_lisa_row_without_municipality(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["SE/lisa_2020"].loc[1, "kommun"] = None

    msg = broken(tmp_path, "SE", change, fmt="csv")
    contains(msg, "SE/lisa_2020.csv", "'kommun'", "person without a municipality", "lopnr=2")


# 7. outside the study window ---------------------------------------------------------------------
def test_spell_before_the_study_window(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["NO/spells"].loc[7, "fra_dato"] = pd.Timestamp("2007-12-31")

    msg = broken(tmp_path, "NO", change)
    contains(msg, "NO/spells.parquet", "'fra_dato'", "study window", "2008-01-01..2024-12-31", "lopenr=5")


def test_earnings_month_after_the_study_window(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["SE/earnings"].loc[0, "period"] = 202501

    msg = broken(tmp_path, "SE", change)
    contains(msg, "SE/earnings.parquet", "'period'", "study window", "200801..202412", "lopnr=1; period=202501")


def test_window_outside_the_study_window(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["NO/population"].loc[0, "til_mnd"] = 202503

    msg = broken(tmp_path, "NO", change)
    contains(msg, "NO/population.parquet", "'til_mnd'", "study window", "lopenr=1")


def test_dream_week_outside_the_study_window(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["DK/dream"]["y_0740"] = pd.array([None, 774, None], dtype="Int64")

    msg = broken(tmp_path, "DK", change)
    contains(
        msg, "DK/dream.parquet", "'week column'", "study window", "1 offending row", "pnr=0202; week column=y_0740"
    )


# other rules ---------------------------------------------------------------------------------------------
def test_month_not_in_1_to_12(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["NO/earnings"].loc[0, "aarmnd"] = 201913

    msg = broken(tmp_path, "NO", change)
    contains(msg, "NO/earnings.parquet", "'aarmnd'", "valid month YYYYMM", "1 offending row", "aarmnd=201913")


def test_population_person_without_persons_row(tmp_path: Path) -> None:
    msg = broken(tmp_path, "NO", lambda t: t.__setitem__("NO/persons", t["NO/persons"].iloc[:4]))
    contains(msg, "NO/persons.parquet", "'lopenr'", "population person without a row", "1 offending row", "lopenr=5")


def test_population_person_without_lisa_of_the_index_year(tmp_path: Path) -> None:
    msg = broken(tmp_path, "SE", lambda t: t.__setitem__("SE/lisa_2020", t["SE/lisa_2020"].iloc[1:]))
    contains(msg, "lisa_<index year>", "without a LISA row for the index year", "lopnr=1; index_manad=202001")


@pytest.mark.parametrize(
    ("key", "column"), [("NO/spells", "lopenr"), ("NO/earnings", "lopenr"), ("NO/followup", "lopenr")]
)
def test_rows_of_persons_outside_the_population(tmp_path: Path, key: str, column: str) -> None:
    def change(t: Tables) -> None:
        t[key].loc[0, column] = 99

    msg = broken(tmp_path, "NO", change)
    contains(msg, key + ".parquet", f"'{column}'", "person in population", "1 offending row", "lopenr=99")


def test_dream_person_outside_the_population(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["DK/dream"].loc[2, "pnr"] = "9999"

    msg = broken(tmp_path, "DK", change)
    contains(msg, "DK/dream.parquet", "'pnr'", "person in population", "pnr=9999")


def test_misnamed_dream_week_column(tmp_path: Path) -> None:
    msg = broken(tmp_path, "DK", lambda t: t.__setitem__("DK/dream", t["DK/dream"].rename(columns={"y_1945": "y1945"})))
    contains(msg, "DK/dream.parquet", "'y1945'", "week column name", "y_YYWW")


def test_invalid_iso_week(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["DK/dream"]["y_1953"] = pd.array([111, None, None], dtype="Int64")

    msg = broken(tmp_path, "DK", change)
    contains(msg, "DK/dream.parquet", "valid ISO week", "pnr=0101; week column=y_1953")


def test_missing_value_in_a_required_column(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["NO/earnings"].loc[[1, 2], "belop"] = float("nan")

    msg = broken(tmp_path, "NO", change)
    contains(msg, "NO/earnings.parquet", "'belop'", "missing value", "2 offending rows")


def test_unknown_cohort(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["NO/population"].loc[0, "kohort"] = "kjerne"

    msg = broken(tmp_path, "NO", change)
    contains(msg, "NO/population.parquet", "'kohort'", "known cohort", "kohort=kjerne")


def test_unknown_sex_code(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["DK/persons"].loc[1, "koen"] = "X"

    msg = broken(tmp_path, "DK", change)
    contains(msg, "DK/persons.parquet", "'koen'", "known sex code", "pnr=0202")


# files and paths ---------------------------------------------------------------------------------------
def test_two_formats_of_one_file_are_ambiguous(tmp_path: Path) -> None:
    raw = write_extract(only(minimal_extract(), "NO"), tmp_path)
    minimal_extract()["NO/spells"].to_csv(raw / "NO" / "spells.csv", index=False)
    with pytest.raises(DataError, match=r"spells.*exactly one format.*spells\.csv, spells\.parquet"):
        ingest(raw, tmp_path / "store.duckdb", progress=False)


def test_missing_required_file(tmp_path: Path) -> None:
    tables = only(minimal_extract(), "SE")
    del tables["SE/events"]
    with pytest.raises(DataError, match=r"SE/events.*required file"):
        ingest(write_extract(tables, tmp_path), tmp_path / "store.duckdb", progress=False)


def test_missing_raw_folder_and_store_inside_raw(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such folder"):
        ingest(tmp_path / "nope", tmp_path / "store.duckdb", progress=False)
    raw = write_extract(only(minimal_extract(), "NO"), tmp_path)
    with pytest.raises(DataError, match="outside the raw extract folder"):
        ingest(raw, raw / "store.duckdb", progress=False)


def test_existing_store_needs_overwrite(tmp_path: Path) -> None:
    raw = write_extract(only(minimal_extract(), "NO"), tmp_path)
    ingest(raw, tmp_path / "store.duckdb", progress=False)
    with pytest.raises(DataError, match="overwrite=True"):
        ingest(raw, tmp_path / "store.duckdb", progress=False)

"""Harmonisation rules on the tiny hand-made extract (expected values derived by hand).

See tests/register_extract.py for the extract and the derivations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest

from o4o_causal.registers import RegisterStore, formats, ingest, open_store
from o4o_causal.registers.dream import thursdays, week_month
from tests.register_extract import minimal_extract, write_extract


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegisterStore]:
    root = tmp_path_factory.mktemp("extract")
    ingest(write_extract(minimal_extract(), root), root / "store.duckdb", progress=False)
    with open_store(root / "store.duckdb") as opened:
        yield opened


@pytest.fixture(scope="module")
def panel(store: RegisterStore) -> pd.DataFrame:
    return store.panel()


@pytest.fixture(scope="module")
def persons(store: RegisterStore) -> pd.DataFrame:
    return store.persons().set_index("person_id")


def states(panel: pd.DataFrame, person: str) -> dict[str, str]:
    rows = panel[panel["person_id"] == person]
    return dict(zip(rows["month"].dt.strftime("%Y-%m"), rows["state"], strict=True))


def test_week_month_uses_the_thursday() -> None:
    # ISO week 2019-W44 runs Mon 28 Oct - Sun 3 Nov; its Thursday (31 Oct) is in October
    assert dt.date.fromisocalendar(2019, 44, 1) == dt.date(2019, 10, 28)
    assert dt.date.fromisocalendar(2019, 44, 4) == dt.date(2019, 10, 31)
    assert week_month("y_1944") == 201910
    assert week_month("y_2001") == 202001  # Thursday 2 January 2020 (week starts 30 Dec 2019)
    assert week_month("y_1953") is None  # 2019 has 52 ISO weeks
    assert (thursdays(201910), thursdays(201911), thursdays(201912)) == (5, 4, 4)


def test_reference_day_rule(panel: pd.DataFrame) -> None:
    no1 = states(panel, "NO:1")
    # TILTAK 2020-03-16 .. 2020-05-14: starts after the 15th of March, ends before the 15th of May
    assert [no1["2020-03"], no1["2020-04"], no1["2020-05"]] == ["WAA", "WAA_M", "WAA"]
    # SOSH 2019-11-15 .. 2020-02-14: the 15th counts, the 14th does not
    no4 = states(panel, "NO:4")
    assert [no4[m] for m in ("2019-10", "2019-11", "2019-12", "2020-01", "2020-02")] == [
        "INACTIVE",
        "SA",
        "SA",
        "SA",
        "INACTIVE",
    ]


def test_measure_with_and_without_waa(panel: pd.DataFrame) -> None:
    no1, se1 = states(panel, "NO:1"), states(panel, "SE:1")
    assert no1["2020-04"] == "WAA_M"  # AAP + TILTAK
    assert [no1["2020-09"], no1["2020-10"]] == ["JOBSEEK", "JOBSEEK"]  # TILTAK alone
    assert [se1["2020-05"], se1["2020-06"], se1["2020-07"], se1["2020-08"]] == ["WAA", "WAA_M", "WAA_M", "WAA"]
    assert se1["2021-05"] == "JOBSEEK"  # PROG alone
    assert [se1["2021-02"], se1["2021-03"]] == ["JOBSEEK", "JOBSEEK"]  # INSKR


def test_priority_between_states(panel: pd.DataFrame) -> None:
    no3 = states(panel, "NO:3")
    assert [no3["2019-12"], no3["2020-01"], no3["2020-02"]] == ["SICK", "SICK", "WAA"]  # WAA outranks SICK
    no1 = panel[(panel["person_id"] == "NO:1") & (panel["month"] == "2020-02-01")].iloc[0]
    assert (no1["state"], no1["earnings"]) == ("WAA", 10000.0)  # benefits outrank employment


def test_open_spell_runs_to_the_window_end(panel: pd.DataFrame) -> None:
    no3 = states(panel, "NO:3")
    assert {no3[m] for m in no3 if m >= "2021-01"} == {"DP"}
    assert max(no3) == "2022-12"


def test_low_pay_threshold_per_country(panel: pd.DataFrame) -> None:
    no1, no4, se1 = states(panel, "NO:1"), states(panel, "NO:4"), states(panel, "SE:1")
    assert (no1["2021-01"], no1["2021-07"]) == ("EMP_LOW", "EMP")  # 10000 < 15000 <= 20000
    assert (no4["2020-06"], no4["2020-07"]) == ("EMP_LOW", "EMP")  # 15000 is not below 15000
    assert (se1["2021-04"], se1["2021-06"]) == ("EMP_LOW", "EMP")  # 12000 < 13000 <= 13000


def test_dk_weekly_majority_and_ties(panel: pd.DataFrame) -> None:
    dk1, dk2, dk3 = states(panel, "DK:0101"), states(panel, "DK:0202"), states(panel, "DK:0303")
    assert dk1["2019-10"] == "WAA"  # 3 of 5 weeks
    assert dk1["2019-11"] == "JOBSEEK"  # 2 of 4 weeks: tie with no benefit goes to the code
    assert dk1["2019-12"] == "EMP"  # one week each of two codes, two weeks without: no benefit; 14000 >= 13000
    assert dk2["2019-10"] == "WAA"  # SICK 2, WAA 2, SA 1: tie between codes -> higher priority
    assert dk3["2019-10"] == "JOBSEEK"  # weeks 42-44; week 44 belongs to October (Thursday 31 Oct)
    assert dk3["2019-11"] == "INACTIVE"


def test_exit_truncates_and_inactive_fills(panel: pd.DataFrame, persons: pd.DataFrame) -> None:
    no2 = states(panel, "NO:2")
    assert (min(no2), max(no2), len(no2)) == ("2019-01", "2021-02", 26)  # exit 2021-03-10
    assert set(no2.values()) == {"INACTIVE"}
    assert max(states(panel, "DK:0202")) == "2020-05"  # exit 2020-06-20
    assert len(states(panel, "SE:1")) == 48  # exit 2023-05 is after the window
    assert persons.loc["NO:2", "exit_month"] == pd.Timestamp("2021-03-01")
    assert persons.loc["SE:1", "exit_month"] == pd.Timestamp("2023-05-01")  # earliest event
    assert pd.isna(persons.loc["NO:1", "exit_month"])
    counts = panel.groupby("person_id").size()
    assert counts["NO:5"] == 24 and counts["DK:0101"] == 24


def test_earnings_column(panel: pd.DataFrame) -> None:
    no1 = panel[panel["person_id"] == "NO:1"].set_index("month")["earnings"]
    assert no1[pd.Timestamp("2019-07-01")] == 20000.0
    assert no1[pd.Timestamp("2019-06-01")] == 0.0


def test_se_attributes_from_lisa_of_the_index_year(persons: pd.DataFrame) -> None:
    se1 = persons.loc["SE:1"]
    assert (se1["municipality_id"], se1["education"], se1["n_children"]) == ("SE-1480", "high", 1)
    assert persons.loc["SE:2", "municipality_id"] == "SE-0180"


def test_person_attributes(persons: pd.DataFrame) -> None:
    assert persons.loc["NO:1", ["female", "background", "education"]].tolist() == [1, "nonwestern", "low"]
    assert persons.loc["NO:2", ["female", "background", "education"]].tolist() == [0, "native", "medium"]
    assert persons.loc["NO:3", ["background", "education"]].tolist() == ["western", "high"]
    assert persons.loc["DK:0101", ["female", "education"]].tolist() == [1, "medium"]  # koen K, ISCED 3
    assert persons.loc["DK:0202", ["female", "education"]].tolist() == [0, "high"]  # ISCED 5 > 4
    assert persons.loc["NO:1", "followup_month"] == pd.Timestamp("2020-02-01")
    assert persons.loc["SE:1", "index_month"] == pd.Timestamp("2020-01-01")


def test_store_tables_follow_the_contract(store: RegisterStore) -> None:
    persons, panel, munis = store.persons(), store.panel(), store.municipalities()
    assert list(persons.columns) == list(formats.PERSONS_COLUMNS)
    assert [str(t) for t in persons.dtypes] == ["object" if d == "str" else d for d in formats.PERSONS_COLUMNS.values()]
    assert list(panel.columns) == list(formats.PANEL_COLUMNS)
    assert [str(t) for t in panel.dtypes] == ["object", "datetime64[ns]", "object", "float64"]
    assert persons["person_id"].is_monotonic_increasing
    assert panel.equals(panel.sort_values(["person_id", "month"]))
    assert list(munis.columns) == list(formats.MUNICIPALITY_COLUMNS)
    assert munis["municipality_id"].tolist() == ["DK-101", "NO-0301", "NO-4601", "SE-0180", "SE-1480"]
    assert munis["code"].tolist() == ["101", "0301", "4601", "0180", "1480"]
    assert set(panel["state"]) <= set(formats.STATES)


def test_persons_of_every_country(persons: pd.DataFrame) -> None:
    assert sorted(persons.index) == [
        "DK:0101",
        "DK:0202",
        "DK:0303",
        "NO:1",
        "NO:2",
        "NO:3",
        "NO:4",
        "NO:5",
        "SE:1",
        "SE:2",
    ]

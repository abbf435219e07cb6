"""Store: atomic ingestion, input formats, open_store staleness, API and cohort frames."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from o4o_causal.exceptions import DataError, SpecificationError
from o4o_causal.registers import RegisterStore, formats, ingest, open_store, schemas
from tests.register_extract import minimal_extract, write_extract


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): digest(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("parquet")
    write_extract(minimal_extract(), root)
    return ingest(root / "raw", root / "store.duckdb", progress=False)


@pytest.fixture(scope="module")
def store(built: Path) -> Iterator[RegisterStore]:
    with open_store(built) as opened:
        yield opened


def frames(path: Path) -> dict[str, pd.DataFrame]:
    with open_store(path) as s:
        out = {"persons": s.persons(), "panel": s.panel(), "municipalities": s.municipalities()}
        out.update({name: s.cohort(name) for name in formats.COHORTS})
    return out


# atomicity and raw files ---------------------------------------------------------------------------------
def test_raw_files_are_byte_identical_after_ingestion(tmp_path: Path) -> None:
    raw = write_extract(minimal_extract(), tmp_path)
    before = tree(raw)
    ingest(raw, tmp_path / "store.duckdb", progress=False)
    assert tree(raw) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw", "store.duckdb"]  # no temp files left


def test_failed_ingestion_leaves_no_store(tmp_path: Path) -> None:
    tables = minimal_extract()
    tables["NO/earnings"].loc[0, "aarmnd"] = 201913
    raw = write_extract(tables, tmp_path)
    with pytest.raises(DataError):
        ingest(raw, tmp_path / "out" / "store.duckdb", progress=False)
    assert list((tmp_path / "out").iterdir()) == []


def test_failed_overwrite_leaves_the_existing_store_unchanged(tmp_path: Path) -> None:
    raw = write_extract(minimal_extract(), tmp_path)
    store = ingest(raw, tmp_path / "store.duckdb", progress=False)
    before = digest(store)
    tables = minimal_extract()
    tables["SE/spells"].loc[0, "tom_datum"] = pd.Timestamp("2019-01-01")  # inverted
    write_extract(tables, tmp_path)
    with pytest.raises(DataError, match="inverted spell"):
        ingest(raw, store, overwrite=True, progress=False)
    assert digest(store) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw", "store.duckdb"]


def test_overwrite_replaces_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = write_extract(minimal_extract(), tmp_path)
    ingest(raw, tmp_path / "store.duckdb", progress=False)
    ingest(raw, tmp_path / "store.duckdb", overwrite=True, progress=True)
    assert "ingest" in capsys.readouterr().err  # tqdm progress bar
    assert open_store(tmp_path / "store.duckdb").persons().shape[0] == 10


# formats ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "dta", "xpt"])
def test_other_formats_give_the_same_store(tmp_path: Path, built: Path, fmt: str) -> None:
    raw = write_extract(minimal_extract(), tmp_path, fmt, upper=fmt == "xpt")
    other = frames(ingest(raw, tmp_path / "store.duckdb", progress=False))
    for name, frame in frames(built).items():
        pd.testing.assert_frame_equal(other[name], frame, obj=f"{fmt} {name}")


# open_store ----------------------------------------------------------------------------------------------
def test_open_store_ingests_a_folder_once_and_again_when_stale(tmp_path: Path) -> None:
    write_extract(minimal_extract(), tmp_path)
    with open_store(tmp_path) as first:
        stamp = first.meta()["ingested_at"]
        assert first.path == tmp_path / "store.duckdb"
    before = digest(tmp_path / "store.duckdb")
    with open_store(tmp_path) as second:  # up to date: not rebuilt
        assert second.meta()["ingested_at"] == stamp
    assert digest(tmp_path / "store.duckdb") == before
    tables = minimal_extract()
    tables["NO/earnings"].loc[0, "belop"] = 21000.0
    write_extract(tables, tmp_path)
    with open_store(tmp_path) as third:  # a raw file changed: rebuilt
        panel = third.panel(country="NO")
        assert panel.loc[(panel.person_id == "NO:1") & (panel.month == "2019-07-01"), "earnings"].item() == 21000.0
    assert digest(tmp_path / "store.duckdb") != before


def test_open_store_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="a .duckdb store file or an extract folder containing raw/"):
        open_store(tmp_path)
    raw = write_extract(minimal_extract(), tmp_path)
    with pytest.raises(DataError, match="pass its parent"):
        open_store(raw)
    with pytest.raises(DataError, match="no such store file"):
        open_store(tmp_path / "missing.duckdb")


# API ----------------------------------------------------------------------------------------------------------
def test_meta_records_versions_and_hashes(store: RegisterStore, built: Path) -> None:
    meta = store.meta()
    assert meta["rules_version"] and meta["o4o_causal_version"] and meta["ingested_at"]
    assert meta["sha256:NO/spells.parquet"] == digest(built.parent / "raw" / "NO" / "spells.parquet")
    assert sum(k.startswith("sha256:") for k in meta) == 18


def test_repr_sql_and_filters(store: RegisterStore) -> None:
    assert repr(store).endswith("persons=10, panel=307, municipalities=5)")
    assert store.sql("SELECT count(*) AS n FROM panel WHERE state = 'DP'")["n"].item() == 24
    assert set(store.panel(country="DK")["person_id"]) == {"DK:0101", "DK:0202", "DK:0303"}
    assert set(store.panel(cohort="neet")["person_id"]) == {"DK:0303", "NO:5", "SE:2"}
    assert set(store.panel(country="SE", cohort="core")["person_id"]) == {"SE:1"}
    with pytest.raises(SpecificationError, match="cohort"):
        store.cohort("nope")
    with pytest.raises(SpecificationError, match="country"):
        store.panel(country="FI")


def test_context_manager_closes(built: Path) -> None:
    with open_store(built) as s:
        pass
    assert "closed" in repr(s)


# cohort frames --------------------------------------------------------------------------------------------
def dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {c: "str" if t is object or str(t) == "object" else str(t) for c, t in frame.dtypes.items()}


def test_core_frame(store: RegisterStore) -> None:
    core = store.cohort("core")
    assert dtypes(core) == {c: "str" if d == "object" else d for c, d in schemas.CORE_COLUMNS.items()}
    assert core.attrs["excluded_incomplete"] == 2  # NO:2 and DK:0202 exit within 24 months
    no1 = core.set_index("person_id").loc["NO:1"]
    assert no1[["age", "female", "nonwestern", "immigrant", "children", "low_education"]].tolist() == [
        40,
        1,
        1,
        1,
        1,
        1,
    ]
    assert no1[["prior_employment", "weak_attachment", "treated", "employed_24", "months_employed_24"]].tolist() == [
        6,
        0,
        1,
        1,
        14,  # earnings in 2020-02 count although the state is WAA
    ]
    assert no1["earnings_24"] == 210000.0
    assert (no1["population"], no1["caseload"]) == (290_000, 40.0)
    se1 = core.set_index("person_id").loc["SE:1"]
    assert se1[
        ["age", "immigrant", "prior_employment", "weak_attachment", "treated", "months_employed_24"]
    ].tolist() == [
        45,
        0,
        0,
        1,
        0,
        9,
    ]
    assert se1["earnings_24"] == 116000.0 and se1["coordination_association"] == 1


def test_waa_frame(store: RegisterStore) -> None:
    waa = store.cohort("waa").set_index("person_id")
    assert list(waa.columns[:7]) == [
        "country",
        "municipality_id",
        "age",
        "female",
        "nonwestern",
        "health_problem",
        "low_education",
    ]
    assert list(waa.columns[7:]) == [f"m{k:02d}" for k in range(1, 49)]
    no3 = waa.loc["NO:3"]
    assert no3[["m01", "m02", "m12", "m13", "m36"]].tolist() == ["SICK", "WAA", "WAA", "DP", "DP"]
    assert no3["m37"] is None  # 2023-01 is after the window
    dk1 = waa.loc["DK:0101"]
    assert dk1[["age", "m01", "m02", "m03", "m15"]].tolist() == [49, "WAA", "JOBSEEK", "EMP", "INACTIVE"]
    assert dk1["m16"] is None


def test_social_assistance_frame(store: RegisterStore) -> None:
    sa = store.cohort("social_assistance")
    assert list(sa.columns) == list(schemas.SOCIAL_ASSISTANCE_COLUMNS)
    assert set(sa["person_id"]) == {"NO:4"} and len(sa) == 24
    assert (sa["city"].unique().tolist(), sa["bergen"].unique().tolist()) == (["Bergen"], [1])
    assert sa["on_sa"].sum() == 3 and sa["employed"].sum() == 2 and sa["earnings"].sum() == 20000.0
    assert sa.loc[sa["month"] == "2020-01-01", ["on_sa", "post", "age", "year"]].iloc[0].tolist() == [1, 1, 25, 2020]
    assert sa.loc[sa["month"] == "2019-12-01", ["post", "age"]].iloc[0].tolist() == [0, 24]


def test_neet_frame(store: RegisterStore) -> None:
    neet = store.cohort("neet")
    assert list(neet.columns) == list(schemas.NEET_COLUMNS)
    got = {(p, y): n for p, y, n in neet[["person_id", "year", "neet"]].itertuples(index=False)}
    assert got == {
        ("DK:0303", 2019): 1,
        ("DK:0303", 2020): 1,
        ("NO:5", 2019): 0,  # EDU in November 2019
        ("NO:5", 2020): 1,
        ("SE:2", 2019): 0,  # STUD
        ("SE:2", 2020): 0,  # EMP_LOW
    }
    assert neet.loc[neet["person_id"] == "NO:5", "age"].tolist() == [19, 20]

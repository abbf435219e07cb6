import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from o4o_causal import DataError, SpecificationError
from o4o_causal.registers import formats
from o4o_causal.synth import core, generate_world
from o4o_causal.synth._common import STATE_CODE, final_states
from o4o_causal.synth.dream import iso_weeks
from o4o_causal.synth.spells import runs


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    return generate_world("small", seed=3)


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_extracts(tmp_path: Path) -> None:
    a = generate_world("small", seed=11).write(tmp_path / "a")
    b = generate_world("small", seed=11).write(tmp_path / "b", fmt="parquet")
    da, db = _digest(a), _digest(b)
    assert da == db and len(da) > 20
    c = generate_world("small", seed=12).write(tmp_path / "c")
    assert _digest(c)["raw/NO/spells.parquet"] != da["raw/NO/spells.parquet"]


def test_csv_extracts_are_deterministic_too(tmp_path: Path) -> None:
    a = generate_world("small", seed=5).write(tmp_path / "a", fmt="csv")
    b = generate_world("small", seed=5).write(tmp_path / "b", fmt="csv")
    assert _digest(a) == _digest(b)
    assert (a / "raw" / "DK" / "dream.csv").read_text().startswith("pnr,y_")


def test_world_structure(world) -> None:  # type: ignore[no-untyped-def]
    munis = world.municipalities
    assert munis.groupby("country").size().to_dict() == {"DK": 98, "NO": 356, "SE": 290}
    assert munis["municipality_id"].is_unique
    assert set(munis.loc[munis["asss_city"] == 1, "name"]) >= {"Bergen", "Oslo", "Tromsø"}
    persons, panel = world.persons, world.panel
    assert list(persons.columns) == list(formats.PERSONS_COLUMNS)
    assert list(panel.columns) == list(formats.PANEL_COLUMNS)
    assert persons["person_id"].is_unique and persons["person_id"].is_monotonic_increasing
    assert set(persons["cohort"]) == set(formats.COHORTS)
    assert set(panel["state"]) <= set(formats.STATES)
    assert not panel.duplicated(["person_id", "month"]).any()
    assert set(panel["person_id"]) == set(persons["person_id"])
    # panel windows: within [window_start, window_end] and before exit
    span = panel.groupby("person_id")["month"].agg(["min", "max", "size"]).join(persons.set_index("person_id"))
    assert (span["min"] == span["window_start"]).all()
    assert (span["max"] <= span["window_end"]).all()
    exited = span["exit_month"].notna()
    assert (span.loc[exited, "max"] < span.loc[exited, "exit_month"]).all()
    assert set(persons.loc[persons["cohort"] == "social_assistance", "municipality_id"]) <= set(
        munis.loc[munis["asss_city"] == 1, "municipality_id"]
    )


def test_states_follow_priority_and_low_pay(world) -> None:  # type: ignore[no-untyped-def]
    panel = world.panel.merge(world.persons[["person_id", "country"]], on="person_id")
    threshold = panel["country"].map(formats.LOW_PAY_THRESHOLD)
    emp = panel["state"].isin(["EMP", "EMP_LOW"])
    assert (panel.loc[emp, "earnings"] > 0).all()
    assert (panel.loc[panel["state"] == "EMP_LOW", "earnings"] < threshold[panel["state"] == "EMP_LOW"]).all()
    assert (panel.loc[panel["state"] == "EMP", "earnings"] >= threshold[panel["state"] == "EMP"]).all()
    assert (panel.loc[panel["state"] == "INACTIVE", "earnings"] == 0).all()
    # social assistance with earnings exists: priority must be exercised
    assert ((panel["state"] == "SA") & (panel["earnings"] > 0)).any()


def test_final_states_reference() -> None:
    s = STATE_CODE
    benefit = np.array([[s["INACTIVE"], s["SA"], s["INACTIVE"], s["DP"], -1]], dtype=np.int8)
    earnings = np.array([[20_000.0, 5_000.0, 9_000.0, 30_000.0, 0.0]])
    got = final_states(benefit, earnings, 15_000.0)
    assert [formats.STATES[c] if c >= 0 else None for c in got[0]] == ["EMP", "SA", "EMP_LOW", "DP", None]


def test_core_truth_is_exact_and_consistent(world) -> None:  # type: ignore[no-untyped-def]
    truth = world.truth.core
    assert np.allclose(truth["cate"], truth["p1"] - truth["p0"])
    # observed outcome equals the potential outcome of the received treatment; employed = earnings > 0
    # (the employment rule of registers.formats: a benefit state can outrank a month with earnings)
    panel = world.panel.set_index(["person_id", "month"])["earnings"]
    persons = world.persons.set_index("person_id")
    sample = truth.sample(200, random_state=0)
    for row in sample.itertuples():
        p = persons.loc[row.person_id]
        if not row.complete:
            continue
        observed = int(panel.loc[(row.person_id, p["index_month"] + pd.DateOffset(months=24))] > 0)
        assert observed == (row.y1_employed_24 if row.treated else row.y0_employed_24)
    # the closed form matches simulation of the chain
    h = np.full(200_000, 0.03)
    rng = np.random.default_rng(0)
    state = np.zeros(h.size, bool)
    for _ in range(core.HORIZON):
        u = rng.random(h.size)
        state = np.where(state, u >= core.H_OUT, u < h)
    assert state.mean() == pytest.approx(core.p_employed(h[:1], core.HORIZON)[0], abs=0.004)


def test_planted_municipal_confounding(world) -> None:  # type: ignore[no-untyped-def]
    truth = world.truth.core.merge(world.municipalities[["municipality_id", "service_resources"]], on="municipality_id")
    # the confounder raises both take-up and the untreated outcome probability
    assert np.corrcoef(truth["service_resources"], truth["treated"])[0, 1] > 0.1
    assert np.corrcoef(truth["service_resources"], truth["p0"])[0, 1] > 0.1
    assert "service_resources" not in world.persons.columns


def test_effect_heterogeneity_planted(world) -> None:  # type: ignore[no-untyped-def]
    e = world.truth.core_effects
    eff = dict(zip(zip(e["estimand"], e["group"], e["level"], strict=True), e["value"], strict=True))
    assert eff["GATE", "health_problem", "1"] > eff["GATE", "health_problem", "0"]
    assert eff["GATE", "nonwestern", "0"] > eff["GATE", "nonwestern", "1"]
    assert eff["GATE", "joint_case_management", "1"] > eff["GATE", "joint_case_management", "0"]
    r = world.truth.reform_effects
    reform = dict(zip(zip(r["population"], r["group"], strict=True), r["att_employment"], strict=True))
    assert reform["recipients_2019", "neither"] == 0.0 and reform["bergen_adults", "neither"] == 0.0
    assert reform["bergen_adults", "all"] < 0  # small at the small scale, but planted
    assert reform["bergen_adults", "nonwestern_families_children"] <= reform["bergen_adults", "families_children"] <= 0
    dev = world.truth.neet_deviance
    assert dev.loc[dev["rule"] == 1, "rule_effect"].eq(-0.55).all()


def test_spell_runs_and_iso_weeks() -> None:
    mask = np.array([[0, 1, 1, 0, 1], [1, 1, 1, 1, 1]], dtype=bool)
    rows, first, last = runs(mask)
    assert rows.tolist() == [0, 0, 1] and first.tolist() == [1, 4, 0] and last.tolist() == [2, 4, 4]
    names, months, _ = iso_weeks(237, 238)  # October-November 2019
    assert names[0] == "y_1940" and "y_1944" in names  # week 44: Thursday 31 Oct 2019 -> October
    assert months[names.index("y_1944")] == 237 and months[names.index("y_1945")] == 238


def test_bad_arguments_are_refused(tmp_path: Path, world) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecificationError, match="scale: expected one of"):
        generate_world("huge")
    with pytest.raises(SpecificationError, match="override.*cores"):
        generate_world("small", cores=3)
    world.write(tmp_path)
    before = _digest(tmp_path)
    with pytest.raises(DataError, match="raw, truth already present.*overwrite=True"):
        world.write(tmp_path)
    assert _digest(tmp_path) == before
    with pytest.raises(SpecificationError, match="fmt: expected one of"):
        world.write(tmp_path / "x", fmt="xlsx")


def test_calibration_table_shape(world) -> None:  # type: ignore[no-untyped-def]
    cal = world.calibration()
    assert list(cal.columns) == ["quantity", "target", "band_low", "band_high", "synthetic", "within_band", "source"]
    assert cal.loc[cal["quantity"].str.contains("number of municipalities"), "within_band"].all()
    assert len(cal) >= 12


def test_interview_codings_follow_conditions_and_refuse_bad_input() -> None:
    from o4o_causal.synth.interviews import CODED_CONDITIONS, interview_codings

    munis = pd.DataFrame(
        {"municipality_id": [f"NO-{i:04d}" for i in range(40)]}
        | {c: np.arange(40) % (k + 2) == 0 for k, c in enumerate(CODED_CONDITIONS)}
    ).astype({c: int for c in CODED_CONDITIONS})
    before = munis.copy()
    ids = list(munis["municipality_id"][::-1])
    exact = interview_codings(munis, ids, noise=0.0)
    assert list(exact.index) == ids and exact.isin([2, 4]).all().all()
    expected = 2 + 2 * munis.set_index("municipality_id").loc[ids, list(CODED_CONDITIONS)]
    pd.testing.assert_frame_equal(exact, expected.astype(np.int64))
    noisy = interview_codings(munis, ids, noise=0.6, seed=3)
    assert noisy.equals(interview_codings(munis, ids, noise=0.6, seed=3))
    assert noisy.isin(range(1, 6)).all().all() and (noisy != exact).to_numpy().any()
    pd.testing.assert_frame_equal(munis, before)
    with pytest.raises(DataError, match="unknown"):
        interview_codings(munis, ["XX-1"])
    with pytest.raises(SpecificationError, match="noise"):
        interview_codings(munis, ids, noise=-1.0)

"""Synthetic world -> raw extracts -> ingestion -> the world's own harmonised tables."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from o4o_causal.registers import ingest, open_store
from o4o_causal.synth import generate_world

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    return generate_world("small", seed=20261130)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_is_exact(world, tmp_path: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    world.write(tmp_path, fmt=fmt)
    raw_digest = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "raw").rglob("*") if p.is_file()}
    with open_store(ingest(tmp_path / "raw", tmp_path / "store.duckdb", progress=False)) as store:
        pd.testing.assert_frame_equal(store.panel(), world.panel)
        pd.testing.assert_frame_equal(store.persons(), world.persons)
        munis = store.municipalities()
        expected = world.municipalities.sort_values("municipality_id", ignore_index=True)
        pd.testing.assert_frame_equal(munis, expected, check_dtype=False)
    after = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in (tmp_path / "raw").rglob("*") if p.is_file()}
    assert after == raw_digest  # raw extracts untouched


def test_cohort_frames_match_planted_truth(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world.write(tmp_path)
    with open_store(tmp_path) as store:  # folder with raw/: ingests on first open
        core = store.cohort("core")
        waa = store.cohort("waa")
        neet = store.cohort("neet")
        sa = store.cohort("social_assistance")
    truth = world.truth.core.set_index("person_id")
    t = truth.loc[core["person_id"]]
    assert len(core) == int(truth["complete"].sum())
    np.testing.assert_array_equal(core["treated"].to_numpy(), t["treated"].to_numpy())
    observed = np.where(t["treated"] == 1, t["y1_employed_24"], t["y0_employed_24"])
    np.testing.assert_array_equal(core["employed_24"].to_numpy(), observed)
    months = np.where(t["treated"] == 1, t["y1_months_employed_24"], t["y0_months_employed_24"])
    np.testing.assert_array_equal(core["months_employed_24"].to_numpy(), months)
    earnings = np.where(t["treated"] == 1, t["y1_earnings_24"], t["y0_earnings_24"])
    np.testing.assert_allclose(core["earnings_24"].to_numpy(), earnings)
    assert "service_resources" in core.columns  # municipality-level confounder joined
    # WAA sequences: stable type -> WAA every observed month
    types = world.truth.waa_types.set_index("person_id").loc[waa["person_id"], "trajectory_type"].to_numpy()
    months_cols = [f"m{i:02d}" for i in range(1, 49)]
    stable = waa.loc[types == "stable_waa", months_cols]
    assert stable.apply(lambda col: col.dropna().isin(["WAA", "WAA_M"]).all()).all()
    assert set(neet["neet"].unique()) <= {0, 1} and neet["year"].between(2019, 2022).all()
    assert sa["post"].max() == 1 and sa.loc[sa["bergen"] == 1, "city"].eq("Bergen").all()


def test_calibration_within_bands_at_default_scale() -> None:
    table = generate_world("default", seed=20261130).calibration()
    outside = table.loc[~table["within_band"], ["quantity", "target", "synthetic", "band_low", "band_high"]]
    assert outside.empty, f"outside their bands:\n{outside.to_string()}"

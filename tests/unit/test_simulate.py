"""Simulation studies: Dask = in-process, failures recorded, measures by hand, Parquet, errors."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from o4o_causal.exceptions import DataError, SpecificationError
from o4o_causal.simulate import Design, Fit, SimulationResult, grid, read, replication_seeds, run
from o4o_causal.simulate.estimators import ESTIMATORS, dml_ate, fast_learner
from o4o_causal.simulate.metrics import summarise
from o4o_causal.synth.simdesign import population_ate, simulation_world

TINY = Design(n=800, municipalities=16)
CHEAP = ("naive", "ipw", "dml_clustered")


def boom(data: pd.DataFrame, *, seed: int, ci_level: float) -> Fit:
    """An estimator that always fails."""
    raise ValueError(f"boom {len(data)}")


def not_a_fit(data: pd.DataFrame, *, seed: int, ci_level: float) -> Any:
    """An estimator that returns the wrong type."""
    return 0.1


def _estimators() -> dict[str, Any]:
    return {**{k: ESTIMATORS[k] for k in CHEAP}, "boom": boom}


@pytest.fixture(scope="module")
def serial() -> SimulationResult:
    return run(TINY, _estimators(), 4, 11, workers=0, progress=False)


def test_existing_local_cluster_equals_in_process(serial: SimulationResult) -> None:
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        by_address = run(TINY, _estimators(), 4, 11, scheduler=cluster.scheduler_address, progress=False)
        with Client(cluster) as client:
            by_client = run(TINY, _estimators(), 4, 11, scheduler=client, progress=False)
            assert client.status == "running"  # the caller's client is left open
    assert by_address.info["scheduler"].startswith("tcp://") and by_address.info["workers"] == 2
    pd.testing.assert_frame_equal(by_address.numbers(), serial.numbers())
    pd.testing.assert_frame_equal(by_client.numbers(), serial.numbers())


def test_default_local_cluster_equals_in_process() -> None:
    estimators = {"naive": ESTIMATORS["naive"], "boom": boom}
    alone = run(TINY, estimators, 3, 2, workers=0, progress=False)
    parallel = run(TINY, estimators, 3, 2, workers=2, progress=False)
    assert parallel.info == parallel.info | {"scheduler": "LocalCluster", "workers": 2}
    pd.testing.assert_frame_equal(parallel.numbers(), alone.numbers())


def test_failing_estimator_is_recorded_not_fatal(serial: SimulationResult) -> None:
    raw = serial.raw
    assert len(raw) == 4 * 4
    failed = serial.failures()
    assert (failed["estimator"] == "boom").all() and len(failed) == 4
    assert (failed["error_type"] == "ValueError").all()
    assert failed["error"].str.startswith("boom 800").all()
    ok = raw[raw["estimator"] != "boom"]
    assert (ok["status"] == "ok").all() and ok["estimate"].notna().all()
    table = serial.summary()
    assert table.set_index("estimator").loc["boom", "failures"] == 4
    wrong = run(TINY, {"naive": ESTIMATORS["naive"], "bad": not_a_fit}, 1, 0, workers=0, progress=False)
    assert wrong.failures()["error_type"].tolist() == ["TypeError"]


def test_results_sorted_and_seeded(serial: SimulationResult) -> None:
    raw = serial.raw
    assert raw["replication"].tolist() == [r for r in range(4) for _ in range(4)]
    assert raw["estimator"].tolist()[:4] == [*CHEAP, "boom"]
    data_seed, seeds = replication_seeds(11, 2, CHEAP)
    assert (raw.loc[raw["replication"] == 2, "data_seed"] == data_seed).all()
    world = TINY.draw(data_seed)
    naive = raw[(raw["replication"] == 2) & (raw["estimator"] == "naive")].iloc[0]
    d, y = world.data["treated"], world.data["employed"]
    assert naive["estimate"] == pytest.approx(y[d == 1].mean() - y[d == 0].mean(), rel=1e-12)
    assert naive["sate"] == pytest.approx(world.sate, rel=1e-12)
    assert len(set(seeds.values())) == len(CHEAP)


def test_replication_seed_is_the_spawned_child() -> None:
    children = np.random.SeedSequence(5).spawn(3)
    for r, child in enumerate(children):
        expected = int(np.random.SeedSequence(5, spawn_key=(r, 0)).generate_state(1)[0])
        assert replication_seeds(5, r, ())[0] == expected
        assert child.spawn_key == (r,)


def test_summary_against_hand_computation() -> None:
    est = np.array([0.12, 0.08, 0.17, 0.10])
    se = np.array([0.02, 0.02, 0.03, 0.01])
    raw = pd.DataFrame(
        {
            "design_id": 0,
            "replication": [0, 1, 2, 3, 4],
            "estimator": "m",
            "status": ["ok"] * 4 + ["failed"],
            "estimate": [*est, np.nan],
            "se": [*se, np.nan],
            "ci_low": [*(est - 1.96 * se), np.nan],
            "ci_high": [*(est + 1.96 * se), np.nan],
            "pate": 0.1,
            "sate": [0.1, 0.1, 0.1, 0.1, np.nan],
            "seconds": [1.0, 2.0, 3.0, 4.0, 5.0],
        }
    )
    row = summarise(raw, pd.DataFrame({"design_id": [0], "label": ["d"]})).iloc[0]
    err = est - 0.1
    covered = np.array([True, True, False, True])
    assert row["reps"] == 5 and row["failures"] == 1 and row["ok"] == 4
    assert row["bias"] == pytest.approx(err.mean(), rel=1e-12)
    assert row["bias_mcse"] == pytest.approx(err.std(ddof=1) / 2, rel=1e-12)
    rmse = math.sqrt(np.mean(err**2))
    assert row["rmse"] == pytest.approx(rmse, rel=1e-12)
    assert row["rmse_mcse"] == pytest.approx((err**2).std(ddof=1) / (2 * rmse * 2), rel=1e-12)
    assert row["coverage"] == pytest.approx(covered.mean(), rel=1e-12)
    assert row["coverage_mcse"] == pytest.approx(math.sqrt(0.75 * 0.25 / 4), rel=1e-12)
    assert row["mean_width"] == pytest.approx(np.mean(2 * 1.96 * se), rel=1e-12)
    assert row["empirical_se"] == pytest.approx(est.std(ddof=1), rel=1e-12)
    assert row["se_ratio"] == pytest.approx(se.mean() / est.std(ddof=1), rel=1e-12)
    assert row["seconds_median"] == 3.0 and row["label"] == "d"
    with pytest.raises(SpecificationError, match="target"):
        summarise(raw, pd.DataFrame({"design_id": [0]}), target="att")


def test_parquet_round_trip(serial: SimulationResult, tmp_path: Path) -> None:
    path = serial.to_parquet(tmp_path / "sub" / "study.parquet")
    back = read(path)
    pd.testing.assert_frame_equal(back.raw, serial.raw)
    assert back.designs == serial.designs and back.truths == serial.truths
    assert (back.seed, back.reps, back.estimators, back.ci_level) == (11, 4, (*CHEAP, "boom"), 0.95)
    assert back.versions["numpy"] == np.__version__
    pd.testing.assert_frame_equal(back.summary(), serial.summary())
    assert not list(path.parent.glob("*.partial"))
    pd.DataFrame({"a": [1]}).to_parquet(tmp_path / "other.parquet")
    with pytest.raises(DataError, match="simulation metadata"):
        read(tmp_path / "other.parquet")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"reps": 0}, "reps: expected an integer >= 1"),
        ({"seed": -1}, "seed: expected an integer >= 0"),
        ({"workers": -2}, "workers: expected"),
        ({"workers": 2, "scheduler": "tcp://x:1"}, "workers: expected None when scheduler"),
        ({"scheduler": 3, "workers": None}, "scheduler: expected an address"),
        ({"ci_level": 1.5}, "ci_level: expected a number in"),
        ({"estimators": ["naive", "magic"]}, "estimators: expected distinct names"),
        ({"estimators": {}}, "estimators: expected a non-empty mapping"),
        ({"design": "default"}, "design: expected a Design"),
    ],
)
def test_bad_input_names_parameter_and_fix(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"design": TINY, "estimators": ["naive"], "reps": 1, "seed": 0, "workers": 0}
    args.update(kwargs)
    with pytest.raises(SpecificationError, match=match) as info:
        run(args.pop("design"), args.pop("estimators"), args.pop("reps"), args.pop("seed"), progress=False, **args)
    assert "Fix:" in str(info.value) and "found" in str(info.value)


def test_design_validation_and_grid() -> None:
    with pytest.raises(SpecificationError, match=r"Design.n: expected >= 10 persons per municipality"):
        Design(n=50, municipalities=10)
    with pytest.raises(SpecificationError, match="Design.cluster_sd: expected a finite number >= 0"):
        Design(cluster_sd=-1)
    with pytest.raises(SpecificationError, match="grid axis 'clusters'"):
        grid(clusters=[1])
    designs = grid(TINY, municipalities=[8, 16], cluster_sd=[0.0, 0.5])
    assert [(d.municipalities, d.cluster_sd) for d in designs] == [(8, 0.0), (8, 0.5), (16, 0.0), (16, 0.5)]
    assert all(d.n == 800 for d in designs) and Design.from_dict(designs[1].to_dict()) == designs[1]


def test_world_truth() -> None:
    world = simulation_world(2000, municipalities=20, seed=1)
    assert world.truth["cate"].mean() == pytest.approx(world.sate)
    by_muni = world.truth["cate"].groupby(world.data["municipality"]).mean()
    pd.testing.assert_series_equal(by_muni, world.municipality_effects, check_names=False)
    big = simulation_world(400_000, municipalities=20_000, seed=2)
    assert big.sate == pytest.approx(population_ate(), abs=2e-3)
    assert population_ate(heterogeneity=0.0, cluster_sd=0.0) != population_ate()


def test_dml_ate_equals_estimate_cate() -> None:
    from o4o_causal.dml import estimate_cate

    data = simulation_world(1500, municipalities=30, seed=4).data
    fit = estimate_cate(
        data,
        outcome="employed",
        treatment="treated",
        effect_modifiers=["x1", "x2", "x3", "x4", "config"],
        controls=["resources"],
        cluster="municipality",
        learner=fast_learner(),
        seed=9,
        forest_options={"n_estimators": 8},
        progress=False,
    )
    ours = dml_ate(data, cluster="municipality", seed=9, ci_level=0.95)
    assert (ours.value, ours.se) == (fit.ate().value, fit.ate().se)


def test_plot_data_and_plots(serial: SimulationResult) -> None:
    from matplotlib.axes import Axes

    from o4o_causal.plotting.simulation import bias_data, bias_plot, coverage_data, coverage_plot

    cov = coverage_data(serial).dropna(subset=["coverage"])
    table = serial.summary().dropna(subset=["coverage"])
    merged = cov.merge(table, on=["design_id", "estimator"], suffixes=("", "_s"))
    np.testing.assert_allclose(merged["coverage"], merged["coverage_s"], rtol=1e-12)
    assert (cov["low"] <= cov["coverage"]).all() and (cov["nominal"] == 0.95).all()
    bias = bias_data(serial)
    np.testing.assert_allclose(bias["high"] - bias["low"], 2 * 1.96 * bias["bias_mcse"], rtol=1e-12)
    assert isinstance(coverage_plot(serial), Axes) and isinstance(bias_plot(serial), Axes)
    with pytest.raises(SpecificationError, match="by: expected"):
        bias_data(serial, by="colour")


def test_cli_command(tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from o4o_causal.simulate import simulate_cmd

    app = typer.Typer()
    app.command("simulate")(simulate_cmd)
    app.command("noop")(lambda: None)  # keep "simulate" a sub-command
    out = tmp_path / "s.parquet"
    args = ["simulate", "--reps", "2", "--n", "600", "--municipalities", "12,20", "--estimators", "naive"]
    done = CliRunner().invoke(app, [*args, "--workers", "0", "--no-progress", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert len(read(out).designs) == 2 and "coverage" in done.output
    bad = CliRunner().invoke(app, ["simulate", "--n", "many", "--workers", "0", "--out", str(out)])
    assert bad.exit_code == 2 and "--n: expected comma-separated int values" in bad.output


@pytest.mark.slow
def test_bayes_multilevel_replication(monkeypatch: pytest.MonkeyPatch) -> None:
    from o4o_causal.simulate import estimators

    monkeypatch.setitem(estimators.BAYES_SAMPLER, "draws", 200)
    monkeypatch.setitem(estimators.BAYES_SAMPLER, "tune", 200)
    result = run(Design(n=1000, municipalities=10), ["bayes_multilevel"], 1, 3, workers=0, progress=False)
    row = result.raw.iloc[0]
    assert row["status"] == "ok", result.failures()
    assert row["groups"] == 10 and 0 <= row["group_coverage"] <= 1
    assert row["ci_low"] <= row["estimate"] <= row["ci_high"] and row["diag_max_rhat"] > 0.99


def test_cli_import_does_not_load_numpy() -> None:
    import subprocess
    import sys

    code = "import sys; from o4o_causal.simulate.cli import simulate_cmd; print('numpy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"

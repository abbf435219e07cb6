"""Benchmark: simulation-study throughput on Dask, and coverage on the default design.

Run by hand (not part of the tests):

    .venv/bin/python reproducibility/benchmarks/simulate.py                # throughput
    .venv/bin/python reproducibility/benchmarks/simulate.py throughput     # replications / minute, 2 workers
    .venv/bin/python reproducibility/benchmarks/simulate.py bayes          # the Bayesian estimator alone
    .venv/bin/python reproducibility/benchmarks/simulate.py coverage       # R = $O4O_SIM_REPS (200) study

Design: :class:`o4o_causal.simulate.Design` defaults (n = 10,000 persons, 100
municipalities, confounding 0.5, heterogeneity 1, municipality intercept SD 0.5).

* ``throughput``: the default estimators (naive, regression, IPW, DML, clustered DML) on
  a ``LocalCluster`` of 2 single-threaded workers (2 cores): a warm-up of 2 replications
  (imports in the workers), then ``$O4O_SIM_BENCH_REPS`` (default 20) replications timed;
  replications per minute in steady state, and end to end including the cluster start.
* ``bayes``: ``bayes_multilevel`` alone, 4 replications in process (one thread).
* ``coverage``: the study behind the coverage claims (``$O4O_SIM_REPS`` replications,
  default 200, 2 workers); with ``$O4O_SIM_PARQUET`` set, the measures of that stored
  study (written by ``simulate.run(..., out=...)``) are recorded instead of re-running it.
  Targets: clustered DML ATE coverage in [0.92, 0.97]; unclustered DML below it.

Each part runs in a fresh child process. Figures are appended to
``simulate.results.json`` next to this file.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "simulate.results.json"
SEED = 20261130
COVERAGE_TARGET = (0.92, 0.97)


def _measures(result: object, target: str = "pate") -> dict[str, object]:
    table = result.summary(target=target)  # type: ignore[attr-defined]
    cols = ["ok", "failures", "bias", "bias_mcse", "rmse", "coverage", "coverage_mcse", "mean_width", "se_ratio"]
    out = {}
    for _, row in table.iterrows():
        out[row["estimator"]] = {
            c: (round(float(row[c]), 5) if c not in ("ok", "failures") else int(row[c])) for c in cols
        }
        out[row["estimator"]]["seconds_median"] = round(float(row["seconds_median"]), 3)
        if row["group_coverage"] == row["group_coverage"]:
            out[row["estimator"]]["municipality_coverage"] = round(float(row["group_coverage"]), 4)
    return out


def _throughput() -> dict[str, object]:
    from distributed import Client, LocalCluster

    from o4o_causal import simulate

    reps = int(os.environ.get("O4O_SIM_BENCH_REPS", "20"))
    t0 = time.perf_counter()
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        simulate.run(simulate.Design(), None, 2, SEED + 1, scheduler=client, progress=False)
        t1 = time.perf_counter()
        result = simulate.run(simulate.Design(), None, reps, SEED, scheduler=client, progress=False)
        t2 = time.perf_counter()
    return {
        "design": simulate.Design().to_dict(),
        "estimators": list(result.estimators),
        "workers": 2,
        "reps": reps,
        "cluster_start_and_warmup_s": round(t1 - t0, 1),
        "study_s": round(t2 - t1, 1),
        "reps_per_minute": round(60 * reps / (t2 - t1), 2),
        "reps_per_minute_end_to_end": round(60 * reps / (t2 - t0), 2),
        "estimators_measures": _measures(result),
    }


def _bayes() -> dict[str, object]:
    from o4o_causal import simulate

    t0 = time.perf_counter()
    result = simulate.run(simulate.Design(), ["bayes_multilevel"], 4, SEED, workers=0, progress=False)
    seconds = time.perf_counter() - t0
    return {"reps": 4, "seconds": round(seconds, 1), "reps_per_minute_one_core": round(240 / seconds, 2)} | {
        "measures": _measures(result)
    }


def _coverage() -> dict[str, object]:
    from o4o_causal import simulate

    stored = os.environ.get("O4O_SIM_PARQUET")
    if stored:
        result = simulate.read(stored)
    else:
        reps = int(os.environ.get("O4O_SIM_REPS", "200"))
        result = simulate.run(simulate.Design(), None, reps, SEED, workers=2, progress=False)
    return {
        "source": "stored study" if stored else "run here",
        "design": result.designs[0].to_dict(),
        "seed": result.seed,
        "reps": result.reps,
        "run_info": result.info,
        "pate": round(result.truths[0], 5),
        "measures": _measures(result),
        "measures_against_sample_ate": _measures(result, "sate"),
    }


def _judge(part: str, figures: dict[str, object]) -> None:
    """Add ``meets_targets`` for the coverage part."""
    if part != "coverage":
        return
    measures = figures["measures"]
    clustered = float(measures["dml_clustered"]["coverage"])  # type: ignore[index]
    unclustered = float(measures["dml"]["coverage"])  # type: ignore[index]
    low, high = COVERAGE_TARGET
    figures["meets_targets"] = low <= clustered <= high and unclustered < low


if __name__ == "__main__":
    from _harness import run

    run(
        __file__,
        RESULTS,
        {"throughput": _throughput, "bayes": _bayes, "coverage": _coverage},
        ["throughput"],
        extra={"targets": {"dml_clustered_coverage": COVERAGE_TARGET}},
        judge=_judge,
    )

"""``run``: replications of designs x estimators on Dask (a LocalCluster or an existing cluster).

One task per (design, replication). Seeds come from the study seed and the replication
index only (:func:`~o4o_causal.simulate.replication.replication_seeds`) and each task
pins numerical libraries to one thread, so the results are identical for any number of
workers, in process or on a cluster. A replication that fails (an estimator raising, a
worker dying) is recorded as failed rows with the error type and message.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from o4o_causal import config
from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.simulate.design import Design, as_designs
from o4o_causal.simulate.estimators import Fit, resolve
from o4o_causal.simulate.replication import Row, Task, failure_row, replication_seeds, run_replication
from o4o_causal.simulate.result import SimulationResult, package_versions

if TYPE_CHECKING:
    from distributed import Client

#: Columns present in every results table (numbers NaN and texts missing where not applicable).
NUMBERS = ("estimate", "se", "ci_low", "ci_high", "sate", "seconds", "warnings")
TEXTS = ("error_stage", "error_type", "error")


def _check(reps: object, seed: object, workers: object, scheduler: object, ci_level: object) -> None:
    def bad(what: str, expected: str, found: object, fix: str) -> SpecificationError:
        return SpecificationError(format_error(what=what, expected=expected, found=repr(found), fix=fix))

    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise bad("reps", "an integer >= 1", reps, "use e.g. reps=200")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise bad("seed", "an integer >= 0", seed, "use e.g. seed=20261130")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 0):
        raise bad("workers", "None, 0 (in this process) or a positive integer", workers, "use e.g. workers=2")
    if scheduler is not None and workers is not None:
        raise bad(
            "workers",
            "None when scheduler is given (the cluster has its workers)",
            workers,
            "drop workers= or scheduler=",
        )
    if scheduler is not None and not (isinstance(scheduler, str) and scheduler.strip()) and not _is_client(scheduler):
        raise bad(
            "scheduler", "an address like 'tcp://host:8786' or a distributed.Client", scheduler, "pass the address"
        )
    if isinstance(ci_level, bool) or not isinstance(ci_level, float | int) or not 0 < ci_level < 1:
        raise bad("ci_level", "a number in (0, 1)", ci_level, "use 0.95")


def _is_client(obj: object) -> bool:
    return type(obj).__name__ == "Client" and type(obj).__module__.startswith("distributed")


def default_workers(tasks: int) -> int:
    """Workers of the default LocalCluster: the usable cores, at most one per task."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, tasks))


@contextmanager
def _client(scheduler: str | Client | None, workers: int) -> Iterator[Client]:
    """Yield a client: of ``scheduler`` when given, else of a new LocalCluster (one thread per worker)."""
    from distributed import Client, LocalCluster

    if scheduler is not None and not isinstance(scheduler, str):
        yield scheduler  # the caller's client: neither closed nor modified here
        return
    if scheduler is not None:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    env = {name: "1" for name in config.THREAD_ENV_VARS} | {config.THREADS_ENV: "1"}
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
            env=env,
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="replications", unit="rep", disable=not enabled)


def _in_process(tasks: Sequence[Task], progress: bool) -> list[list[Row]]:
    out = []
    with _progress(len(tasks), progress) as bar:
        for task in tasks:
            out.append(run_replication(task))
            bar.update(1)
    return out


def _lost(task: Task, exc: BaseException) -> list[Row]:
    """Rows of a replication whose task failed outside the estimators (e.g. a worker died)."""
    data_seed, _ = replication_seeds(task.seed, task.replication, ())
    return [failure_row(task, name, data_seed, exc, "task") for name in task.estimators]


def _on_dask(tasks: Sequence[Task], client: Client, progress: bool) -> list[list[Row]]:
    from distributed import as_completed

    token = uuid.uuid4().hex[:8]
    futures = {
        client.submit(run_replication, t, key=f"o4o-sim-{token}-{t.design_id}-{t.replication}", pure=False): i
        for i, t in enumerate(tasks)
    }
    out: list[list[Row]] = [[] for _ in tasks]
    with _progress(len(tasks), progress) as bar:
        for future in as_completed(futures):  # type: ignore[no-untyped-call]
            i = futures[future]
            try:
                out[i] = future.result()
            except Exception as exc:  # a lost task is recorded, the study goes on
                out[i] = _lost(tasks[i], exc)
            future.release()
            bar.update(1)
    return out


def _table(chunks: list[list[Row]], names: Sequence[str], truths: Sequence[float]) -> pd.DataFrame:
    frame = pd.DataFrame([row for chunk in chunks for row in chunk])
    for col in NUMBERS:
        frame[col] = frame[col].astype(float) if col in frame else float("nan")
    for col in TEXTS:
        frame[col] = frame[col].astype("string") if col in frame else pd.Series(pd.NA, frame.index, dtype="string")
    order = {name: k for k, name in enumerate(names)}
    frame = (
        frame.assign(_order=frame["estimator"].map(order))
        .sort_values(["design_id", "replication", "_order"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    frame.insert(3, "pate", frame["design_id"].map(dict(enumerate(truths))))
    return frame


def _execute(
    tasks: Sequence[Task], scheduler: str | Client | None, workers: int | None, progress: bool
) -> tuple[list[list[Row]], dict[str, Any]]:
    """Run the tasks in process (``workers=0``) or on Dask; return their rows and run facts."""
    started, t0 = datetime.now(UTC), time.perf_counter()
    if scheduler is None and workers == 0:
        chunks, where, n_workers = _in_process(tasks, progress), "in-process", 0
    else:
        n_workers = workers if workers is not None else default_workers(len(tasks))
        with _client(scheduler, n_workers) as client:
            n_workers = len(client.scheduler_info().get("workers", {})) or n_workers
            where = "LocalCluster" if scheduler is None else str(getattr(client.scheduler, "address", "cluster"))
            chunks = _on_dask(tasks, client, progress)
    info = {
        "started": started.isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - t0, 3),
        "scheduler": where,
        "workers": n_workers,
    }
    return chunks, info


def run(
    design: Design | Sequence[Design],
    estimators: str | Sequence[str] | Mapping[str, Callable[..., Fit]] | None = None,
    reps: int = 200,
    seed: int = config.DEFAULT_SEED,
    *,
    scheduler: str | Client | None = None,
    workers: int | None = None,
    progress: bool = True,
    out: str | os.PathLike[str] | None = None,
    ci_level: float = config.CI_LEVEL,
) -> SimulationResult:
    """Run a simulation study: ``reps`` replications of every design with every estimator.

    Parameters
    ----------
    design
        A :class:`Design` or a sequence of them (:func:`~o4o_causal.simulate.grid`).
    estimators
        Names from :data:`~o4o_causal.simulate.ESTIMATORS` (default
        :data:`~o4o_causal.simulate.estimators.DEFAULT`), ``"all"``, or a mapping
        name -> function ``f(data, *, seed, ci_level) -> Fit``.
    reps
        Replications per design.
    seed
        Study seed; replication ``r`` uses child ``r`` of ``SeedSequence(seed)`` in every
        design (common random numbers across designs).
    scheduler
        Address of an existing Dask scheduler (``"tcp://host:8786"``; start workers with
        ``--nthreads 1``) or a ``distributed.Client``; default: a new ``LocalCluster``.
    workers
        Workers of the LocalCluster (default: usable cores, at most one per task); ``0``
        runs every replication in this process without Dask.
    progress
        Show a progress bar over replications.
    out
        Parquet file to write the result to (atomically), or ``None``.
    ci_level
        Level of the intervals.

    Returns
    -------
    SimulationResult

    Raises
    ------
    SpecificationError
        Bad designs, estimator names, ``reps``, ``seed``, ``workers``, ``scheduler`` or ``ci_level``.

    Notes
    -----
    The LocalCluster starts worker processes by *spawn*: a script that calls ``run``
    must do so under ``if __name__ == "__main__":`` (notebooks and ``o4o simulate`` need
    nothing). A replication whose worker dies is retried by Dask, then recorded with
    ``error_stage="task"`` (e.g. ``KilledWorker``) for all its estimators.
    """
    designs = as_designs(design)
    chosen = resolve(estimators)
    _check(reps, seed, workers, scheduler, ci_level)
    truths = [d.population_ate() for d in designs]
    tasks = [Task(i, d, r, seed, chosen, float(ci_level)) for i, d in enumerate(designs) for r in range(reps)]
    chunks, info = _execute(tasks, scheduler, workers, progress)
    result = SimulationResult(
        raw=_table(chunks, list(chosen), truths),
        designs=designs,
        truths=tuple(truths),
        seed=seed,
        reps=reps,
        estimators=tuple(chosen),
        ci_level=float(ci_level),
        versions=package_versions(),
        info=info,
    )
    if out is not None:
        result.to_parquet(Path(out))
    return result


__all__ = ["default_workers", "run"]

"""One replication of a simulation study: draw the data, run every estimator, score the fits.

This is the unit of work sent to a Dask worker. Everything random in it derives from
the study seed and the replication index (:func:`replication_seeds`), and numerical
libraries are pinned to one thread while it runs, so its numbers do not depend on the
worker, the number of workers or the order in which replications finish.
"""

from __future__ import annotations

import math
import os
import time
import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from o4o_causal import config
from o4o_causal.simulate.design import CLUSTER, Design
from o4o_causal.simulate.estimators import Fit

#: Error messages longer than this are cut in the results table.
MAX_MESSAGE = 500

Row = dict[str, Any]


@dataclass(frozen=True)
class Task:
    """One (design, replication) of a study: everything a worker needs."""

    design_id: int
    design: Design
    replication: int
    seed: int
    estimators: Mapping[str, Callable[..., Fit]]
    ci_level: float


def replication_seeds(seed: int, replication: int, estimators: tuple[str, ...]) -> tuple[int, dict[str, int]]:
    """Return the data seed and the per-estimator seeds of a replication.

    The replication's :class:`numpy.random.SeedSequence` is child ``replication`` of
    ``SeedSequence(seed)`` (what ``SeedSequence(seed).spawn(reps)[replication]`` gives);
    the data seed is its child 0, and estimator ``name`` gets child ``(1, crc32(name))``,
    so adding or removing an estimator does not change the others' numbers.

    Parameters
    ----------
    seed
        Seed of the study.
    replication
        Replication index.
    estimators
        Estimator names.

    Returns
    -------
    (int, dict)
        Data seed, and estimator name -> seed (32-bit unsigned integers).
    """
    base = np.random.SeedSequence(seed, spawn_key=(replication,))

    def child(*key: int) -> int:
        return int(np.random.SeedSequence(base.entropy, spawn_key=(*base.spawn_key, *key)).generate_state(1)[0])

    return child(0), {name: child(1, zlib.crc32(name.encode())) for name in estimators}


@contextmanager
def pinned_threads() -> Iterator[None]:
    """Pin BLAS/OpenMP pools, LightGBM and nutpie (``O4O_THREADS``) to one thread; restore after."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    old = os.environ.get(config.THREADS_ENV)
    os.environ[config.THREADS_ENV] = "1"
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        if old is None:
            os.environ.pop(config.THREADS_ENV, None)
        else:
            os.environ[config.THREADS_ENV] = old


def _base(task: Task, name: str, data_seed: int) -> Row:
    return {
        "design_id": task.design_id,
        "replication": task.replication,
        "estimator": name,
        "data_seed": data_seed,
    }


def failure_row(task: Task, name: str, data_seed: int, exc: BaseException, stage: str) -> Row:
    """Return the results row of an estimator that failed (error type and message, no numbers)."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return {
        **_base(task, name, data_seed),
        "status": "failed",
        "error_stage": stage,
        "error_type": type(exc).__name__,
        "error": message[:MAX_MESSAGE],
    }


def _check_fit(fit: object, name: str) -> Fit:
    if not isinstance(fit, Fit):
        raise TypeError(f"estimator {name!r} returned {type(fit).__name__}, expected simulate.Fit")
    if not math.isfinite(fit.estimate):
        raise ValueError(f"estimator {name!r} returned a non-finite estimate ({fit.estimate!r})")
    return fit


def _group_scores(fit: Fit, truth: pd.Series) -> Row:
    if fit.groups is None:
        return {}
    table = fit.groups.set_index(CLUSTER)
    true = truth.reindex(table.index)
    if true.isna().any():
        raise ValueError("municipality effects for municipalities that are not in the data")
    low, high = table["ci_low"].to_numpy(float), table["ci_high"].to_numpy(float)
    covered = (low <= true.to_numpy()) & (true.to_numpy() <= high)
    return {"group_coverage": float(covered.mean()), "group_width": float(np.mean(high - low)), "groups": len(table)}


def _run_one(task: Task, name: str, estimator: Callable[..., Fit], world: Any, seeds: tuple[int, int]) -> Row:
    data_seed, seed = seeds
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = _check_fit(estimator(world.data.copy(), seed=seed, ci_level=task.ci_level), name)
            scores = _group_scores(fit, world.municipality_effects)
        except Exception as exc:  # a failed estimator is a result of the study, not a crash
            row = failure_row(task, name, data_seed, exc, "estimator")
            return {**row, "seconds": time.perf_counter() - start, "warnings": len(caught)}
    return {
        **_base(task, name, data_seed),
        "status": "ok",
        "estimate": float(fit.estimate),
        "se": float(fit.se),
        "ci_low": float(fit.ci_low),
        "ci_high": float(fit.ci_high),
        "sate": float(world.sate),
        **scores,
        **{f"diag_{k}": float(v) for k, v in fit.diagnostics.items()},
        "seconds": time.perf_counter() - start,
        "warnings": len(caught),
    }


def run_replication(task: Task) -> list[Row]:
    """Run one replication (single-threaded numerics); failures become rows, never exceptions.

    Parameters
    ----------
    task
        The design, replication index, study seed, estimators and interval level.

    Returns
    -------
    list of dict
        One row per estimator, in the order of ``task.estimators``.
    """
    names = tuple(task.estimators)
    data_seed, seeds = replication_seeds(task.seed, task.replication, names)
    with pinned_threads():
        try:
            world = task.design.draw(data_seed)
        except Exception as exc:
            return [failure_row(task, name, data_seed, exc, "data") for name in names]
        return [_run_one(task, n, f, world, (data_seed, seeds[n])) for n, f in task.estimators.items()]


__all__ = ["Task", "failure_row", "pinned_threads", "replication_seeds", "run_replication"]

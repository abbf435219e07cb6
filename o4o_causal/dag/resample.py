"""Random modifications of the data behind :func:`o4o_causal.dag.refute` (one function per check).

Every function takes a :class:`Job` (working frame, spec, cluster codes) and a
``SeedSequence`` and returns ``(effect, error)``: the re-estimated effect, or NaN and
the message of the suite error that refused the modified data.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from o4o_causal.dag.estimate import EffectSpec, estimate_with_spec
from o4o_causal.exceptions import O4OError


@dataclass(frozen=True)
class Job:
    """What every simulation of one check needs (sent once per task to the workers)."""

    frame: pd.DataFrame
    spec: EffectSpec
    codes: np.ndarray | None  # cluster codes 0..G-1 of the rows, or None
    fraction: float


Draw = tuple[float, str]  # (effect, error message of a failed draw or "")


def fit_value(frame: pd.DataFrame, spec: EffectSpec) -> Draw:
    """Re-estimate on modified data; a suite error gives ``(nan, message)``."""
    try:
        return estimate_with_spec(frame, spec).value, ""
    except (O4OError, np.linalg.LinAlgError) as exc:  # a draw the estimator refuses: counted as failed
        return math.nan, f"{type(exc).__name__}: {exc}"


def placebo_treatment(treatment: np.ndarray, codes: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """Return a placebo treatment: a permutation, keeping the cluster structure if ``codes`` given.

    With clusters, cluster ``c`` receives ``round(share[pi(c)] * size[c])`` treated units
    at random positions, ``pi`` a random permutation of clusters.
    """
    if codes is None:
        return np.asarray(rng.permutation(treatment))
    size = np.bincount(codes)
    share = np.bincount(codes, weights=treatment.astype(float)) / size
    n_treated = np.rint(share[rng.permutation(size.size)] * size).astype(np.int64)
    order = np.lexsort((rng.random(codes.size), codes))
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    rank = np.empty(codes.size, dtype=np.int64)
    rank[order] = np.arange(codes.size) - start[codes[order]]
    placebo: np.ndarray = (rank < n_treated[codes]).astype(treatment.dtype)
    return placebo


def _placebo(job: Job, seq: np.random.SeedSequence) -> Draw:
    rng = np.random.default_rng(seq)
    fake = placebo_treatment(job.frame[job.spec.treatment].to_numpy(), job.codes, rng)
    return fit_value(job.frame.assign(**{job.spec.treatment: fake}), job.spec)


def _random_common_cause(job: Job, seq: np.random.SeedSequence) -> Draw:
    rng = np.random.default_rng(seq)
    column = job.spec.adjustment[-1]  # the spec already lists the new column last
    return fit_value(job.frame.assign(**{column: rng.standard_normal(len(job.frame))}), job.spec)


def _subset(job: Job, seq: np.random.SeedSequence) -> Draw:
    rng = np.random.default_rng(seq)
    if job.codes is None:
        n = len(job.frame)
        rows = np.sort(rng.choice(n, size=max(2, round(job.fraction * n)), replace=False))
    else:
        g = int(job.codes.max()) + 1
        chosen = rng.choice(g, size=max(2, round(job.fraction * g)), replace=False)
        rows = np.flatnonzero(np.isin(job.codes, chosen))
    return fit_value(job.frame.iloc[rows], job.spec)


def _bootstrap(job: Job, seq: np.random.SeedSequence) -> Draw:
    rng = np.random.default_rng(seq)
    spec = job.spec
    if job.codes is None:
        rows = rng.integers(0, len(job.frame), size=len(job.frame))
        return fit_value(job.frame.iloc[rows], spec)
    size = np.bincount(job.codes)
    order = np.argsort(job.codes, kind="stable")
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    draw = rng.integers(0, size.size, size=size.size)
    rows = np.concatenate([order[start[c] : start[c] + size[c]] for c in draw])
    label = np.repeat(np.arange(draw.size), size[draw])  # duplicates are distinct clusters
    sample = job.frame.iloc[rows].reset_index(drop=True)
    relabel: dict[str, Any] = {str(spec.cluster): label}
    if spec.fixed_effects and spec.fixed_effects != spec.cluster:
        fe = pd.factorize(sample[spec.fixed_effects])[0]
        relabel[spec.fixed_effects] = label * (int(fe.max()) + 1) + fe
    elif spec.fixed_effects:
        relabel[spec.fixed_effects] = label
    return fit_value(sample.assign(**relabel), spec)


SIMULATIONS: dict[str, Callable[[Job, np.random.SeedSequence], Draw]] = {
    "placebo": _placebo,
    "random_common_cause": _random_common_cause,
    "subset": _subset,
    "bootstrap": _bootstrap,
}


def simulate(check: str, job: Job, seqs: list[np.random.SeedSequence], n_jobs: int, progress: bool) -> list[Draw]:
    """Run one draw of ``check`` per seed sequence in parallel (joblib), in seed order."""
    from joblib import Parallel, delayed
    from tqdm import tqdm

    func = SIMULATIONS[check]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(func)(job, s) for s in seqs)
    return [
        (float(v), str(e)) for v, e in tqdm(results, total=len(seqs), desc=f"refute: {check}", disable=not progress)
    ]


@dataclass(frozen=True)
class Draws:
    """Successful draws of one check, the number attempted and the first failure message."""

    values: np.ndarray  # successful draws
    total: int
    error: str  # first error message of a failed draw

    @classmethod
    def of(cls, draws: list[Draw]) -> Draws:
        """Collect the results of :func:`simulate`."""
        values = np.array([v for v, _ in draws], dtype=float)
        errors = [e for _, e in draws if e]
        return cls(values[np.isfinite(values)], len(draws), errors[0] if errors else "")

    def base(self, level: float) -> dict[str, Any]:
        """Return the mean, sd and percentile interval of the draws (table columns)."""
        v = self.values
        tail = (1.0 - level) / 2.0
        low, high = np.quantile(v, [tail, 1.0 - tail]) if v.size else (math.nan, math.nan)
        sd = float(np.std(v, ddof=1)) if v.size > 1 else math.nan
        mean = float(v.mean()) if v.size else math.nan
        return {"new_effect": mean, "se": sd, "ci_low": float(low), "ci_high": float(high), "n_simulations": v.size}

    def failed(self) -> str:
        """Return a note on failed draws ('' when none failed)."""
        lost = self.total - self.values.size
        return f"; {lost} of {self.total} draws failed ({self.error[:120]})" if lost else ""

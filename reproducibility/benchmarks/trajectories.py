"""Benchmark: sequence distances and typologies at register size.

Run by hand (not part of the tests), one part at a time on a shared machine:

    .venv/bin/python reproducibility/benchmarks/trajectories.py ward20k     # 20,000 x 48, OMspell + Ward
    .venv/bin/python reproducibility/benchmarks/trajectories.py om20k       # 20,000 x 48, OM (TRATE) + Ward
    .venv/bin/python reproducibility/benchmarks/trajectories.py clara100k   # 100,000 x 48, OMspell + CLARA

Data: sequences drawn like the synthetic world's WAA cohort
(:func:`o4o_causal.synth.waa.generate_waa`, harmonised states, exits after death or
emigration), NO/SE/DK in the world's proportions, the planted trajectory type known
per person. The analysis setup is the recommended one: WAA with and without a measure
merged (``recode=MERGE_MEASURES``), censored persons dropped, k = 4.

Targets: 20,000 sequences -> distances + clustering <= 60 s and <= 4 GB peak on 2
cores; 100,000 sequences by CLARA (no full matrix). Figures (seconds, peak memory,
distinct sequences, ARI against the planted types) are appended to
``trajectories.results.json`` next to this file.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "trajectories.results.json"
SEED = 20261201
TARGETS = {"ward20k": {"seconds": 60.0, "peak_gb": 4.0}, "om20k": {"seconds": 60.0, "peak_gb": 4.0}}
SHARES = {"NO": 0.5, "SE": 0.3, "DK": 0.2}


def _cohort(n: int) -> tuple[pd.DataFrame, pd.Series]:
    """Return a waa-like cohort frame (m01..m48 state names, None after exit) and the true types."""
    from o4o_causal.registers import formats
    from o4o_causal.synth.waa import generate_waa

    rng = np.random.default_rng(SEED)
    frames, truth = [], []
    for country, share in SHARES.items():
        munis = pd.DataFrame(
            {"country": country, "municipality_id": [f"{country}-{i:03d}" for i in range(50)], "population": 1.0}
        )
        m = round(n * share)
        block = generate_waa(rng, munis, country, m)
        codes = block.states()
        names = np.asarray(formats.STATES, dtype=object)[np.clip(codes, 0, None)]
        names[codes < 0] = None
        frame = pd.DataFrame(names, columns=[f"m{t:02d}" for t in range(1, codes.shape[1] + 1)])
        frame.insert(0, "municipality_id", block.persons["municipality_id"].to_numpy())
        frame.insert(0, "country", country)
        frame.insert(0, "person_id", [f"{country}{i:06d}" for i in range(m)])
        frames.append(frame)
        truth.append(pd.Series(block.truth["waa_types"]["trajectory_type"].to_numpy(), index=frame["person_id"]))
    return pd.concat(frames, ignore_index=True), pd.concat(truth)


def _full(n: int, method: str, substitution: str) -> dict[str, object]:
    from sklearn.metrics import adjusted_rand_score

    from o4o_causal.trajectories import MERGE_MEASURES, om_distances, sequences, typology

    frame, truth = _cohort(n)
    t0 = time.perf_counter()
    seqs = sequences(frame, recode=MERGE_MEASURES)
    t1 = time.perf_counter()
    dist = om_distances(seqs, method=method, substitution=substitution)
    t2 = time.perf_counter()
    res = typology(dist, k=4, method="ward")
    t3 = time.perf_counter()
    unrecoded = sequences(frame).distinct()[0].shape[0]
    return {
        "n_input": len(frame),
        "n_sequences": seqs.n,
        "distinct": dist.n_distinct,
        "distinct_without_recode": unrecoded,
        "distance": f"{method}/{substitution}",
        "sequences_s": round(t1 - t0, 2),
        "distances_s": round(t2 - t1, 1),
        "ward_and_quality_s": round(t3 - t2, 1),
        "distances_plus_clustering_s": round(t3 - t1, 1),
        "ari_planted": round(float(adjusted_rand_score(truth.loc[seqs.ids].to_numpy(), res.labels)), 4),
        "asw": round(float(res.quality["asw"]), 3),
        "types": list(res.names),
    }


def _ward20k() -> dict[str, object]:
    return _full(20_000, "OMspell", "TRATE")


def _om20k() -> dict[str, object]:
    return _full(20_000, "OM", "TRATE")


def _clara100k() -> dict[str, object]:
    from sklearn.metrics import adjusted_rand_score

    from o4o_causal.trajectories import MERGE_MEASURES, sequences, typology

    frame, truth = _cohort(100_000)
    t0 = time.perf_counter()
    seqs = sequences(frame, recode=MERGE_MEASURES)
    t1 = time.perf_counter()
    res = typology(
        seqs, k=4, method="clara", seed=SEED, samples=5, sample_size=2000, distance_options={"method": "OMspell"}
    )
    t2 = time.perf_counter()
    return {
        "n_sequences": seqs.n,
        "distinct": int(seqs.distinct()[0].shape[0]),
        "samples": 5,
        "sample_size": 2000,
        "sequences_s": round(t1 - t0, 2),
        "clara_s": round(t2 - t1, 1),
        "ari_planted": round(float(adjusted_rand_score(truth.loc[seqs.ids].to_numpy(), res.labels)), 4),
        "asw_on_sample": round(float(res.quality["asw"]), 3),
        "types": list(res.names),
    }


def _judge(part: str, figures: dict[str, object]) -> None:
    """Add ``meets_targets`` to the figures of the 20k parts."""
    if part in TARGETS:
        figures["meets_targets"] = (
            float(figures["distances_plus_clustering_s"]) <= TARGETS[part]["seconds"]  # type: ignore[arg-type]
            and float(figures["peak_rss_gb"]) <= TARGETS[part]["peak_gb"]  # type: ignore[arg-type]
        )


if __name__ == "__main__":
    from _harness import run

    run(
        __file__,
        RESULTS,
        {"ward20k": _ward20k, "om20k": _om20k, "clara100k": _clara100k},
        ["ward20k", "om20k", "clara100k"],
        extra={"targets": TARGETS},
        judge=_judge,
    )

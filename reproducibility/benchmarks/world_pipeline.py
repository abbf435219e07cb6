"""Benchmark: synthetic world generation + raw extract writing + ingestion.

Run by hand (not part of the tests):

    .venv/bin/python reproducibility/benchmarks/world_pipeline.py            # default and register
    .venv/bin/python reproducibility/benchmarks/world_pipeline.py default    # one scale

Each scale runs in a fresh child process so that peak memory (max RSS) is measured per
scale. Figures are appended to ``world_pipeline.results.json`` next to this file
(targets: default <= 2 min end to end; register (1M persons, 60 months) <= 5 min and
<= 8 GB peak, on 2 cores).
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "world_pipeline.results.json"
TARGETS = {"default": {"seconds": 120.0, "peak_gb": None}, "register": {"seconds": 300.0, "peak_gb": 8.0}}


def _child(scale: str, folder: str) -> None:
    from o4o_causal.registers import ingest, open_store
    from o4o_causal.synth import generate_world

    t0 = time.perf_counter()
    world = generate_world(scale, seed=20261130)
    t1 = time.perf_counter()
    world.write(folder)
    t2 = time.perf_counter()
    store = ingest(Path(folder) / "raw", Path(folder) / "store.duckdb", progress=False)
    t3 = time.perf_counter()
    with open_store(store) as s:
        rows = int(s.sql("SELECT count(*) AS n FROM panel")["n"].iloc[0])
        persons = int(s.sql("SELECT count(*) AS n FROM persons")["n"].iloc[0])
        core = int(s.sql("SELECT count(*) AS n FROM persons WHERE cohort = 'core'")["n"].iloc[0])
    raw_bytes = sum(p.stat().st_size for p in (Path(folder) / "raw").rglob("*") if p.is_file())
    print(
        json.dumps(
            {
                "generate_s": round(t1 - t0, 2),
                "write_s": round(t2 - t1, 2),
                "ingest_s": round(t3 - t2, 2),
                "total_s": round(t3 - t0, 2),
                "persons": persons,
                "core_persons": core,
                "panel_rows": rows,
                "raw_mb": round(raw_bytes / 2**20, 1),
                "store_mb": round(Path(store).stat().st_size / 2**20, 1),
            }
        )
    )


def run_scale(scale: str) -> dict[str, object]:
    """Run one scale in a child process and return its figures with peak memory."""
    with tempfile.TemporaryDirectory(prefix=f"o4o-bench-{scale}-") as folder:
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        done = subprocess.run(
            [sys.executable, __file__, "--child", scale, folder], capture_output=True, text=True, check=True
        )
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["peak_rss_gb"] = round(max(peak_kb, before) / 2**20, 2)
    target = TARGETS[scale]
    figures["target_seconds"] = target["seconds"]
    figures["target_peak_gb"] = target["peak_gb"]
    figures["meets_targets"] = figures["total_s"] <= target["seconds"] and (
        target["peak_gb"] is None or figures["peak_rss_gb"] <= target["peak_gb"]
    )
    return figures


def main(scales: list[str]) -> None:
    """Run the benchmark for ``scales`` and append the results."""
    from o4o_causal import __version__, config

    entry = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "o4o_causal": __version__,
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "threads": config.threads(),
        "scales": {},
    }
    for scale in scales:
        print(f"running {scale} ...", flush=True)
        entry["scales"][scale] = run_scale(scale)  # type: ignore[index]
        print(json.dumps(entry["scales"][scale], indent=1), flush=True)  # type: ignore[index]
    history = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    history.append(entry)
    RESULTS.write_text(json.dumps(history, indent=1) + "\n", encoding="utf-8")
    print(f"appended to {RESULTS.name}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1:] or ["default", "register"])

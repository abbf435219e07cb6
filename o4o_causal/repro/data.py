"""Making sure the synthetic data a profile runs on exists before notebooks execute.

``reproducibility/profiles.yaml`` may name, per profile, the synthetic world the
notebooks read by default (``data: {quick: {scale, seed, path}}``). Before a run the
runner generates and ingests it when it is missing; it never touches a folder that
already holds ``raw/`` (raw extracts are never overwritten). A run pointed at other
data with ``--data-dir`` (real extracts) skips this step.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from o4o_causal.exceptions import SpecificationError, format_error

_KEYS = {"scale", "seed", "path"}


def check_spec(spec: Mapping[str, Any], where: str) -> None:
    """Raise :class:`SpecificationError` unless ``spec`` has exactly scale, seed and path."""
    if set(spec) != _KEYS:
        raise SpecificationError(
            format_error(
                what=where,
                expected=f"keys {sorted(_KEYS)}",
                found=repr(sorted(spec)),
                fix="write e.g. 'quick: {scale: small, seed: 20261130, path: data/synthetic/small}'",
            )
        )


def ensure_synthetic(root: Path, spec: Mapping[str, Any]) -> dict[str, Any]:
    """Generate (if missing) and ingest (if missing) the synthetic world of ``spec``.

    Returns
    -------
    dict
        ``path, scale, seed, generated, ingested, seconds`` for the run manifest.
    """
    from o4o_causal.registers import ingest
    from o4o_causal.synth import generate_world

    path = Path(spec["path"])
    folder = path if path.is_absolute() else root / path
    t0 = time.perf_counter()
    generated = ingested = False
    if not (folder / "raw").exists():
        generate_world(str(spec["scale"]), seed=int(spec["seed"])).write(folder)
        generated = True
    if not (folder / "store.duckdb").exists():
        ingest(folder / "raw", folder / "store.duckdb", progress=False)
        ingested = True
    return {
        "path": str(spec["path"]),
        "scale": spec["scale"],
        "seed": spec["seed"],
        "generated": generated,
        "ingested": ingested,
        "seconds": round(time.perf_counter() - t0, 2),
    }

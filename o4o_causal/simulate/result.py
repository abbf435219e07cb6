"""The immutable result of a simulation study, its summary and its Parquet file."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from o4o_causal._io import atomic_open
from o4o_causal.exceptions import DataError, format_error
from o4o_causal.simulate.design import Design
from o4o_causal.simulate.metrics import summarise

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Key of the study's description in the Parquet schema metadata.
METADATA_KEY = b"o4o_simulation"
#: Version of the file layout.
FORMAT = 1
#: Columns that depend on the machine, not on the seed (left out by :meth:`SimulationResult.numbers`).
TIMING_COLUMNS = ("seconds",)
#: Packages whose versions are recorded with a study.
PACKAGES = (
    "o4o-causal",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "lightgbm",
    "statsmodels",
    "pyfixest",
    "econml",
    "pymc",
    "nutpie",
    "dask",
    "distributed",
    "pyarrow",
)


def package_versions() -> dict[str, str]:
    """Return the versions of Python and of the packages in :data:`PACKAGES` (``"absent"`` if missing)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    return out


@dataclass(frozen=True, repr=False)
class SimulationResult:
    """Replications of designs x estimators, built by :func:`~o4o_causal.simulate.run`.

    Attributes
    ----------
    raw
        One row per (design, replication, estimator): ``design_id, replication,
        estimator, pate, data_seed, status, estimate, se, ci_low, ci_high, sate``, for
        municipality-effect estimators ``group_coverage, group_width, groups``,
        diagnostics ``diag_*``, ``seconds``, ``warnings``, and for failures
        ``error_stage, error_type, error``. Treat as read-only.
    designs
        The designs (``design_id`` = position).
    truths
        Superpopulation ATE of every design.
    seed, reps, estimators, ci_level
        The study's settings.
    versions
        Python and package versions.
    info
        Machine-dependent facts: start time, elapsed seconds, scheduler, workers.
    """

    raw: pd.DataFrame
    designs: tuple[Design, ...]
    truths: tuple[float, ...]
    seed: int
    reps: int
    estimators: tuple[str, ...]
    ci_level: float
    versions: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def design_table(self) -> pd.DataFrame:
        """Return one row per design: ``design_id, label``, the fields and the true ``pate``."""
        rows = [{"design_id": i, "label": d.label, **d.to_dict()} for i, d in enumerate(self.designs)]
        return pd.DataFrame(rows).assign(pate=list(self.truths))

    def summary(self, *, target: str = "pate") -> pd.DataFrame:
        """Bias, RMSE, coverage (with Monte Carlo SEs), width, failures and time per design x estimator.

        Parameters
        ----------
        target
            ``"pate"`` (superpopulation ATE, default) or ``"sate"`` (sample ATE of each replication).

        Returns
        -------
        DataFrame
            See :func:`o4o_causal.simulate.metrics.summarise`.
        """
        return summarise(self.raw, self.design_table().drop(columns="pate"), target=target)

    def failures(self) -> pd.DataFrame:
        """Return the failed rows with their error stage, type and message."""
        cols = ["design_id", "replication", "estimator", "error_stage", "error_type", "error"]
        failed = self.raw[self.raw["status"] == "failed"]
        return failed.reindex(columns=cols).reset_index(drop=True)

    def numbers(self) -> pd.DataFrame:
        """Return a copy of :attr:`raw` without machine-dependent timings (equal across worker counts)."""
        return self.raw.drop(columns=[c for c in TIMING_COLUMNS if c in self.raw]).copy()

    def _metadata(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "designs": [d.to_dict() for d in self.designs],
            "truths": list(self.truths),
            "seed": self.seed,
            "reps": self.reps,
            "estimators": list(self.estimators),
            "ci_level": self.ci_level,
            "versions": self.versions,
            "info": self.info,
        }

    def to_parquet(self, path: str | os.PathLike[str]) -> Path:
        """Write :attr:`raw` to Parquet atomically, with designs, seed and versions in the metadata.

        Parameters
        ----------
        path
            Target file (parent folders are created).

        Returns
        -------
        Path
            The written file.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(self.raw, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        meta[METADATA_KEY] = json.dumps(self._metadata(), sort_keys=True).encode()
        target = Path(path)
        with atomic_open(target, "wb") as handle:
            pq.write_table(table.replace_schema_metadata(meta), handle)
        return target

    def plot_coverage(self, *, ax: Axes | None = None, target: str = "pate") -> Axes:
        """Coverage per estimator and design, MC error bars (:func:`o4o_causal.plotting.simulation.coverage_plot`)."""
        from o4o_causal.plotting.simulation import coverage_plot

        return coverage_plot(self, ax=ax, target=target)

    def plot_bias(self, *, by: str = "design", ax: Axes | None = None, target: str = "pate") -> Axes:
        """Bias by design with MC error bars (:func:`o4o_causal.plotting.simulation.bias_plot`)."""
        from o4o_causal.plotting.simulation import bias_plot

        return bias_plot(self, by=by, ax=ax, target=target)

    def __repr__(self) -> str:
        failed = int((self.raw["status"] == "failed").sum()) if len(self.raw) else 0
        return (
            f"SimulationResult({len(self.designs)} design(s) x {self.reps} replications x "
            f"{len(self.estimators)} estimators [{', '.join(self.estimators)}], seed={self.seed}, "
            f"{failed} failed rows)"
        )


def read(path: str | os.PathLike[str]) -> SimulationResult:
    """Read a study written by :meth:`SimulationResult.to_parquet`.

    Parameters
    ----------
    path
        Parquet file.

    Returns
    -------
    SimulationResult

    Raises
    ------
    DataError
        If the file has no simulation metadata or an unknown layout version.
    """
    import pyarrow.parquet as pq

    table = pq.read_table(Path(path))
    raw_meta = (table.schema.metadata or {}).get(METADATA_KEY)
    if raw_meta is None:
        raise DataError(
            format_error(
                what=f"file {os.fspath(path)!r}",
                expected="a Parquet file written by SimulationResult.to_parquet",
                found="no simulation metadata",
                fix="pass the file written by simulate.run(..., out=...) or result.to_parquet(...)",
            )
        )
    meta = json.loads(raw_meta)
    if meta.get("format") != FORMAT:
        raise DataError(
            format_error(
                what=f"file {os.fspath(path)!r}",
                expected=f"simulation file format {FORMAT}",
                found=repr(meta.get("format")),
                fix="re-run the study with this version of o4o_causal",
            )
        )
    return SimulationResult(
        raw=table.to_pandas(),
        designs=tuple(Design.from_dict(d) for d in meta["designs"]),
        truths=tuple(float(t) for t in meta["truths"]),
        seed=int(meta["seed"]),
        reps=int(meta["reps"]),
        estimators=tuple(meta["estimators"]),
        ci_level=float(meta["ci_level"]),
        versions=dict(meta["versions"]),
        info=dict(meta["info"]),
    )


__all__ = ["SimulationResult", "package_versions", "read"]

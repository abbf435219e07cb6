"""``build_bundle``: one country's disclosure-checked aggregates, written as a reviewable folder.

Runs inside one country's secure environment on that country's rows only. The folder
holds CSV tables an output checker can read, a suppression log, and ``manifest.json``
(schema version, country, analyses and spec, versions, seed, threshold, SHA-256 of
every file, the disclosure findings and log). It is written to a temporary folder next
to the target and renamed into place, so a crash never leaves a half-written bundle.

Warnings raised by the analyses are kept in the manifest with every number and path
masked (:func:`scrub_warning`): they are free text no disclosure check reads. The same
data, spec and seed give byte-identical tables; the manifest differs only in
``created_utc`` and ``timings_s`` (and so in its digest).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from o4o_causal import _io
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.federation import analyses, cells, disclosure
from o4o_causal.federation.manifest import KEY_PACKAGES, manifest_digest, versions
from o4o_causal.federation.spec import ANALYSES, SCHEMA_VERSION, BundleSpec
from o4o_causal.sdc.findings import Finding

#: Name of the bundle folder inside ``out_dir``.
BUNDLE_PREFIX = "bundle-"

#: How the group sizes of ``estimates.csv`` are published (recorded in the manifest).
GATE_COUNTS = (
    "ATE/ATT rows: exact arm totals; GATE rows: n_treated and n_control after controlled rounding "
    "to multiples of the threshold (running totals per 'by' rounded down, last row exact), n = their sum"
)

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:[eE][-+]?\d+)?")
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s'\"\\/]+){2,}[\\/]?")


def _country_rows(frame: pd.DataFrame, country: str | None, what: str) -> tuple[pd.DataFrame, str]:
    present = sorted(frame["country"].astype(str).unique().tolist())
    if country is None:
        if len(present) != 1:
            raise DataError(
                format_error(
                    what=f"{what} (country=None)",
                    expected="the rows of exactly one country (a bundle never mixes countries)",
                    found=f"rows of {present}",
                    fix=f"pass country= one of {present}; only its rows are used",
                )
            )
        country = present[0]
    if country not in present:
        raise DataError(
            format_error(
                what=f"country={country!r}",
                expected=f"a country with rows in the {what}",
                found=f"countries {present}",
                fix="pass a country present in the store",
            )
        )
    return frame[frame["country"] == country].reset_index(drop=True), country


def _check_analyses(requested: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(requested))
    unknown = [a for a in chosen if a not in ANALYSES]
    if unknown or not chosen:
        raise SpecificationError(
            format_error(
                what="analyses",
                expected=f"a non-empty selection of {ANALYSES}",
                found=repr(tuple(requested)),
                fix="pick from the listed analyses",
            )
        )
    return chosen


class _Writer:
    """Collects tables, findings and log rows, then writes the folder."""

    def __init__(self, folder: Path, threshold: int, progress: bool) -> None:
        self.folder, self.threshold, self.progress = folder, threshold, progress
        self.files: dict[str, str] = {}
        self.findings: list[Finding] = []
        self.log: list[dict[str, str]] = []
        self.status: dict[str, dict[str, Any]] = {}
        self.timings: dict[str, float] = {}
        self.warnings: list[str] = []

    def run(self, name: str, step: Callable[[], None]) -> None:
        start = time.perf_counter()
        step()
        self.timings[name] = round(time.perf_counter() - start, 3)
        if self.progress:
            print(f"  {name}: {self.timings[name]:.1f} s", flush=True)

    def table(self, file: str, table: pd.DataFrame, *, counts: Sequence[str], estimates: bool) -> None:
        self.findings += disclosure.check_counts(table, counts, name=file, threshold=self.threshold)
        self.findings += disclosure.sdc_findings(
            table, name=file, threshold=self.threshold, counts=counts, estimates=estimates
        )
        table.to_csv(self.folder / file, index=False, float_format="%.10g")
        self.files[file] = _io.sha256_file(self.folder / file)


def build_bundle(
    store: Any,
    *,
    country: str | None = None,
    out_dir: str | os.PathLike[str],
    analyses: Sequence[str] = ANALYSES,
    threshold: int | str | None = None,
    seed: int = 0,
    spec: BundleSpec | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Compute one country's aggregates, check them and write them as a bundle folder.

    Parameters
    ----------
    store
        A :class:`~o4o_causal.registers.RegisterStore` (only ``.cohort()`` is used).
    country
        Country whose rows are used (``"NO"``, ``"SE"``, ``"DK"``); optional if the store has one.
    out_dir
        Folder in which ``bundle-<country>/`` is created.
    analyses
        Any of ``"ate"`` (DML), ``"municipality_effects"``, ``"cells"``, ``"trajectory_shares"``.
    threshold
        Disclosure threshold: an int or a preset (``"ssb"`` 3, ``"dst"`` 5, ``"acro"``
        10); ``None`` uses :data:`o4o_causal.config.DISCLOSURE`.
    seed
        Seed of every random component (DML folds and models).
    spec
        The analysis spec (default :class:`BundleSpec`); identical in every bundle to pool.
    overwrite
        Replace an existing bundle (refused otherwise).
    progress
        Print one line per analysis.

    Returns
    -------
    pathlib.Path
        The bundle folder.

    Raises
    ------
    DataError
        If the store holds several countries and ``country`` is not given, or lacks it.
    SpecificationError
        Unknown analyses, or a bundle already there without ``overwrite``.
    DisclosureError
        If a table would still carry a count below the threshold (nothing is written).
    """
    spec = spec or BundleSpec()
    chosen, t = _check_analyses(analyses), disclosure.resolve_threshold(threshold)
    core, country = _country_rows(store.cohort(spec.cohort), country, f"cohort {spec.cohort!r}")
    target = _target(out_dir, country, overwrite=overwrite)
    persons = cells.with_interactions(spec.prepare(core), spec)
    if progress:
        print(f"bundle {country}: {len(persons):,} persons, threshold {t}", flush=True)
    _atomically(target, lambda tmp: _write(_Writer(tmp, t, progress), store, persons, spec, chosen, country, seed))
    return target


def _atomically(target: Path, write: Callable[[Path], None]) -> None:
    """Let ``write`` fill a temporary folder next to ``target``, then rename it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        write(tmp)
        _move_into_place(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write(
    w: _Writer, store: Any, persons: pd.DataFrame, spec: BundleSpec, chosen: tuple[str, ...], country: str, seed: int
) -> None:
    """Run the analyses into ``w.folder``, gate the findings, write the log and the manifest."""
    with warnings.catch_warnings(record=True) as caught:  # kept (scrubbed) in the manifest, not printed
        warnings.simplefilter("always")
        _run_analyses(w, store, persons, spec, chosen, country=country, seed=seed)
    w.warnings = [scrub_warning(c.message) for c in caught]
    disclosure.gate(w.findings, country=country)
    log = pd.DataFrame(w.log, columns=cells.LOG_COLUMNS)
    w.table("suppression_log.csv", log, counts=[], estimates=False)
    _io.write_json(w.folder / "manifest.json", _manifest(w, spec, chosen, country=country, seed=seed, log=log))


def _target(out_dir: str | os.PathLike[str], country: str, *, overwrite: bool) -> Path:
    target = Path(out_dir) / f"{BUNDLE_PREFIX}{country}"
    if target.exists() and not overwrite:
        raise SpecificationError(
            format_error(
                what=f"out_dir bundle {target.name}",
                expected="no bundle of this country yet",
                found="an existing bundle",
                fix="pass overwrite=True or another out_dir",
            )
        )
    return target


def scrub_warning(message: Warning | str) -> str:
    """Return a warning as ``"<Category>: <text>"`` with numbers and paths masked.

    Warnings raised inside a country's analyses are free text that no disclosure check
    reads (e.g. "1 of 14 clusters ... have only one treatment arm (3 persons)"), yet they
    travel in the manifest: every number becomes ``#`` and every path ``<path>``.
    """
    name = type(message).__name__ if isinstance(message, Warning) else "Warning"
    text = _PATH.sub("<path>", str(message))
    return f"{name}: {_NUMBER.sub('#', text)}"


def _run_analyses(
    w: _Writer, store: Any, persons: pd.DataFrame, spec: BundleSpec, chosen: tuple[str, ...], *, country: str, seed: int
) -> None:
    exact = cells.exact_cells(persons, spec)
    units = cells.assign_units(exact, spec, w.threshold, [])
    if "cells" in chosen:

        def _cells() -> None:
            table, log = cells.protected_cells(persons, spec, w.threshold)
            w.log.extend(log)
            w.table("cells.csv", table, counts=["n", "successes", "failures"], estimates=False)
            w.status["cells"] = {
                "status": "included",
                "files": ["cells.csv"],
                **cells.cells_summary(table, exact, spec),
            }

        w.run("cells", _cells)
    if {"ate", "municipality_effects"} & set(chosen):

        def _effects() -> None:
            est, muni, log = analyses.effect_tables(
                persons, spec, country=country, units=units, threshold=w.threshold, seed=seed
            )
            w.log.extend(log)
            if "ate" in chosen:
                w.table("estimates.csv", est, counts=["n", "n_treated", "n_control"], estimates=True)
                w.status["ate"] = {"status": "included", "files": ["estimates.csv"], "counts": GATE_COUNTS}
            if "municipality_effects" in chosen:
                hidden = int(persons[spec.cluster].nunique()) - len(muni)
                w.log.append(
                    {
                        "table": "municipality_effects",
                        "action": "suppressed",
                        "location": f"{hidden} municipalities",
                        "reason": f"an arm with fewer than {w.threshold} persons, successes or failures",
                    }
                )
                w.table("municipality_effects.csv", muni, counts=["n", "n_treated", "n_control"], estimates=True)
                w.status["municipality_effects"] = {"status": "included", "files": ["municipality_effects.csv"]}

        w.run("dml", _effects)
    if "trajectory_shares" in chosen:
        w.run("trajectories", lambda: _trajectories(w, store, spec, country=country, seed=seed))


def _trajectories(w: _Writer, store: Any, spec: BundleSpec, *, country: str, seed: int) -> None:
    frame = store.cohort(spec.trajectory_cohort)
    rows = frame[frame["country"] == country].reset_index(drop=True)
    if len(rows) < max(2 * w.threshold, spec.trajectory_k * w.threshold):
        reason = f"cohort {spec.trajectory_cohort!r} has no (or too few) persons in {country}"
        w.status["trajectory_shares"] = {"status": "not available", "files": [], "reason": reason}
        return
    shares, profiles, log = analyses.trajectory_tables(rows, spec, country=country, threshold=w.threshold, seed=seed)
    w.log.extend(log)
    w.table("trajectory_shares.csv", shares, counts=["n"], estimates=True)
    w.table("trajectory_profiles.csv", profiles, counts=["n"], estimates=True)
    files = ["trajectory_shares.csv", "trajectory_profiles.csv"]
    w.status["trajectory_shares"] = {"status": "included", "files": files}


def _manifest(
    w: _Writer, spec: BundleSpec, chosen: tuple[str, ...], *, country: str, seed: int, log: pd.DataFrame
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "o4o_causal.federation bundle",
        "country": country,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "analyses": {a: w.status.get(a, {"status": "not run", "files": []}) for a in chosen},
        "spec": spec.to_dict(),
        "spec_digest": spec.digest(),
        "versions": versions(),
        "key_packages": list(KEY_PACKAGES),
        "seed": int(seed),
        "threshold": w.threshold,
        "files": dict(sorted(w.files.items())),
        "sdc": {
            "checks": "federation.disclosure + sdc.tables",
            "findings": [f.to_dict() for f in w.findings],
            "suppression_log": log.to_dict("records"),
        },
        "timings_s": w.timings,
        "warnings": w.warnings,
    }
    manifest["manifest_sha256"] = manifest_digest(manifest)
    return manifest


def _move_into_place(tmp: Path, target: Path) -> None:
    if target.exists():
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, target)


__all__ = ["BUNDLE_PREFIX", "GATE_COUNTS", "build_bundle", "scrub_warning"]

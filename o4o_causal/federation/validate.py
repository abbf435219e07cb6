"""Reading and validating bundles before anything is pooled: :func:`read_bundle`, :func:`check_bundles`.

A pooling run trusts nothing it has not checked: the manifest (schema, required keys,
its own digest), every file's SHA-256 (a changed, missing or unlisted file -- or any
folder -- is refused, naming it), the schema and ``o4o_causal`` versions, the tables'
columns, that every table belongs to the manifest's country and shows no count below
its threshold, duplicate countries, and the analysis spec (identical specs pool).

**What the checksums can and cannot guarantee.** The digests are plain SHA-256, not
signatures: they detect corruption, partial copies and hand edits, but whoever can edit
a bundle can also recompute every digest, ``manifest_sha256`` included. Authenticity
comes only from outside the bundle: the output checker who releases a bundle records
:func:`bundle_digest` (the SHA-256 of ``manifest.json``, which pins every file), and
the pooling run passes those digests (``expected_digest`` / ``expected_digests``);
then any change, re-hashed or not, is refused.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from o4o_causal import _io
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.federation import disclosure
from o4o_causal.federation.analyses import ESTIMATE_COLUMNS, MUNICIPALITY_COLUMNS
from o4o_causal.federation.cells import LOG_COLUMNS
from o4o_causal.federation.manifest import REQUIRED_KEYS, major_minor, manifest_digest, versions
from o4o_causal.federation.spec import SCHEMA_VERSION, BundleSpec

MANIFEST = "manifest.json"

#: Count columns of each table, checked again against the bundle's threshold (cells: failures too).
COUNT_COLUMNS = {
    "cells": ("n", "successes"),  # and failures = n - successes
    "estimates": ("n", "n_treated", "n_control"),
    "municipality_effects": ("n", "n_treated", "n_control"),
    "trajectory_shares": ("n",),
    "trajectory_profiles": ("n",),
}


@dataclass(frozen=True)
class Bundle:
    """A validated bundle: its manifest, spec and tables (aggregates only)."""

    path: Path
    country: str
    manifest: dict[str, Any] = field(repr=False)
    spec: BundleSpec = field(repr=False)
    tables: dict[str, pd.DataFrame] = field(repr=False)

    def has(self, analysis: str) -> bool:
        """Return True if ``analysis`` is included in the bundle."""
        return bool(self.manifest["analyses"].get(analysis, {}).get("status") == "included")


def _fail(error: type[Exception], what: str, expected: str, found: str, fix: str) -> Exception:
    return error(format_error(what=what, expected=expected, found=found, fix=fix))


def _load_manifest(folder: Path) -> dict[str, Any]:
    file = folder / MANIFEST
    if not folder.is_dir() or not file.is_file():
        raise _fail(DataError, f"bundle {folder.name}", f"a folder with {MANIFEST}", "none", "pass a bundle folder")
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _fail(DataError, f"{folder.name}/{MANIFEST}", "valid JSON", str(exc), "rebuild the bundle") from exc
    if not isinstance(manifest, dict):
        raise _fail(DataError, f"{folder.name}/{MANIFEST}", "a JSON object", type(manifest).__name__, "rebuild it")
    missing = [k for k in REQUIRED_KEYS if k not in manifest]
    if missing:
        raise _fail(DataError, f"{folder.name}/{MANIFEST}", "every schema key", f"missing {missing}", "rebuild it")
    for key in ("files", "analyses", "spec", "versions", "sdc"):
        if not isinstance(manifest[key], dict):
            found = type(manifest[key]).__name__
            raise _fail(DataError, f"{folder.name}/{MANIFEST}: {key!r}", "a JSON object", found, "rebuild the bundle")
    if manifest_digest(manifest) != manifest["manifest_sha256"]:
        raise _fail(
            DataError,
            f"{folder.name}/{MANIFEST}",
            "the manifest as written (its manifest_sha256)",
            "a manifest edited after the bundle was built",
            "rebuild the bundle in the country's environment; never edit a bundle by hand",
        )
    return manifest


def _check_versions(folder: Path, manifest: dict[str, Any]) -> None:
    schema = str(manifest["schema_version"])
    if schema.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise _fail(
            SpecificationError,
            f"{folder.name}: schema_version",
            f"major version {SCHEMA_VERSION.split('.')[0]} (this o4o_causal reads {SCHEMA_VERSION})",
            repr(schema),
            "rebuild the bundle with the same o4o_causal version as the pooling run",
        )
    ours = versions().get("o4o-causal", "")
    theirs = str(manifest["versions"].get("o4o-causal", ""))
    if major_minor(ours) != major_minor(theirs):
        raise _fail(
            SpecificationError,
            f"{folder.name}: o4o-causal version",
            f"{'.'.join(major_minor(ours))}.x (the pooling run's)",
            repr(theirs),
            "build every bundle and the pooling run with the same o4o_causal release",
        )


def _check_files(folder: Path, manifest: dict[str, Any]) -> None:
    listed: dict[str, str] = manifest["files"]
    folders = sorted(p.name for p in folder.iterdir() if not p.is_file())
    if folders:
        raise _fail(
            DataError,
            f"{folder.name}: {folders[0]}/",
            "only the files listed in the manifest (no folders)",
            f"folder(s) {folders}",
            "remove them; a bundle carries nothing the output checker did not see",
        )
    present = {p.name for p in folder.iterdir()} - {MANIFEST}
    unlisted = sorted(present - set(listed))
    if unlisted:
        raise _fail(
            DataError,
            f"{folder.name}: file {unlisted[0]}",
            "only files listed in the manifest",
            f"unlisted file(s) {unlisted}",
            "remove them; a bundle carries nothing the output checker did not see",
        )
    for name, digest in listed.items():
        if os.sep in name or "/" in name or name.startswith("."):
            raise _fail(DataError, f"{folder.name}: file {name!r}", "a plain file name", "a path", "rebuild it")
        path = folder / name
        if not path.is_file():
            raise _fail(DataError, f"{folder.name}: file {name}", "present", "missing", "copy the whole bundle folder")
        actual = _io.sha256_file(path)
        if actual != digest:
            raise _fail(
                DataError,
                f"{folder.name}: file {name}",
                f"SHA-256 {digest[:12]}... (manifest)",
                f"{actual[:12]}... (the file was changed after the bundle was built)",
                "use the bundle as exported from the country's secure environment",
            )


def bundle_digest(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 of a bundle's ``manifest.json``: one digest that pins the whole bundle.

    The manifest holds every file's SHA-256, so this digest changes with any file.
    Record it when the bundle is released from the country's environment (output
    checker's release note, a separate channel) and pass it to :func:`read_bundle` /
    :func:`~o4o_causal.federation.pool_bundles` so that a re-hashed edit is refused too.
    """
    return _io.sha256_file(Path(path) / MANIFEST)


def read_bundle(path: str | os.PathLike[str], *, expected_digest: str | None = None) -> Bundle:
    """Validate one bundle folder and load its tables.

    Parameters
    ----------
    path
        The bundle folder.
    expected_digest
        :func:`bundle_digest` recorded at release; without it, the checksums detect
        corruption and hand edits but not an edit whose digests were recomputed.

    Raises
    ------
    DataError
        Missing/invalid manifest, an edited manifest, a changed, missing or unlisted file
        (or a folder), a manifest other than the one released (``expected_digest``),
        tables with missing columns, rows of another country or counts below the threshold.
    SpecificationError
        Another schema major version or ``o4o_causal`` release.
    """
    folder = Path(path)
    if expected_digest is not None and (folder / MANIFEST).is_file():
        actual = bundle_digest(folder)
        if actual != expected_digest.lower():
            raise _fail(
                DataError,
                f"{folder.name}/{MANIFEST}",
                f"SHA-256 {expected_digest[:12]}... (recorded at release)",
                f"{actual[:12]}... (not the bundle that was released)",
                "use the bundle exactly as released by the country's output checker",
            )
    manifest = _load_manifest(folder)
    _check_versions(folder, manifest)
    _check_files(folder, manifest)
    spec = BundleSpec.from_dict(manifest["spec"])
    if spec.digest() != manifest["spec_digest"]:
        raise _fail(DataError, f"{folder.name}: spec", "spec matching spec_digest", "a mismatch", "rebuild it")
    tables = {
        Path(name).stem: pd.read_csv(folder / name, dtype={"municipality_id": str, "group": str, "by": str})
        for name in manifest["files"]
        if name.endswith(".csv")
    }
    if "estimates" in tables:
        tables["estimates"]["by"] = tables["estimates"]["by"].fillna("")
    _check_tables(folder, manifest, spec, tables)
    return Bundle(folder, str(manifest["country"]), manifest, spec, tables)


def _expected_columns(spec: BundleSpec) -> dict[str, list[str]]:
    cells = ["country", spec.cluster, spec.treatment, *spec.cell_covariates, *spec.municipality_covariates]
    cells += [i[0] for i in spec.interactions] + ["n", "successes", "imputed", "unit_kind"]
    return {
        "cells": cells,
        "estimates": ESTIMATE_COLUMNS,
        "municipality_effects": MUNICIPALITY_COLUMNS,
        "suppression_log": LOG_COLUMNS,
        "trajectory_shares": ["country", "type", "label", "n", "share", "se", "ci_low", "ci_high", "total"],
        "trajectory_profiles": ["country", "type", "label", "n"],
    }


def _check_tables(folder: Path, manifest: dict[str, Any], spec: BundleSpec, tables: dict[str, pd.DataFrame]) -> None:
    """Check the tables: each included analysis has its files and columns; one country; no small count."""
    for analysis, info in manifest["analyses"].items():
        files = info.get("files", []) if isinstance(info, dict) else None
        if files is None or (info.get("status") == "included" and not set(files) <= set(manifest["files"])):
            raise _fail(DataError, f"{folder.name}: analysis {analysis!r}", "its files listed", repr(info), "rebuild")
    expected = _expected_columns(spec)
    for name, table in tables.items():
        where = f"{folder.name}: {name}.csv"
        missing = [c for c in expected.get(name, []) if c not in table.columns]
        if missing:
            raise _fail(DataError, where, "the schema's columns", f"missing {missing}", "rebuild the bundle")
        others = sorted(set(table.get("country", pd.Series(dtype=str)).astype(str)) - {str(manifest["country"])})
        if others:
            raise _fail(DataError, where, f"rows of {manifest['country']} only", f"rows of {others}", "rebuild it")
        _check_shown_counts(where, name, table, int(manifest["threshold"]))


def _check_shown_counts(where: str, name: str, table: pd.DataFrame, threshold: int) -> None:
    counts = [c for c in COUNT_COLUMNS.get(name, ()) if c in table.columns]
    for c in counts:
        if (pd.to_numeric(table[c], errors="coerce").isna() & table[c].notna()).any():
            raise _fail(DataError, where, "numeric count columns", f"non-numeric values in {c!r}", "rebuild it")
    if {"n", "successes"} <= set(counts):
        counts.append("failures")
    small = disclosure.check_counts(table, counts, name=f"{name}.csv", threshold=threshold)
    if small:
        raise _fail(
            DataError,
            where,
            f"no shown count below the bundle's threshold {threshold}",
            f"{len(small)} finding(s), e.g. {small[0].location}",
            "this bundle should never have left the secure environment; report it to its output checker",
        )


def check_bundles(bundles: list[Bundle]) -> list[str]:
    """Check that bundles can be pooled; return notes on tolerated differences.

    Raises
    ------
    SpecificationError
        Fewer than two bundles, a country twice, or different analysis specs.
    """
    if len(bundles) < 2:
        raise _fail(SpecificationError, "paths", "at least two bundles", f"{len(bundles)}", "pass every country")
    seen: dict[str, Path] = {}
    for b in bundles:
        if b.country in seen:
            raise _fail(
                SpecificationError,
                f"country {b.country}",
                "one bundle per country",
                f"bundles {seen[b.country].name} and {b.path.name}",
                "drop the duplicate (keep the country's latest export)",
            )
        seen[b.country] = b.path
    first = bundles[0]
    for b in bundles[1:]:
        if b.manifest["spec_digest"] != first.manifest["spec_digest"]:
            a, c = first.spec.to_dict(), b.spec.to_dict()
            diff = sorted(k for k in a if a[k] != c.get(k))
            raise _fail(
                SpecificationError,
                f"spec of {b.country} vs {first.country}",
                "identical analysis specs (pooling requires the same cells and covariates)",
                f"differences in {diff}",
                "rebuild the bundles with one BundleSpec",
            )
    notes = []
    for name in sorted({k for b in bundles for k in b.manifest["versions"]}):
        found = {b.country: b.manifest["versions"].get(name) for b in bundles}
        if len(set(found.values())) > 1:
            notes.append(f"{name} versions differ between bundles: {found}")
    thresholds = {b.country: b.manifest["threshold"] for b in bundles}
    if len(set(thresholds.values())) > 1:
        notes.append(f"disclosure thresholds differ (each data owner's rule): {thresholds}")
    return notes


__all__ = ["MANIFEST", "Bundle", "bundle_digest", "check_bundles", "read_bundle"]

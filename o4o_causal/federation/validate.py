"""Reading and validating bundles before anything is pooled: :func:`read_bundle`, :func:`check_bundles`.

A pooling run trusts nothing it has not checked: the manifest (schema, required keys,
its own digest), every file's SHA-256 (a changed, missing or unlisted file is refused,
naming the file), the schema and ``o4o_causal`` versions, duplicate countries, and the
analysis spec (pooling requires identical specs).
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
from o4o_causal.federation.manifest import REQUIRED_KEYS, major_minor, manifest_digest, versions
from o4o_causal.federation.spec import SCHEMA_VERSION, BundleSpec

MANIFEST = "manifest.json"


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
    present = {p.name for p in folder.iterdir() if p.is_file()} - {MANIFEST}
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


def read_bundle(path: str | os.PathLike[str]) -> Bundle:
    """Validate one bundle folder and load its tables.

    Raises
    ------
    DataError
        Missing/invalid manifest, an edited manifest, or a changed, missing or unlisted file.
    SpecificationError
        Another schema major version or ``o4o_causal`` release.
    """
    folder = Path(path)
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
    return Bundle(folder, str(manifest["country"]), manifest, spec, tables)


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


__all__ = ["MANIFEST", "Bundle", "check_bundles", "read_bundle"]

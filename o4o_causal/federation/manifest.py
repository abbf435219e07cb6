"""Manifest helpers of a bundle: versions, the manifest's own digest, compatibility rules."""

from __future__ import annotations

import platform
from typing import Any

from o4o_causal import _io

#: Packages whose versions are recorded (and compared when pooling).
KEY_PACKAGES: tuple[str, ...] = (
    "o4o-causal",
    "numpy",
    "pandas",
    "scipy",
    "scikit-learn",
    "econml",
    "lightgbm",
    "pymc",
    "nutpie",
    "arviz",
    "sequenzo",
)

#: Keys every manifest must have (schema 1).
REQUIRED_KEYS: tuple[str, ...] = (
    "schema_version",
    "country",
    "analyses",
    "spec",
    "spec_digest",
    "versions",
    "seed",
    "threshold",
    "files",
    "sdc",
    "manifest_sha256",
)


def versions() -> dict[str, str]:
    """Return Python's and the key packages' versions (missing packages left out)."""
    from o4o_causal.repro.manifest import package_versions

    installed = package_versions()
    out = {"python": platform.python_version()}
    out.update({name: installed[name] for name in KEY_PACKAGES if name in installed})
    return out


def manifest_digest(manifest: dict[str, Any]) -> str:
    """Return the SHA-256 of the canonical JSON of ``manifest`` without its own digest.

    Detects edits of the manifest itself (the data files are covered by ``files``).
    """
    return _io.sha256_json({k: v for k, v in manifest.items() if k != "manifest_sha256"})


def major_minor(version: str) -> tuple[str, ...]:
    """Return the first two dot-separated parts of a version string."""
    return tuple(version.split(".")[:2])


__all__ = ["KEY_PACKAGES", "REQUIRED_KEYS", "major_minor", "manifest_digest", "versions"]

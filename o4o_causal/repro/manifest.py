"""Facts recorded in a run manifest: code version, environment, and file hashes."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from o4o_causal import _io


def git_state(root: Path) -> dict[str, Any]:
    """Return the git commit, branch and dirty flag of ``root`` (``None`` outside git).

    The dirty flag is true when tracked files differ from the commit or untracked,
    non-ignored files exist: a run from a dirty tree cannot be reproduced from the
    commit alone.
    """

    def _git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip()

    commit = _git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "branch": None, "dirty": None}
    status = _git("status", "--porcelain")
    return {
        "commit": commit,
        "branch": _git("rev-parse", "--abbrev-ref", "HEAD"),
        "dirty": bool(status),
    }


def package_versions() -> dict[str, str]:
    """Return ``{distribution: version}`` for every installed distribution, sorted."""
    versions: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            versions[name.lower()] = dist.version
    return dict(sorted(versions.items()))


def environment_facts() -> dict[str, Any]:
    """Return Python, platform and CPU facts of this machine."""
    return {
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "prefix_is_venv": sys.prefix != sys.base_prefix,
        },
        "platform": {
            "system": platform.system(),
            "release": platform.release(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
        },
    }


def hash_files(paths: list[Path], root: Path) -> dict[str, str]:
    """Return ``{path relative to root (or absolute): sha256}`` for existing files."""
    out: dict[str, str] = {}
    for path in sorted(set(paths)):
        if path.is_file():
            out[display_path(path, root)] = _io.sha256_file(path)
    return out


def files_under(folder: Path, *, exclude: tuple[str, ...] = ()) -> list[Path]:
    """Return every regular file below ``folder`` (recursively), minus ``exclude`` names."""
    if not folder.exists():
        return []
    if folder.is_file():
        return [folder]
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.name not in exclude and not p.name.endswith(".partial")
    )


def display_path(path: Path, root: Path) -> str:
    """Return ``path`` relative to ``root`` when it lies below it, else absolute."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def find_manifest(notebook: Path) -> Path | None:
    """Return the ``manifest.json`` of the run folder holding an executed notebook, if any.

    A run folder holds ``<name>/<name>.ipynb`` and ``manifest.json``; the notebook's own
    folder and its parent are searched.
    """
    for folder in (notebook.parent, notebook.parent.parent):
        candidate = folder / "manifest.json"
        if candidate.is_file():
            return candidate
    return None


def record_disclosure(manifest_path: Path, notebook: str, entry: dict[str, Any]) -> None:
    """Set ``manifest["disclosure"][notebook] = entry`` and rewrite the manifest atomically.

    Parameters
    ----------
    manifest_path
        The run's ``manifest.json``.
    notebook
        Notebook name (file stem, as in the manifest's ``notebooks`` list).
    entry
        ``{"findings": [...], "override_reason": str | None, "threshold": int}``.
    """
    doc = json.loads(manifest_path.read_text(encoding="utf-8"))
    doc.setdefault("disclosure", {})[notebook] = entry
    _io.write_json(manifest_path, doc)

"""Shared fixtures: a throw-away project with generated notebooks."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import nbformat
import pytest
import yaml

matplotlib.use("Agg")

REPO_ROOT = Path(__file__).resolve().parents[1]

PARAMETERS_CELL = """profile = "quick"
seed = 0
data_dir = "data"
output_dir = "out"
"""


def make_notebook(path: Path, cells: Sequence[str], *, parameters: str = PARAMETERS_CELL) -> Path:
    """Write a notebook with a tagged parameters cell followed by ``cells``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]})]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "o4o-causal", "display_name": "o4o", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """Return a factory creating a minimal project root with notebooks and profiles."""

    def factory(notebooks: Mapping[str, Sequence[str]], profiles: Mapping[str, Any] | None = None) -> Path:
        root = tmp_path / "project"
        for name, cells in notebooks.items():
            make_notebook(root / "notebooks" / f"{name}.ipynb", cells)
        prof = profiles if profiles is not None else {"defaults": {"quick": {"seed": 7}, "full": {"seed": 7}}}
        (root / "reproducibility").mkdir(parents=True, exist_ok=True)
        (root / "reproducibility" / "profiles.yaml").write_text(yaml.safe_dump(dict(prof)), encoding="utf-8")
        (root / "data").mkdir(exist_ok=True)
        (root / "data" / "input.csv").write_text("a,b\n1,2\n", encoding="utf-8")
        return root

    return factory


@pytest.fixture(autouse=True)
def _no_results_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit a results file from an outer run."""
    monkeypatch.delenv("O4O_RESULTS_FILE", raising=False)
    if "O4O_THREADS" in os.environ:
        monkeypatch.delenv("O4O_THREADS")


@pytest.fixture(scope="session")
def small_world() -> Path:
    """The quick profile's synthetic world (``data/synthetic/small``), generated and ingested when missing.

    The same world and seed the reproduction runner builds for quick runs, so tests that
    read it never skip on a fresh clone.
    """
    from o4o_causal.repro.data import ensure_synthetic
    from o4o_causal.repro.profiles import load_profiles

    spec = load_profiles(REPO_ROOT / "reproducibility" / "profiles.yaml").data["quick"]
    ensure_synthetic(REPO_ROOT, spec)
    return REPO_ROOT / str(spec["path"])

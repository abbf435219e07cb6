"""The three dependency lists (pyproject, environment.yml, lock) must agree."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from tests.conftest import REPO_ROOT

#: conda-forge names that differ from the PyPI names (documented in environment.yml).
CONDA_NAMES = {"duckdb": "python-duckdb"}
FIND_PYTHON = REPO_ROOT / "scripts" / "find-python312"


def _pyproject_requirements() -> dict[str, SpecifierSet]:
    meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    out: dict[str, SpecifierSet] = {}
    for line in [*meta["dependencies"], *meta["optional-dependencies"]["dev"]]:
        req = Requirement(line)
        # an extra such as dask[distributed] is a separate package on conda-forge
        for name in [req.name, *sorted(req.extras)]:
            out[canonicalize_name(CONDA_NAMES.get(name, name))] = req.specifier
    return out


def _conda_requirements() -> dict[str, SpecifierSet]:
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    assert env["channels"][0] == "conda-forge"
    out: dict[str, SpecifierSet] = {}
    for dep in env["dependencies"]:
        specs = dep["pip"] if isinstance(dep, dict) else [dep]
        for spec in specs:
            name, _, version = spec.partition(" ")
            if name in {"python", "pip"}:
                continue
            out[canonicalize_name(name)] = SpecifierSet(version.replace(" ", ""))
    return out


def test_environment_yml_pins_python_312() -> None:
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    assert "python =3.12" in env["dependencies"]


def test_pyproject_and_environment_yml_agree() -> None:
    pyproject, conda = _pyproject_requirements(), _conda_requirements()
    assert sorted(set(pyproject) - set(conda)) == [], "in pyproject.toml but not in environment.yml"
    assert sorted(set(conda) - set(pyproject)) == [], "in environment.yml but not in pyproject.toml"
    differing = {n: (str(pyproject[n]), str(conda[n])) for n in pyproject if pyproject[n] != conda[n]}
    assert differing == {}, "version ranges differ (pyproject, environment.yml)"


def test_lock_pins_every_dependency_within_its_range_with_hashes() -> None:
    text = (REPO_ROOT / "reproducibility" / "requirements.lock").read_text()
    pins = {canonicalize_name(m[1]): m[2] for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)", text, re.M)}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    assert all("--hash=sha256:" in b for b in blocks if re.match(r"^[A-Za-z0-9]", b)), "every pin needs hashes"
    meta = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    for line in [*meta["dependencies"], *meta["optional-dependencies"]["dev"]]:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in pins, f"{name} missing from the lock file: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} outside {req.specifier}"
    header = text.splitlines()[:3]  # the command that generated the lock: relative paths only
    assert not [tok for line in header for tok in line.split() if tok.startswith("/")]


def test_committed_notebooks_have_no_outputs() -> None:
    for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        dirty = [
            i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c["outputs"] or c["execution_count"])
        ]
        assert dirty == [], f"{path.name}: cells {dirty} carry outputs; strip them before committing"


def _run_finder(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", str(FIND_PYTHON)], capture_output=True, text=True, env=env, check=False)


def test_missing_python_312_is_reported_clearly(tmp_path: Path) -> None:
    # a PATH with only basic tools: no python3.12, no pyenv
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ["sh", "grep", "sort", "cat"]:
        found = subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        (bin_dir / tool).symlink_to(found)
    done = _run_finder({"PATH": str(bin_dir)})
    assert done.returncode == 2
    assert "Python 3.12 was not found" in done.stderr
    assert "pyenv install 3.12" in done.stderr and "PYTHON=/path/to/python3.12" in done.stderr


def test_wrong_python_given_explicitly_is_reported(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    done = _run_finder({"PATH": "/usr/bin:/bin", "PYTHON": str(fake)})
    assert done.returncode == 2
    assert f"PYTHON={fake} is not a working Python 3.12 interpreter" in done.stderr


@pytest.mark.skipif(sys.version_info[:2] != (3, 12), reason="needs to run under Python 3.12")
def test_finder_accepts_a_real_python_312() -> None:
    done = _run_finder({"PATH": "/usr/bin:/bin", "PYTHON": sys.executable})
    assert done.returncode == 0 and done.stdout.strip() == sys.executable

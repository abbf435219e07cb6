"""The reproduction runner end to end, on generated notebooks in a throw-away project."""

import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from o4o_causal import SpecificationError, _io
from o4o_causal.repro import run
from o4o_causal.repro.export import remote_references

pytestmark = pytest.mark.slow

RANDOM_CELLS = [
    "import numpy as np\nfrom o4o_causal.repro import record",
    "rng = np.random.default_rng(seed)\nx = rng.normal(size=1000)\nrecord('mean', x.mean())\nrecord('seed', seed)",
    "from threadpoolctl import threadpool_info\n"
    "record('pool_threads', sorted({p['num_threads'] for p in threadpool_info()}))",
    "import os\nrecord('omp', os.environ['OMP_NUM_THREADS'])",
]
FAILING_CELLS = [
    "from o4o_causal.repro import record\nrecord('before', 1)",
    "raise ValueError('SECRET-ROW-4711 leaked value')",
    "record('after', 2)",
]


def test_manifest_records_everything(make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = make_project(
        {"a-random": RANDOM_CELLS},
        {"defaults": {"quick": {"seed": 3, "data_dir": "data"}}},
    )
    result = run("quick", root=root, runs_dir=tmp_path / "runs", threads=1, progress=False)
    assert result.ok and result.exit_code == 0
    m = result.manifest()
    assert m["status"] == "ok" and m["profile"] == "quick" and m["schema"] == 1
    assert m["seeds"] == {"a-random": 3}
    assert m["threads"]["OMP_NUM_THREADS"] == "1" and m["threads"]["O4O_THREADS"] == "1"
    assert m["environment"]["python"]["version"].startswith("3.12")
    assert m["packages"]["pandas"].startswith("2.") and "papermill" in m["packages"]
    assert set(m["git"]) == {"commit", "branch", "dirty"}
    nb = m["notebooks"][0]
    assert nb["status"] == "ok" and nb["error"] is None and nb["duration_s"] > 0
    assert nb["started"] < nb["finished"]
    assert nb["parameters"]["profile"] == "quick" and nb["parameters"]["data_dir"] == "data"
    # thread pinning took effect inside the kernel
    assert nb["results"]["pool_threads"] == [1] and nb["results"]["omp"] == "1"
    # inputs: the notebook, the profiles file and every data file, hashed
    assert set(m["inputs"]) == {"notebooks/a-random.ipynb", "reproducibility/profiles.yaml", "data/input.csv"}
    assert m["inputs"]["data/input.csv"] == _io.sha256_file(root / "data" / "input.csv")
    # outputs: every file in the run folder with a correct hash
    expected = {"a-random/a-random.ipynb", "a-random/a-random.html", "a-random/results.json"}
    assert set(m["outputs"]) == expected
    for rel, digest in m["outputs"].items():
        assert _io.sha256_file(result.run_dir / rel) == digest
    html = (result.run_dir / "a-random" / "a-random.html").read_text()
    assert remote_references(html) == []
    index = result.index_path.read_text()
    assert "a-random/a-random.html" in index and "mean" in index and remote_references(index) == []


def test_same_seed_gives_identical_results(make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = make_project({"a-random": RANDOM_CELLS[:2]})
    first = run("quick", root=root, runs_dir=tmp_path / "runs", progress=False)
    second = run("quick", root=root, runs_dir=tmp_path / "runs", progress=False)
    other = run("quick", root=root, runs_dir=tmp_path / "runs", seed=99, progress=False)
    assert first.run_dir != second.run_dir
    r1, r2, r3 = (json.loads((r.run_dir / "a-random" / "results.json").read_text()) for r in (first, second, other))
    assert r1 == r2
    assert r3["seed"] == 99 and r3["mean"] != r1["mean"]


def test_failing_notebook_is_isolated(make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = make_project({"a-ok": RANDOM_CELLS[:2], "b-fails": FAILING_CELLS, "c-ok": RANDOM_CELLS[:2]})
    result = run("quick", root=root, runs_dir=tmp_path / "runs", progress=False)
    assert not result.ok and result.exit_code == 1
    status = {nb.name: nb.status for nb in result.notebooks}
    assert status == {"a-ok": "ok", "b-fails": "failed", "c-ok": "ok"}
    failed = result.manifest()["notebooks"][1]
    # papermill prepends a cell of injected parameters: the raising cell is index 3
    assert failed["error"] == {"type": "ValueError", "cell_index": 3, "stage": "execute"}
    assert failed["results"] == {"before": 1}
    assert failed["outputs"]["executed"] == "b-fails/b-fails.ipynb"
    # no cell output (the exception message) is copied into the manifest or the index
    assert "SECRET-ROW-4711" not in result.manifest_path.read_text()
    assert "SECRET-ROW-4711" not in result.index_path.read_text()


def test_cli_exits_non_zero_when_a_notebook_fails(make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = make_project({"a-ok": RANDOM_CELLS[:2], "b-fails": FAILING_CELLS})
    cmd = [sys.executable, "-m", "o4o_causal.cli", "run", "--root", str(root), "--runs-dir", str(tmp_path / "r")]
    done = subprocess.run([*cmd, "--no-progress"], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "failed notebooks: b-fails" in done.stderr
    assert re.search(r"b-fails\s+failed\s+[\d.]+\s+\(ValueError in cell 3\)", done.stdout)
    assert "index.html" in done.stdout


def test_unknown_parameter_stops_before_anything_runs(make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = make_project(
        {"a-ok": RANDOM_CELLS[:2], "b-ok": RANDOM_CELLS[:2]},
        {"notebooks": {"b-ok": {"quick": {"n_draws": 10}}}},
    )
    runs = tmp_path / "runs"
    with pytest.raises(SpecificationError, match="parameter 'n_draws' for notebook b-ok.ipynb"):
        run("quick", root=root, runs_dir=runs, progress=False)
    assert not runs.exists()  # nothing executed, no run folder
    cmd = [sys.executable, "-m", "o4o_causal.cli", "run", "--root", str(root), "--runs-dir", str(runs)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "error: parameter 'n_draws'" in done.stderr


def test_pattern_selects_and_publication_hides_code(make_project: Callable[..., Path], tmp_path: Path) -> None:
    root = make_project({"a-ok": RANDOM_CELLS[:2], "b-ok": ["code_only_marker = 1"]})
    result = run(
        "quick", root=root, runs_dir=tmp_path / "runs", notebooks_pattern="b-*", publication=True, progress=False
    )
    assert [nb.name for nb in result.notebooks] == ["b-ok"]
    html = (result.run_dir / "b-ok" / "b-ok.html").read_text()
    assert "code_only_marker" not in html
    assert result.manifest()["publication"] is True

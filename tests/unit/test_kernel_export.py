import json
from pathlib import Path

import nbformat
import pytest

from o4o_causal import DataError, config
from o4o_causal.repro import export_html, kernel
from o4o_causal.repro.export import remote_references
from tests.conftest import make_notebook


def test_thread_settings_cover_every_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = kernel.thread_settings(3)
    assert set(settings) == {*config.THREAD_ENV_VARS, "O4O_THREADS"}
    assert set(settings.values()) == {"3"}
    monkeypatch.setenv("O4O_THREADS", "4")
    assert kernel.thread_settings()["OMP_NUM_THREADS"] == "4"


def test_ensure_kernel_writes_and_refreshes_spec(tmp_path: Path) -> None:
    target = kernel.ensure_kernel(tmp_path)
    spec = json.loads((target / "kernel.json").read_text())
    assert target == tmp_path / "share" / "jupyter" / "kernels" / config.KERNEL_NAME
    assert spec["argv"][1:3] == ["-m", "o4o_causal.repro.kernel"]
    (target / "kernel.json").write_text(json.dumps(spec | {"argv": ["/elsewhere/python"]}))
    kernel.ensure_kernel(tmp_path)
    assert json.loads((target / "kernel.json").read_text()) == spec


def test_importing_the_launcher_does_not_load_numpy() -> None:
    import subprocess
    import sys

    code = "import sys, o4o_causal.repro.kernel; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _executed_notebook(tmp_path: Path) -> Path:
    path = make_notebook(tmp_path / "nb.ipynb", ["secret_code_marker = 41 + 1\nprint(secret_code_marker)"])
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="42\n")]
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# Title with $x^2$ math"))
    nbformat.write(nb, path)
    return path


def test_export_is_offline_and_publication_hides_code(tmp_path: Path) -> None:
    nb = _executed_notebook(tmp_path)
    full = export_html(nb, tmp_path / "full.html").read_text()
    pub = export_html(nb, tmp_path / "pub.html", publication=True).read_text()
    assert remote_references(full) == [] and remote_references(pub) == []
    assert "cdnjs" not in full and "require.min.js" not in full
    assert "secret_code_marker" in full and "secret_code_marker" not in pub
    assert "42" in pub and "Title with" in pub


def test_remote_reference_check_can_fail() -> None:
    html = '<html><script src="https://cdn.example.org/x.js"></script><a href="https://doi.org/1">ok</a></html>'
    hits = remote_references(html)
    assert len(hits) == 1 and "cdn.example.org" in hits[0]
    assert remote_references("<style>@font-face { src: url(//fonts.example/x.woff) }</style>")


def test_export_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="expected an existing .ipynb file"):
        export_html(tmp_path / "missing.ipynb", tmp_path / "x.html")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("not json")
    with pytest.raises(DataError, match="notebook bad.ipynb: expected a valid Jupyter notebook"):
        export_html(bad, tmp_path / "x.html")
    assert not (tmp_path / "x.html").exists()

from pathlib import Path

from typer.testing import CliRunner

from o4o_causal import __version__
from o4o_causal.cli import app
from o4o_causal.repro.export import remote_references
from tests.conftest import make_notebook

runner = CliRunner()


def test_version() -> None:
    done = runner.invoke(app, ["--version"])
    assert done.exit_code == 0 and __version__ in done.output


def test_unknown_profile_is_a_clear_error() -> None:
    done = runner.invoke(app, ["run", "--profile", "medium"])
    assert done.exit_code == 2
    assert "error: profile: expected one of ['quick', 'full'], found 'medium'" in done.output


def test_export_folder_and_publication(tmp_path: Path) -> None:
    make_notebook(tmp_path / "run" / "a" / "a.ipynb", ["visible_code = 1"])
    done = runner.invoke(app, ["export", str(tmp_path / "run"), "--publication", "--out-dir", str(tmp_path / "html")])
    assert done.exit_code == 0, done.output
    html = (tmp_path / "html" / "a.publication.html").read_text()
    assert "visible_code" not in html and remote_references(html) == []


def test_export_nothing_found(tmp_path: Path) -> None:
    done = runner.invoke(app, ["export", str(tmp_path)])
    assert done.exit_code == 2 and "no notebooks found" in done.output


def test_synth_then_ingest_and_clear_errors(tmp_path: Path) -> None:
    out = tmp_path / "world"
    done = runner.invoke(app, ["synth", "--scale", "small", "--seed", "4", "--out", str(out), "--no-ingest"])
    assert done.exit_code == 0, done.output
    assert (out / "raw" / "NO" / "spells.parquet").is_file() and (out / "truth" / "core.parquet").is_file()
    again = runner.invoke(app, ["synth", "--scale", "small", "--out", str(out), "--no-ingest"])
    assert again.exit_code == 2 and "already present" in again.output and "--overwrite" in again.output
    done = runner.invoke(app, ["ingest", str(out / "raw"), "--store", str(out / "store.duckdb"), "--no-progress"])
    assert done.exit_code == 0, done.output
    assert (out / "store.duckdb").is_file()
    bad = runner.invoke(app, ["synth", "--scale", "huge", "--out", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "scale: expected one of" in bad.output

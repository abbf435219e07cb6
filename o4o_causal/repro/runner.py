"""The reproduction runner: execute notebooks, export HTML, write the manifest.

A run is one folder ``reproducibility/runs/<UTC timestamp>-<short id>/``::

    manifest.json            versions, seeds, parameters, hashes, timings, status
    index.html               overview with links and key recorded results
    00-overview/
        00-overview.ipynb    executed notebook
        00-overview.html     offline HTML export
        results.json         values recorded with o4o_causal.repro.record
        output/              the notebook's output_dir (figures, tables)

Every parameter of every selected notebook is validated before anything executes. A
failing notebook is recorded (exception type and failing cell index, never cell
output) and the remaining notebooks still run.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from o4o_causal import _io, config
from o4o_causal.repro import kernel, manifest, notebooks, profiles
from o4o_causal.repro.data import ensure_synthetic
from o4o_causal.repro.export import export_html
from o4o_causal.repro.index import write_index
from o4o_causal.repro.recording import RESULTS_ENV

MANIFEST_SCHEMA = 1


@dataclass(frozen=True)
class NotebookRun:
    """Outcome of one notebook in a run (paths relative to the run folder).

    ``disclosure`` holds the findings of the disclosure scan (publication runs only).
    """

    name: str
    status: str
    started: str
    finished: str
    duration_s: float
    parameters: dict[str, Any]
    outputs: dict[str, str | None]
    results: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    disclosure: list[dict[str, str]] | None = None

    @property
    def ok(self) -> bool:
        """Whether the notebook executed and exported without error."""
        return self.status == "ok"


@dataclass(frozen=True)
class RunResult:
    """Outcome of a run."""

    run_dir: Path
    manifest_path: Path
    index_path: Path
    notebooks: tuple[NotebookRun, ...]

    @property
    def ok(self) -> bool:
        """Whether every notebook succeeded."""
        return all(nb.ok for nb in self.notebooks)

    @property
    def exit_code(self) -> int:
        """Process exit code for the CLI: 0 when every notebook succeeded, else 1."""
        return 0 if self.ok else 1

    def manifest(self) -> dict[str, Any]:
        """Return the parsed manifest."""
        result: dict[str, Any] = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        return result


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _new_run_dir(runs_dir: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir = runs_dir / f"{stamp}-{secrets.token_hex(3)}"
    run_dir.mkdir(parents=True, exist_ok=False)
    return run_dir


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Temporarily set environment variables (kernels inherit them at launch)."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


@dataclass(frozen=True)
class _Plan:
    """A validated notebook, ready to execute."""

    path: Path
    parameters: dict[str, Any]
    folder: Path

    def placed(self, run_dir: Path, root: Path) -> _Plan:
        """Return the plan with its folder and ``output_dir`` inside ``run_dir``."""
        folder = run_dir / self.path.stem
        output_dir = manifest.display_path(folder / "output", root)
        return _Plan(path=self.path, parameters=self.parameters | {"output_dir": output_dir}, folder=folder)


def _plan(paths: list[Path], profile: str, profs: profiles.Profiles, overrides: Mapping[str, Any]) -> list[_Plan]:
    """Resolve and validate every notebook's parameters (``output_dir`` is placed later)."""
    plans = []
    for path in paths:
        params = profs.parameters(path.stem, profile)
        params.update(overrides)
        params["profile"] = profile
        params["output_dir"] = ""  # required and always declared; set by _Plan.placed
        declared = notebooks.declared_parameters(path)
        profiles.validate_parameters(path, params, declared, source=f"{profs.source.name} profile {profile!r}")
        plans.append(_Plan(path=path, parameters=params, folder=Path()))
    return plans


def _execute_one(
    plan: _Plan, root: Path, threads: dict[str, str], publication: int | None, progress: bool
) -> NotebookRun:
    """Execute one notebook and export it (``publication``: the disclosure threshold, ``None``: not publication)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    stem = plan.path.stem
    plan.folder.mkdir(parents=True, exist_ok=True)
    (plan.folder / "output").mkdir(exist_ok=True)
    executed = plan.folder / f"{stem}.ipynb"
    partial = plan.folder / f".{stem}.partial.ipynb"
    results_file = plan.folder / "results.json"
    html_file = plan.folder / f"{stem}.html"
    env = dict(threads) | {RESULTS_ENV: str(results_file.resolve()), "PYTHONHASHSEED": "0"}
    error: dict[str, Any] | None = None
    started, t0 = _now(), time.perf_counter()
    with _environment(env):
        try:
            papermill.execute_notebook(
                str(plan.path),
                str(partial),
                parameters=plan.parameters,
                kernel_name=config.KERNEL_NAME,
                cwd=str(root),
                progress_bar=progress,
                log_output=False,
                report_mode=False,
            )
        except PapermillExecutionError as exc:
            error = {"type": exc.ename, "cell_index": exc.cell_index, "stage": "execute"}
        except Exception as exc:  # kernel death, timeouts, I/O: recorded, not fatal
            error = {"type": type(exc).__name__, "cell_index": None, "stage": "execute"}
    duration = time.perf_counter() - t0
    outputs: dict[str, str | None] = {"executed": None, "html": None, "results": None}
    disclosure: list[dict[str, str]] | None = None
    if partial.exists():
        os.replace(partial, executed)
        outputs["executed"] = f"{stem}/{executed.name}"
        export_error, disclosure = _export(executed, html_file, publication)
        error = error or export_error
        if export_error is None:
            outputs["html"] = f"{stem}/{html_file.name}"
    results: dict[str, Any] = {}
    if results_file.exists():
        results = json.loads(results_file.read_text(encoding="utf-8"))
        outputs["results"] = f"{stem}/results.json"
    return NotebookRun(
        name=stem,
        status="failed" if error else "ok",
        started=started,
        finished=_now(),
        duration_s=round(duration, 3),
        parameters=dict(plan.parameters),
        outputs=outputs,
        results=results,
        error=error,
        disclosure=disclosure,
    )


def _export(
    executed: Path, html_file: Path, publication: int | None
) -> tuple[dict[str, Any] | None, list[dict[str, str]] | None]:
    """Export the HTML; in publication mode (``publication``: the threshold) scan first (blocked: no HTML).

    Returns the error record (``None`` when exported) and the disclosure findings
    (``None`` outside publication mode).
    """
    findings: list[dict[str, str]] | None = None
    try:
        if publication is not None:
            from o4o_causal.sdc.notebooks import scan_notebook

            scanned = scan_notebook(executed, threshold=publication)
            findings = [f.to_dict() for f in scanned]
            blocked = [f for f in scanned if f.severity == "error"]
            if blocked:
                cell = re.search(r"cell (\d+)", blocked[0].location)
                return {
                    "type": "DisclosureError",
                    "cell_index": int(cell.group(1)) if cell else None,
                    "stage": "disclosure",
                }, findings
        export_html(executed, html_file, publication=publication is not None, threshold=publication)
    except Exception as exc:  # an export failure must not hide the execution result
        return {"type": type(exc).__name__, "cell_index": None, "stage": "export"}, findings
    return None, findings


def _input_files(root: Path, paths: list[Path], profs: profiles.Profiles, plans: list[_Plan]) -> list[Path]:
    files = [*paths, profs.source, root / config.LOCK_FILE]
    data_dirs = {str(p.parameters.get("data_dir")) for p in plans if p.parameters.get("data_dir")}
    for data_dir in sorted(data_dirs):
        folder = Path(data_dir)
        files.extend(manifest.files_under(folder if folder.is_absolute() else root / folder))
    return files


def run(
    profile: str = "quick",
    *,
    root: str | Path | None = None,
    notebooks_pattern: str | None = None,
    notebooks_dir: str | Path | None = None,
    runs_dir: str | Path | None = None,
    seed: int | None = None,
    data_dir: str | None = None,
    threads: int | None = None,
    publication: bool = False,
    threshold: int | str | None = None,
    progress: bool = True,
) -> RunResult:
    """Execute notebooks under a profile, export them and write the run record.

    Parameters
    ----------
    profile
        ``"quick"`` (CI) or ``"full"`` (reproduction).
    root
        Project root (default: found upwards from the current directory).
    notebooks_pattern
        Shell pattern(s) selecting notebooks by name, comma-separated (default: all).
    notebooks_dir
        Folder of notebooks (default: ``<root>/notebooks``).
    runs_dir
        Folder in which the run folder is created (default: ``<root>/reproducibility/runs``).
    seed
        Overrides the profile's seed for every notebook.
    data_dir
        Overrides the profile's data folder for every notebook.
    threads
        Thread count pinned in the kernel (default: :func:`o4o_causal.config.threads`).
    publication
        Export HTML with code hidden. Each executed notebook is scanned for disclosure
        risks first (:func:`o4o_causal.sdc.notebooks.scan_notebook`); the findings are
        recorded in the manifest's ``disclosure`` section, and a notebook with findings
        of severity ``error`` gets no HTML and fails (stage ``"disclosure"``); export it
        later with ``o4o export --publication --override-reason`` after review.
    threshold
        Disclosure threshold of the publication scan, as the data owner requires: an
        int or ``"ssb"``/``"dst"``/``"acro"`` (default ``config.DISCLOSURE.threshold``).
    progress
        Show progress bars.

    Returns
    -------
    RunResult
        Paths of the run folder, manifest and index, and per-notebook outcomes.

    Raises
    ------
    SpecificationError
        Before anything executes, for an unknown profile, a missing parameters cell, or
        a parameter the notebook does not declare.
    """
    from o4o_causal.sdc._suppression import resolve_threshold

    profiles.check_profile(profile)
    limit = resolve_threshold(threshold)
    root_path = notebooks.find_root(root)
    nb_dir = Path(notebooks_dir) if notebooks_dir else root_path / config.NOTEBOOKS_DIR
    paths = notebooks.discover(nb_dir, notebooks_pattern)
    profs = profiles.load_profiles(root_path / config.PROFILES_FILE)
    overrides: dict[str, Any] = {}
    if seed is not None:
        overrides["seed"] = int(seed)
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    runs_root = Path(runs_dir) if runs_dir else root_path / config.RUNS_DIR
    validated = _plan(paths, profile, profs, overrides)  # every notebook validated before anything runs

    thread_env = kernel.thread_settings(threads)
    kernel.ensure_kernel()
    data_info = None
    if data_dir is None and profile in profs.data:
        data_info = ensure_synthetic(root_path, profs.data[profile])
    run_dir = _new_run_dir(runs_root)
    plans = [plan.placed(run_dir, root_path) for plan in validated]
    started, t0 = _now(), time.perf_counter()
    results: list[NotebookRun] = []
    bar = tqdm(plans, desc="notebooks", unit="nb", disable=not progress)
    for plan in bar:
        bar.set_postfix_str(f"{plan.path.stem} (elapsed {time.perf_counter() - t0:.0f} s)")
        results.append(_execute_one(plan, root_path, thread_env, limit if publication else None, progress))
    bar.close()

    doc: dict[str, Any] = {
        "schema": MANIFEST_SCHEMA,
        "run_id": run_dir.name,
        "profile": profile,
        "publication": publication,
        "status": "ok" if all(r.ok for r in results) else "failed",
        "started": started,
        "finished": _now(),
        "duration_s": round(time.perf_counter() - t0, 3),
        "git": manifest.git_state(root_path),
        "environment": manifest.environment_facts(),
        "packages": manifest.package_versions(),
        "kernel": {"name": config.KERNEL_NAME, "argv": kernel.kernel_spec()["argv"]},
        "threads": thread_env,
        "synthetic_data": data_info,
        "seeds": {r.name: r.parameters.get("seed") for r in results},
        "notebooks": [
            {
                "name": r.name,
                "path": manifest.display_path(p.path, root_path),
                "status": r.status,
                "started": r.started,
                "finished": r.finished,
                "duration_s": r.duration_s,
                "parameters": r.parameters,
                "outputs": r.outputs,
                "error": r.error,
                "results": r.results,
            }
            for r, p in zip(results, plans, strict=True)
        ],
        "inputs": manifest.hash_files(_input_files(root_path, paths, profs, plans), root_path),
        "outputs": manifest.hash_files(manifest.files_under(run_dir, exclude=("manifest.json", "index.html")), run_dir),
    }
    if publication:
        doc["disclosure"] = _disclosure_section(results, limit)
    manifest_path = run_dir / "manifest.json"
    _io.write_json(manifest_path, doc)
    index_path = write_index(run_dir, doc)
    return RunResult(run_dir=run_dir, manifest_path=manifest_path, index_path=index_path, notebooks=tuple(results))


def _disclosure_section(results: list[NotebookRun], threshold: int) -> dict[str, Any]:
    """Return the manifest's ``disclosure`` section of a publication run: findings per notebook."""
    return {r.name: {"findings": r.disclosure or [], "override_reason": None, "threshold": threshold} for r in results}


def timing_table(result: RunResult) -> str:
    """Return a plain-text table of per-notebook status and duration."""
    width = max([len(nb.name) for nb in result.notebooks] + [8])
    lines = [f"{'notebook':<{width}}  {'status':<7} {'seconds':>8}"]
    for nb in sorted(result.notebooks, key=lambda n: -n.duration_s):
        extra = f"  ({nb.error['type']} in cell {nb.error['cell_index']})" if nb.error else ""
        lines.append(f"{nb.name:<{width}}  {nb.status:<7} {nb.duration_s:>8.1f}{extra}")
    return "\n".join(lines)

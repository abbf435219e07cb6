"""The ``o4o`` command line.

``o4o run`` executes the notebooks (reproduction runs), ``o4o export`` turns executed
notebooks into offline HTML, ``o4o check`` scans executed notebooks for disclosure
risks, ``o4o synth`` writes the synthetic register world,
``o4o ingest`` builds the harmonised store from raw extracts, ``o4o simulate`` runs a
repeated-sampling study of the estimators on Dask, ``o4o kernel`` registers the suite's
Jupyter kernel.
Errors of the suite are printed as one clear line and give exit code 2; a run in
which a notebook failed, or a check with blocking findings, gives exit code 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from o4o_causal import __version__, config
from o4o_causal.exceptions import DisclosureError, O4OError, format_error
from o4o_causal.simulate.cli import simulate_cmd

if TYPE_CHECKING:
    from o4o_causal.sdc.findings import Finding

app = typer.Typer(
    name="o4o",
    help="o4o-causal: reproducible causal inference on Nordic register data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _fail(exc: O4OError) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"o4o-causal {__version__}")
        raise typer.Exit()


_THRESHOLD_HELP = (
    f"Smallest count of persons that may be shown, as the data owner requires: an integer or a preset "
    f"({', '.join(f'{k}={v}' for k, v in config.DISCLOSURE.presets.items())}; default {config.DISCLOSURE.threshold})."
)


def _threshold(value: str | None) -> int | None:
    """Parse ``--threshold`` (an integer or a preset name); suite error (exit 2) when invalid."""
    from o4o_causal.sdc._suppression import resolve_threshold

    if value is None:
        return None
    try:
        return resolve_threshold(int(value) if value.strip().lstrip("+-").isdigit() else value.strip())
    except O4OError as exc:
        raise _fail(exc) from exc


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Reproducible causal inference on Nordic register data."""


@app.command("run")
def run_cmd(
    profile: Annotated[str, typer.Option(help=f"Run profile: one of {', '.join(config.PROFILES)}.")] = "quick",
    notebooks: Annotated[
        str | None, typer.Option("--notebooks", help="Shell pattern(s) of notebook names, comma-separated.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Override the profile's seed.")] = None,
    data_dir: Annotated[str | None, typer.Option(help="Override the profile's data folder.")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="Threads pinned in the kernel (default 2).")] = None,
    publication: Annotated[
        bool,
        typer.Option(
            "--publication", help="Hide code in the HTML exports; scan outputs and export only notebooks that pass."
        ),
    ] = False,
    threshold: Annotated[str | None, typer.Option(help=_THRESHOLD_HELP + " With --publication.")] = None,
    root: Annotated[Path | None, typer.Option(help="Project root (default: found from the current folder).")] = None,
    runs_dir: Annotated[Path | None, typer.Option(help="Where run folders are created.")] = None,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show progress bars.")] = True,
) -> None:
    """Execute notebooks, export HTML and write the run manifest and index."""
    from o4o_causal import repro

    try:
        result = repro.run(
            profile,
            root=root,
            notebooks_pattern=notebooks,
            runs_dir=runs_dir,
            seed=seed,
            data_dir=data_dir,
            threads=threads,
            publication=publication,
            threshold=_threshold(threshold),
            progress=progress,
        )
    except O4OError as exc:
        raise _fail(exc) from exc
    typer.echo(repro.timing_table(result))
    typer.echo(f"\nmanifest: {result.manifest_path}")
    typer.echo(f"open:     {result.index_path}")
    if not result.ok:
        failed = ", ".join(nb.name for nb in result.notebooks if not nb.ok)
        typer.secho(f"failed notebooks: {failed}", fg=typer.colors.RED, err=True)
    blocked = [nb.name for nb in result.notebooks if (nb.error or {}).get("stage") == "disclosure"]
    if blocked:
        typer.secho(
            f"no HTML for {', '.join(blocked)}: disclosure findings (list them with `o4o check {result.run_dir}`; "
            "after review: `o4o export --publication --override-reason TEXT`)",
            fg=typer.colors.RED,
            err=True,
        )
    raise typer.Exit(code=result.exit_code)


def _notebooks(paths: list[Path], what: str) -> list[Path]:
    """Expand run folders to their executed notebooks; clear error when nothing is found."""
    from o4o_causal.sdc.notebooks import notebooks_in

    targets: list[Path] = []
    for path in paths:
        if path.is_dir():
            targets.extend(notebooks_in(path))
        elif path.is_file():
            targets.append(path)
        else:
            raise _fail(
                O4OError(
                    format_error(
                        what=what, expected="a run folder or .ipynb file", found=str(path), fix="check the path"
                    )
                )
            )
    if not targets:
        raise _fail(O4OError(f"{what}: no notebooks found in {', '.join(map(str, paths))}"))
    return targets


def _blocked(targets: list[Path], threshold: int | None) -> str | None:
    """Scan every target for a publication export; describe the blocked ones (``None`` when all pass)."""
    from o4o_causal.repro.export import disclosure_gate

    problems = []
    for nb in targets:
        try:
            disclosure_gate(nb, threshold=threshold)
        except DisclosureError as exc:
            problems.append(str(exc))
        except O4OError as exc:
            raise _fail(exc) from exc
    return "\n".join(problems) if problems else None


@app.command("export")
def export_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Executed notebooks, or run folders (all notebooks in them).")],
    publication: Annotated[
        bool, typer.Option("--publication", help="Hide code cells and prompts; refuse outputs that fail `o4o check`.")
    ] = False,
    override_reason: Annotated[
        str | None,
        typer.Option(help="Export publication HTML despite disclosure findings, for this reason (recorded)."),
    ] = None,
    out_dir: Annotated[Path | None, typer.Option(help="Folder for the HTML (default: next to each notebook).")] = None,
    threshold: Annotated[str | None, typer.Option(help=_THRESHOLD_HELP)] = None,
) -> None:
    """Export executed notebooks to self-contained, offline HTML.

    With --publication every notebook is scanned first (as `o4o check`); nothing is
    written while one has findings of severity error, unless --override-reason is given.
    Findings and the override are recorded in the run's manifest.json.
    """
    from o4o_causal.repro import export_html

    if override_reason is not None and not (publication and override_reason.strip()):
        raise _fail(O4OError("--override-reason: expected a non-empty reason together with --publication"))
    limit = _threshold(threshold)
    targets = _notebooks(paths, "export")
    if publication and override_reason is None and (problems := _blocked(targets, limit)):
        raise _fail(DisclosureError(problems))
    suffix = ".publication.html" if publication else ".html"
    try:
        for nb in targets:
            folder = out_dir if out_dir is not None else nb.parent
            written = export_html(
                nb,
                folder / f"{nb.stem}{suffix}",
                publication=publication,
                override_reason=override_reason,
                threshold=limit,
            )
            typer.echo(f"wrote {written}")
    except O4OError as exc:
        raise _fail(exc) from exc


def _findings_table(name: str, findings: list[Finding]) -> str:
    """Plain-text table of one notebook's findings."""
    if not findings:
        return f"{name}: no findings"
    lines = [f"{name}: {len(findings)} finding(s)"]
    width = max(len(f.location.split(", ", 1)[-1]) for f in findings)
    lines.append(f"  {'severity':<8}  {'rule':<16}  {'where':<{width}}  what to do")
    for f in findings:
        where = f.location.split(", ", 1)[-1]
        lines.append(f"  {f.severity:<8}  {f.rule:<16}  {where:<{width}}  {f.message}")
    return "\n".join(lines)


@app.command("check")
def check_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Run folders or executed .ipynb files.")],
    threshold: Annotated[str | None, typer.Option(help=_THRESHOLD_HELP)] = None,
) -> None:
    """Scan executed notebooks for outputs that would leak in an HTML export.

    Prints the findings per notebook. Exit code 0 when there is no finding of severity
    error, 1 when there is (warnings do not fail), 2 for unusable input.
    """
    from o4o_causal.sdc.findings import blocking
    from o4o_causal.sdc.notebooks import scan_notebook

    n_blocking, limit = 0, _threshold(threshold)
    for nb in _notebooks(paths, "check"):
        try:
            findings = scan_notebook(nb, threshold=limit)
        except O4OError as exc:
            raise _fail(exc) from exc
        n_blocking += len(blocking(findings))
        typer.echo(_findings_table(str(nb), findings))
    if n_blocking:
        typer.secho(f"{n_blocking} blocking finding(s)", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1 if n_blocking else 0)


@app.command("synth")
def synth_cmd(
    out: Annotated[Path, typer.Option(help="Folder to write raw/ (extracts) and truth/ into.")],
    scale: Annotated[str, typer.Option(help="small | default | register")] = "default",
    seed: Annotated[int, typer.Option(help="Seed of the world.")] = config.DEFAULT_SEED,
    fmt: Annotated[str, typer.Option("--format", help="parquet | csv")] = "parquet",
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace existing raw/ and truth/.")] = False,
    ingest: Annotated[bool, typer.Option("--ingest/--no-ingest", help="Also build the DuckDB store.")] = True,
) -> None:
    """Generate the synthetic Nordic register world and write it as raw extracts."""
    import time

    from o4o_causal.synth import generate_world

    try:
        t0 = time.perf_counter()
        world = generate_world(scale, seed=seed)
        world.write(out, fmt=fmt, overwrite=overwrite)
        typer.echo(f"{world!r}\nwrote {out / 'raw'} and {out / 'truth'} in {time.perf_counter() - t0:.1f} s")
        if ingest:
            from o4o_causal.registers import ingest as do_ingest

            store = do_ingest(out / "raw", out / "store.duckdb", overwrite=True)
            typer.echo(f"ingested into {store} ({time.perf_counter() - t0:.1f} s in all)")
    except O4OError as exc:
        raise _fail(exc) from exc


@app.command("ingest")
def ingest_cmd(
    raw: Annotated[Path, typer.Argument(help="Folder of raw extracts (municipalities + NO/ SE/ DK/).")],
    store: Annotated[Path, typer.Option(help="DuckDB file to create.")],
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing store.")] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress")] = True,
) -> None:
    """Validate raw register extracts and build the harmonised DuckDB store."""
    from o4o_causal.registers import ingest as do_ingest

    try:
        path = do_ingest(raw, store, overwrite=overwrite, progress=progress)
    except O4OError as exc:
        raise _fail(exc) from exc
    typer.echo(f"store written: {path}")


@app.command("kernel")
def kernel_cmd() -> None:
    """Register (or refresh) the suite's Jupyter kernel for this environment."""
    from o4o_causal.repro.kernel import ensure_kernel

    typer.echo(f"kernel {config.KERNEL_NAME!r} registered in {ensure_kernel()}")


app.command("simulate")(simulate_cmd)

if __name__ == "__main__":  # pragma: no cover
    app()

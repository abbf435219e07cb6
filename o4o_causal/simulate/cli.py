"""The ``o4o simulate`` command: a simulation study from the command line.

Registered in :mod:`o4o_causal.cli` with ``app.command("simulate")(simulate_cmd)``.
Design options take comma-separated values; several values make a grid of designs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from o4o_causal import config
from o4o_causal.exceptions import O4OError, SpecificationError, format_error

if TYPE_CHECKING:
    from o4o_causal.simulate.design import Design
    from o4o_causal.simulate.result import SimulationResult

_DEFAULTS = {"n": "10000", "municipalities": "100", "confounding": "0.5", "heterogeneity": "1.0", "cluster_sd": "0.5"}
_SHOWN = ["label", "estimator", "ok", "failures", "bias", "rmse", "coverage", "coverage_mcse", "mean_width"]


def _values(name: str, text: str, kind: type[int] | type[float]) -> list[int | float]:
    try:
        values = [kind(v) for v in text.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values:
        raise SpecificationError(
            format_error(
                what=f"--{name.replace('_', '-')}",
                expected=f"comma-separated {kind.__name__} values",
                found=repr(text),
                fix=f"e.g. --{name.replace('_', '-')} {_DEFAULTS[name]}",
            )
        )
    return values


def _designs(n: str, municipalities: str, confounding: str, heterogeneity: str, cluster_sd: str) -> list[Design]:
    from o4o_causal.simulate.design import grid

    return grid(
        n=_values("n", n, int),
        municipalities=_values("municipalities", municipalities, int),
        confounding=_values("confounding", confounding, float),
        heterogeneity=_values("heterogeneity", heterogeneity, float),
        cluster_sd=_values("cluster_sd", cluster_sd, float),
    )


def _save_plot(result: SimulationResult, path: Path, target: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from o4o_causal.plotting.simulation import bias_plot, coverage_plot

    fig, axes = plt.subplots(1, 2, figsize=(13, 0.5 * len(result.summary()) + 2.5))
    coverage_plot(result, ax=axes[0], target=target)
    bias_plot(result, ax=axes[1], target=target)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def simulate_cmd(
    reps: Annotated[int, typer.Option(min=1, help="Replications per design.")] = 200,
    seed: Annotated[int, typer.Option(min=0, help="Study seed (replication r uses child r).")] = config.DEFAULT_SEED,
    estimators: Annotated[
        str, typer.Option(help="Comma-separated estimator names, or 'all' (default: all but bayes_multilevel).")
    ] = "",
    n: Annotated[str, typer.Option(help="Persons (comma-separated values make a grid).")] = _DEFAULTS["n"],
    municipalities: Annotated[str, typer.Option(help="Municipalities (grid).")] = _DEFAULTS["municipalities"],
    confounding: Annotated[str, typer.Option(help="Municipality confounding strength (grid).")] = _DEFAULTS[
        "confounding"
    ],
    heterogeneity: Annotated[str, typer.Option(help="Effect heterogeneity (grid).")] = _DEFAULTS["heterogeneity"],
    cluster_sd: Annotated[str, typer.Option(help="SD of the municipality intercept (grid).")] = _DEFAULTS["cluster_sd"],
    scheduler: Annotated[
        str | None, typer.Option("--scheduler", help="Address of an existing Dask scheduler (tcp://host:8786).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=0, help="LocalCluster workers (default: cores; 0 = in this process).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Parquet file of the results.")] = Path("simulation.parquet"),
    plot: Annotated[Path | None, typer.Option(help="Also save coverage and bias plots to this image file.")] = None,
    target: Annotated[str, typer.Option(help="Estimand scored: 'pate' or 'sate'.")] = "pate",
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Run a simulation study on Dask and write its results (Parquet) and summary."""
    from o4o_causal.simulate.runner import run

    try:
        designs = _designs(n, municipalities, confounding, heterogeneity, cluster_sd)
        names = [e.strip() for e in estimators.split(",") if e.strip()]
        chosen = None if not names else names[0] if names == ["all"] else names
        result = run(
            designs,
            chosen,
            reps,
            seed,
            scheduler=scheduler,
            workers=workers,
            progress=progress,
            out=out,
        )
        summary = result.summary(target=target)
    except O4OError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(summary[_SHOWN].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    typer.echo(f"{result!r}\nwritten: {out}")
    if plot is not None:
        _save_plot(result, plot, target)
        typer.echo(f"plot: {plot}")


__all__ = ["simulate_cmd"]

"""Contour plot of the sensitivity of an estimate to an unobserved confounder."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from o4o_causal.dag.sensitivity import SensitivityResult
from o4o_causal.sdc.figures import safe_figure


def sensitivity_contour_data(result: SensitivityResult, *, lim: float | None = None, points: int = 61) -> pd.DataFrame:
    """Return the grid behind :func:`sensitivity_contour`.

    Parameters
    ----------
    result
        From :func:`o4o_causal.dag.sensitivity.sensitivity_analysis`.
    lim
        Upper end of both axes (default: 0.4, or 1.2 times the largest bound, at most 0.99).
    points
        Grid points per axis.

    Returns
    -------
    DataFrame
        ``r2dz_x`` (partial R² of the confounder with the treatment), ``r2yz_dx`` (with
        the outcome) and ``adjusted_estimate``, one row per grid point.
    """
    return result.grid(lim=lim, points=points)


@safe_figure
def sensitivity_contour(
    result: SensitivityResult, *, lim: float | None = None, points: int = 61, ax: Axes | None = None
) -> Axes:
    """Draw the bias-adjusted estimate over hypothetical confounder strengths.

    x: partial R² of the confounder with the treatment, y: with the outcome. The zero
    contour (the effect explained away) is drawn thick and red; the unadjusted estimate
    sits at the origin; triangles mark confounders ``kd`` times as strong as each
    benchmark covariate, labelled with their adjusted estimate.

    Parameters
    ----------
    result
        From :func:`o4o_causal.dag.sensitivity.sensitivity_analysis`.
    lim, points
        Grid (see :func:`sensitivity_contour_data`).
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    grid = sensitivity_contour_data(result, lim=lim, points=points)
    x = np.unique(grid["r2dz_x"].to_numpy())
    y = np.unique(grid["r2yz_dx"].to_numpy())
    z = grid.pivot(index="r2yz_dx", columns="r2dz_x", values="adjusted_estimate").to_numpy()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5.5))
    lines = ax.contour(x, y, z, levels=10, colors="0.45", linewidths=0.8)
    ax.clabel(lines, fontsize=8, fmt="%.3g")
    if np.nanmin(z) < 0.0 < np.nanmax(z):
        zero = ax.contour(x, y, z, levels=[0.0], colors="crimson", linewidths=2.2, linestyles="--")
        ax.clabel(zero, fontsize=9, fmt="0 (explained away)")
    ax.scatter([0.0], [0.0], marker="D", color="black", zorder=3, label=f"unadjusted ({result.estimate:.3g})")
    bounds = result.bounds.dropna(subset=["r2dz_x", "r2yz_dx"])
    inside = bounds[(bounds["r2dz_x"] <= x[-1]) & (bounds["r2yz_dx"] <= y[-1])]
    if not inside.empty:
        ax.scatter(inside["r2dz_x"], inside["r2yz_dx"], marker="^", color="crimson", zorder=3, label="benchmark bounds")
        for label, bx, by, est in inside[["bound_label", "r2dz_x", "r2yz_dx", "adjusted_estimate"]].itertuples(
            index=False
        ):
            ax.annotate(f"{label} ({est:.3g})", (bx, by), xytext=(4, 4), textcoords="offset points", fontsize=8)
    ax.set_xlim(0.0, x[-1])
    ax.set_ylim(0.0, y[-1])
    ax.set_xlabel("partial R² of confounder with treatment")
    ax.set_ylabel("partial R² of confounder with outcome")
    ax.set_title(f"Sensitivity of the effect of {result.treatment} on {result.outcome}")
    ax.legend(loc="upper right", fontsize=8)
    return ax


__all__ = ["sensitivity_contour", "sensitivity_contour_data"]

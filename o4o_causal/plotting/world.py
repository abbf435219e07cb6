"""Figures describing register data: configurations by country, chronograms, calibration."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from o4o_causal.registers import formats
from o4o_causal.sdc.figures import safe_figure

#: One colour per harmonised state (defined in :mod:`o4o_causal.registers.formats`).
STATE_COLOURS: dict[str, str] = formats.STATE_COLOURS


@safe_figure
def configuration_heatmap(shares: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Heatmap of :func:`o4o_causal.describe.configuration_shares` (conditions x countries)."""
    data = shares.drop(index="municipalities", errors="ignore").astype(float)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 0.45 * len(data) + 1))
    image = ax.imshow(data.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(data.shape[1]), labels=list(data.columns))
    ax.set_yticks(range(data.shape[0]), labels=[str(i).replace("_", " ") for i in data.index])
    for (i, j), value in np.ndenumerate(data.to_numpy()):
        ax.text(j, i, f"{value:.0%}", ha="center", va="center", color="white" if value > 0.6 else "black", fontsize=8)
    ax.figure.colorbar(image, ax=ax, label="share of municipalities")
    return ax


@safe_figure
def chronogram(distribution: pd.DataFrame, *, ax: Axes | None = None, xlabel: str = "month") -> Axes:
    """Stacked shares of states over time from :func:`o4o_causal.describe.state_distribution`."""
    states = [s for s in formats.STATES if s in distribution.columns]
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3.5))
    ax.stackplot(
        distribution.index,
        [distribution[s].to_numpy() for s in states],
        labels=[formats.STATE_LABELS[s] for s in states],
        colors=[STATE_COLOURS[s] for s in states],
    )
    ax.set_xlim(distribution.index.min(), distribution.index.max())
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of persons")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize="small")
    return ax


@safe_figure
def calibration_plot(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Synthetic value against the target band for each calibration quantity (relative scale)."""
    t = table[table["band_high"] > table["band_low"]].reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.4 * len(t) + 1))
    rel = t[["band_low", "band_high", "synthetic", "target"]].div(t["target"], axis=0)
    y = np.arange(len(t))[::-1]
    ax.hlines(y, rel["band_low"], rel["band_high"], color="#9db4cf", linewidth=6, label="target band")
    ax.scatter(rel["target"], y, marker="|", color="black", s=120, label="target")
    ax.scatter(rel["synthetic"], y, color=np.where(t["within_band"], "#1f4e79", "#c0392b"), zorder=3, label="synthetic")
    ax.set_yticks(y, labels=t["quantity"].tolist(), fontsize=8)
    ax.set_xlabel("relative to target")
    ax.legend(loc="lower right", frameon=False, fontsize="small")
    return ax

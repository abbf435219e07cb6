"""Figures of trajectory analysis: chronograms per type, transition rates, time in state, quality, shares.

Every figure is drawn from aggregates (state shares, rates, means, shares with CIs);
there are deliberately no index plots of individual persons' sequences. Each function
takes ``ax=None`` (a new figure) and returns the Axes (the multi-panel
:func:`type_chronograms` returns the Figure); none calls ``plt.show()``. The ``*_data``
functions return the numbers drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from o4o_causal.sdc.figures import safe_figure
from o4o_causal.trajectories.alphabet import state_colour, state_label

if TYPE_CHECKING:
    from o4o_causal.trajectories.countries import CountryTypologies
    from o4o_causal.trajectories.seqdata import Sequences
    from o4o_causal.trajectories.typologies import TypologyResult


def _n_text(n: object) -> str:
    """``"n = 1,234"``, or ``"n suppressed"`` for a missing (suppressed) size."""
    return "n suppressed" if pd.isna(n) else f"n = {int(n):,}"  # type: ignore[call-overload]


def type_chronogram_data(result: TypologyResult) -> pd.DataFrame:
    """Return the state distribution by month of every type (index ``(type, month)``; suppressed cells missing)."""
    return result.state_distribution()


@safe_figure
def type_chronogram(result: TypologyResult, t: int, *, ax: Axes | None = None, legend: bool = True) -> Axes:
    """Draw the aggregated state distribution over time of type ``t`` (stacked shares)."""
    data = type_chronogram_data(result)
    dist = data.loc[t] if t in data.index.get_level_values(0) else data.iloc[:0]
    states = [s for s in result.sequences.alphabet if s in dist.columns]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    if len(dist):
        ax.stackplot(
            dist.index.to_numpy(),
            [dist[s].fillna(0.0).to_numpy() for s in states],
            labels=[state_label(s) for s in states],
            colors=[state_colour(s) for s in states],
            edgecolor="none",
        )
        ax.set_xlim(dist.index.min(), dist.index.max())
        ax.set_title(f"{result.names[t]} ({_n_text(dist['n'].iloc[0])})", fontsize="medium")
    else:
        ax.set_title(f"{result.names[t]} (suppressed)", fontsize="medium")
    ax.set_ylim(0, 1)
    ax.set_xlabel("month")
    ax.set_ylabel("share of persons")
    if legend:
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize="small")
    return ax


@safe_figure
def type_chronograms(result: TypologyResult, *, ncols: int = 2) -> Figure:
    """Draw one chronogram per type in a grid with one shared legend; return the Figure."""
    nrows = int(np.ceil(result.k / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.5 * ncols, 2.8 * nrows), sharex=True, sharey=True, squeeze=False)
    for t, ax in enumerate(axes.ravel()):
        if t < result.k:
            type_chronogram(result, t, ax=ax, legend=False)
        else:
            ax.set_axis_off()
    states = list(result.sequences.alphabet)
    handles = [Rectangle((0, 0), 1, 1, color=state_colour(s)) for s in states]
    fig.legend(handles, [state_label(s) for s in states], loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    return fig


def transition_heatmap_data(sequences: Sequences) -> pd.DataFrame:
    """Return the transition-rate matrix drawn by :func:`transition_heatmap` (``describe.transition_rates``)."""
    from o4o_causal.trajectories.describe import transition_rates

    return transition_rates(sequences).drop(columns="n")


@safe_figure
def transition_heatmap(sequences: Sequences, *, ax: Axes | None = None, diagonal: bool = False) -> Axes:
    """Heatmap of month-to-month transition rates (rows: from; columns: to); diagonal blank unless asked."""
    rates = transition_heatmap_data(sequences)
    values = rates.to_numpy(dtype=float).copy()
    if not diagonal:
        np.fill_diagonal(values, np.nan)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    image = ax.imshow(values, cmap="Blues", vmin=0, aspect="auto")
    ax.set_xticks(range(values.shape[1]), labels=list(rates.columns), rotation=45, ha="right")
    ax.set_yticks(range(values.shape[0]), labels=list(rates.index))
    for (i, j), v in np.ndenumerate(values):
        if np.isfinite(v) and v >= 0.005:
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
    ax.set_xlabel("to")
    ax.set_ylabel("from")
    ax.figure.colorbar(image, ax=ax, label="transition rate per month")
    return ax


def mean_time_data(result: TypologyResult) -> pd.DataFrame:
    """Return mean months in each state per type (rows: types; columns: states, ``label``, ``n``)."""
    return result.mean_time()


@safe_figure
def mean_time_plot(result: TypologyResult, *, ax: Axes | None = None) -> Axes:
    """Horizontal stacked bars: mean months in each state, one bar per type."""
    data = mean_time_data(result)
    states = [s for s in result.sequences.alphabet if s in data.columns and data[s].sum() > 0]
    # suppressed cells (missing) are drawn as 0: such a bar is shorter than the window
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.6 * len(data) + 1.2))
    left = np.zeros(len(data))
    y = np.arange(len(data))[::-1]
    for s in states:
        width = np.nan_to_num(data[s].to_numpy(dtype=float), nan=0.0)
        ax.barh(y, width, left=left, color=state_colour(s), label=state_label(s), edgecolor="white", linewidth=0.5)
        left += width
    ax.set_yticks(y, labels=[f"{lab} ({_n_text(n)})" for lab, n in zip(data["label"], data["n"], strict=True)])
    ax.set_xlabel("mean months in state")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize="small")
    return ax


def quality_plot_data(table: pd.DataFrame, measures: Sequence[str] = ("asw", "pbc", "hc")) -> pd.DataFrame:
    """Return the measures drawn by :func:`quality_plot` (index ``k``)."""
    return table.set_index("k")[list(measures)]


@safe_figure
def quality_plot(
    table: pd.DataFrame, *, measures: Sequence[str] = ("asw", "pbc", "hc"), ax: Axes | None = None
) -> Axes:
    """Cluster quality against the number of types (from :func:`~o4o_causal.trajectories.measures`)."""
    data = quality_plot_data(table, measures)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    names = {
        "asw": "ASW (higher better)",
        "pbc": "PBC (higher better)",
        "hc": "HC (lower better)",
        "r2": "R²",
        "ch": "CH",
        "r2sq": "R² (squared distances)",
        "chsq": "CH (squared distances)",
    }
    for m in data.columns:
        ax.plot(data.index, data[m], marker="o", label=names.get(m, m))
    ax.set_xticks(data.index.to_numpy())
    ax.set_xlabel("number of types k")
    ax.set_ylabel("quality")
    ax.legend(frameon=False, fontsize="small")
    return ax


def country_shares_data(typologies: CountryTypologies) -> pd.DataFrame:
    """Return type shares with CIs per country and common type (``CountryTypologies.shares``)."""
    return typologies.shares()


@safe_figure
def country_shares_plot(typologies: CountryTypologies, *, ax: Axes | None = None) -> Axes:
    """Dot-and-interval plot of type shares by country, types matched across countries.

    One row per common (reference) type; a country's type without a common type (a
    country with more types than the reference) gets a row of its own at the bottom,
    labelled ``"<country>: <label> (unmatched)"``.
    """
    data = country_shares_data(typologies).dropna(subset=["share"])
    common = sorted(int(c) for c in data["common_type"].dropna().unique().tolist())
    ref = typologies.results[typologies.reference]
    labels = {f"common:{c}": ref.names[c] for c in common}
    unmatched = data[data["common_type"].isna()]
    for country, t in zip(unmatched["country"], unmatched["type"], strict=True):
        labels[f"own:{country}:{t}"] = f"{country}: {typologies.results[str(country)].names[int(t)]} (unmatched)"
    position = {key: len(labels) - 1 - i for i, key in enumerate(labels)}
    countries = list(dict.fromkeys(data["country"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.7 * len(labels) + 1.5))
    offsets = np.linspace(-0.25, 0.25, len(countries)) if len(countries) > 1 else np.zeros(1)
    for off, country in zip(offsets, countries, strict=True):
        sub = data[data["country"] == country]
        keys = [
            f"common:{c}" if not pd.isna(c) else f"own:{country}:{t}"
            for c, t in zip(sub["common_type"], sub["type"], strict=True)
        ]
        y = np.asarray([position[key] for key in keys], dtype=np.float64) + off
        err = np.vstack([sub["share"] - sub["ci_low"], sub["ci_high"] - sub["share"]]).astype(float)
        ax.errorbar(sub["share"].astype(float), y, xerr=err, fmt="o", capsize=3, label=country)
    ax.set_yticks(np.arange(len(labels))[::-1], labels=list(labels.values()))
    ax.set_xlabel("share of persons (95% CI)")
    ax.set_xlim(0, 1)
    ax.legend(frameon=False, fontsize="small", title="country")
    return ax


__all__ = [
    "country_shares_data",
    "country_shares_plot",
    "mean_time_data",
    "mean_time_plot",
    "quality_plot",
    "quality_plot_data",
    "transition_heatmap",
    "transition_heatmap_data",
    "type_chronogram",
    "type_chronogram_data",
    "type_chronograms",
]

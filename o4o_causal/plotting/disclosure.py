"""Disclosure-safe drawing of microdata distributions.

A plain ``ax.hist`` or ``ax.scatter`` of register data shows single persons (sparse
extreme bins, individual points). These functions draw only what
:mod:`o4o_causal.sdc.descriptives` publishes: histogram bins of at least ``threshold``
persons (small bins merged, edges on round numbers, never at the minimum or maximum)
and 2-D binned counts with small cells hidden. Their figures carry the safe mark
(:func:`o4o_causal.sdc.figures.safe_figure`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from o4o_causal.sdc.figures import safe_figure

_BAR = "#1f4e79"
_HIDDEN = "#bdbdbd"


def _name(values: object, default: str) -> str:
    name = getattr(values, "name", None)
    return str(name) if name is not None else default


@safe_figure
def hist(
    values: object,
    bins: int | list[float] = 10,
    *,
    threshold: int | str | None = None,
    density: bool = False,
    ax: Axes | None = None,
    color: str = _BAR,
) -> Axes:
    """Draw a histogram whose every bar holds at least ``threshold`` persons.

    Parameters
    ----------
    values
        A numeric Series or 1-D array of person-level values (missing values left out).
    bins
        Number of round-number bins, or edges containing every value
        (see :func:`o4o_causal.sdc.descriptives.histogram_table`).
    threshold
        Minimum persons per bar (default ``config.DISCLOSURE.threshold``; or a preset
        name ``"ssb"``, ``"dst"``, ``"acro"``). Smaller bins are merged with neighbours.
    density
        Draw densities (count / (width * total)) instead of counts.
    ax
        Axes to draw on (default: a new figure).
    color
        Bar colour.

    Returns
    -------
    Axes
        The Axes drawn on. When all data together hold fewer than ``threshold`` persons,
        no bar is drawn and the Axes says so.
    """
    from o4o_causal.sdc.descriptives import histogram_table

    table = histogram_table(values, bins, threshold=threshold)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    counts = table["count"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    left, width = table["left"].to_numpy(dtype=float), (table["right"] - table["left"]).to_numpy(dtype=float)
    shown = np.isfinite(counts)
    heights = counts / (width * np.nansum(counts)) if density else counts
    ax.bar(left[shown], heights[shown], width=width[shown], align="edge", color=color, edgecolor="white")
    if not shown.any():
        ax.text(0.5, 0.5, "suppressed: too few persons", transform=ax.transAxes, ha="center", va="center")
    ax.set_xlabel(_name(values, "value"))
    ax.set_ylabel("density" if density else "persons")
    return ax


def _edges(index: pd.Index) -> np.ndarray:
    if not isinstance(index, pd.IntervalIndex):
        raise TypeError(f"binned counts: expected bins as a pandas IntervalIndex, found {type(index).__name__}")
    return np.append(index.left.to_numpy(dtype=float), float(index.right[-1]))


@safe_figure
def binned_scatter(
    x: object,
    y: object,
    *,
    bins: int | tuple[int | list[float], int | list[float]] = 10,
    threshold: int | str | None = None,
    ax: Axes | None = None,
    cmap: str = "Blues",
    colorbar: bool = True,
) -> Axes:
    """Draw the joint distribution of two person-level variables as binned counts.

    The safe replacement of a scatter plot of persons: a 2-D histogram whose cells
    with ``0 < n < threshold`` persons are hidden (drawn grey), from
    :func:`o4o_causal.sdc.descriptives.binned_counts`.

    Parameters
    ----------
    x, y
        Numeric Series or 1-D arrays of equal length (pairs with a missing value left out).
    bins
        Bins per axis, or ``(bins_x, bins_y)`` (numbers or edges containing every value).
    threshold
        Cells with fewer persons are hidden (default ``config.DISCLOSURE.threshold``).
    ax
        Axes to draw on (default: a new figure).
    cmap
        Colour map of the counts.
    colorbar
        Add a colour bar of the counts.

    Returns
    -------
    Axes
        The Axes drawn on.
    """
    from o4o_causal.sdc.descriptives import binned_counts

    grid = binned_counts(x, y, bins=bins, threshold=threshold)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    ex, ey = _edges(grid.index), _edges(grid.columns)
    counts = grid.astype("Float64").to_numpy(dtype=float, na_value=np.nan).T  # rows: y bins
    hidden = np.ma.masked_where(~np.isnan(counts), np.ones_like(counts))
    shown = np.ma.masked_where(np.isnan(counts) | (counts == 0), counts)
    mesh = ax.pcolormesh(ex, ey, shown, cmap=cmap, shading="flat")
    if np.isnan(counts).any():
        ax.pcolormesh(ex, ey, hidden, cmap=ListedColormap([_HIDDEN]), shading="flat")
        ax.legend(handles=[Patch(color=_HIDDEN, label="hidden: too few persons")], loc="upper left", frameon=False)
    if colorbar and shown.count():
        ax.figure.colorbar(mesh, ax=ax, label="persons")
    ax.set_xlabel(_name(x, "x"))
    ax.set_ylabel(_name(y, "y"))
    return ax


__all__ = ["binned_scatter", "hist"]

"""Figures of the municipal deviance model (:class:`~o4o_causal.municipal.DevianceResult`).

* :func:`funnel_plot` -- observed / expected ratio of every municipality against its
  person-years, with control limits (normal approximation to the binomial) around 1.
* :func:`deviance_caterpillar` -- posterior mean and interval of the deviance ``u_m``,
  sorted, with the selected positive and negative deviants highlighted.

Both take the result's published (suppressed) table or the result itself; municipalities
whose rate or size is suppressed are not drawn, and the title says how many.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from scipy import stats

from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.plotting.dml import _require
from o4o_causal.sdc.figures import safe_figure

if TYPE_CHECKING:
    from o4o_causal.municipal.result import DevianceResult

#: Colours of positive (fewer outcomes than expected) and negative deviants.
SIDE_COLOURS: Mapping[str, str] = {"positive": "#27ae60", "negative": "#c0392b", "": "#1f4e79"}
_GREY = "0.55"
_TABLE_COLUMNS = (
    "country",
    "municipality",
    "persons",
    "person_years",
    "events",
    "expected_rate",
    "deviance_mean",
    "deviance_low",
    "deviance_high",
)


def _table(source: pd.DataFrame | DevianceResult) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        table = source
    else:
        fn = getattr(source, "table", None)
        if not callable(fn):
            raise SpecificationError(
                format_error(
                    what="table",
                    expected="a DevianceResult or the DataFrame of its .table()",
                    found=type(source).__name__,
                    fix="pass result or result.table()",
                )
            )
        table = fn()
    _require(table, _TABLE_COLUMNS, "table", "DevianceResult.table()")
    if table.empty:
        raise DataError(format_error(what="table", expected="at least one row", found="none", fix="check the result"))
    return table


def _sides(selection: pd.DataFrame | None) -> dict[str, str]:
    if selection is None:
        return {}
    _require(selection, ["side", "municipality"], "selection", "DevianceResult.select(k)")
    bad = set(selection["side"]) - {"positive", "negative"}
    if bad:
        raise SpecificationError(
            format_error(
                what="selection['side']",
                expected="'positive' or 'negative'",
                found=repr(sorted(bad)),
                fix="pass result.select(k)",
            )
        )
    return dict(zip(selection["municipality"].astype(str), selection["side"].astype(str), strict=True))


def _levels(levels: Sequence[float]) -> tuple[float, ...]:
    out = tuple(float(v) for v in levels)
    if not out or not all(0 < v < 1 for v in out):
        raise SpecificationError(
            format_error(what="levels", expected="levels in (0, 1)", found=repr(levels), fix="use (0.95, 0.998)")
        )
    return tuple(sorted(out))


def _level_name(level: float) -> str:
    return f"{100 * level:g}".replace(".", "_")


# --------------------------------------------------------------------------- funnel


def funnel_limits(rate: float, person_years: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Return lower and upper control limits of the observed / expected ratio at ``person_years``.

    Under the expected rate ``p``, the count of ``n`` person-years has mean ``n p`` and
    variance ``n p (1 - p)``; the limits of the ratio are ``1 -/+ z sqrt((1 - p) / (n p))``
    with ``z`` the normal quantile of ``(1 + level) / 2`` (lower limits floored at 0).

    Parameters
    ----------
    rate
        Expected rate ``p`` in (0, 1).
    person_years
        Person-years ``n`` (positive).
    level
        Coverage of the limits, e.g. 0.95 or 0.998.

    Returns
    -------
    tuple of numpy.ndarray
        Lower and upper limits.
    """
    if not 0 < rate < 1:
        raise SpecificationError(
            format_error(what="rate", expected="in (0, 1)", found=repr(rate), fix="check the table")
        )
    n = np.asarray(person_years, dtype=np.float64)
    half = stats.norm.ppf(0.5 + level / 2) * np.sqrt((1 - rate) / (n * rate))
    return np.maximum(1 - half, 0.0), 1 + half


def funnel_data(
    source: pd.DataFrame | DevianceResult,
    *,
    selection: pd.DataFrame | None = None,
    levels: Sequence[float] = (0.95, 0.998),
) -> pd.DataFrame:
    """Return the points of :func:`funnel_plot`: observed / expected ratio per municipality.

    Municipalities whose outcome count is suppressed (or that are small) are left out.

    Parameters
    ----------
    source
        :meth:`DevianceResult.table` (suppressed) or the result.
    selection
        :meth:`DevianceResult.select` output: its municipalities get their ``side``.
    levels
        Coverages of the control limits.

    Returns
    -------
    pandas.DataFrame
        ``country, municipality, person_years, observed`` (count), ``expected`` (expected
        rate x person-years), ``ratio`` (observed / expected), ``z`` ((observed - expected)
        / sqrt(n p (1 - p)) with the municipality's own expected rate ``p``),
        ``outside_<level>`` (``|z|`` beyond the level's normal quantile; e.g. ``outside_95``)
        and ``side`` (``"positive"``, ``"negative"`` or ``""``). ``attrs``: ``levels``,
        ``rate`` per country (person-year weighted expected rate, for the limit curves),
        ``left_out`` (suppressed) and ``n_municipalities``.
    """
    table = _table(source)
    levs = _levels(levels)
    sides = _sides(selection)
    ok = table["events"].notna() & table["person_years"].notna() & table["expected_rate"].notna()
    rows = table.loc[ok]
    n = rows["person_years"].to_numpy(dtype=np.float64)
    p = rows["expected_rate"].to_numpy(dtype=np.float64)
    observed = rows["events"].to_numpy(dtype=np.float64)
    expected = n * p
    z = (observed - expected) / np.sqrt(n * p * (1 - p))
    data = pd.DataFrame(
        {
            "country": rows["country"].astype(str).to_numpy(),
            "municipality": rows["municipality"].astype(str).to_numpy(),
            "person_years": n,
            "observed": observed,
            "expected": expected,
            "ratio": observed / expected,
            "z": z,
        }
    )
    for level in levs:
        data[f"outside_{_level_name(level)}"] = np.abs(z) > stats.norm.ppf(0.5 + level / 2)
    data["side"] = [sides.get(m, "") for m in data["municipality"]]
    rates = {
        str(c): float(np.average(g["expected"] / g["person_years"], weights=g["person_years"]))
        for c, g in data.groupby("country", sort=False)
    }
    data.attrs.update({"levels": levs, "rate": rates, "left_out": int((~ok).sum()), "n_municipalities": len(table)})
    return data


@safe_figure
def funnel_plot(
    source: pd.DataFrame | DevianceResult,
    *,
    selection: pd.DataFrame | None = None,
    levels: Sequence[float] = (0.95, 0.998),
    ax: Axes | None = None,
) -> Axes:
    """Draw the funnel plot: observed / expected ratio against person-years, with control limits.

    Points outside the funnel have more (above) or fewer (below) outcomes than their risk
    factors and structure predict beyond binomial chance; selected deviants are coloured
    (green positive, red negative). The limits ignore the correlation of person-years of
    one person (they are too narrow when persons differ persistently), which is one
    reason the selection uses the model's posterior instead.

    Parameters
    ----------
    source
        :meth:`DevianceResult.table` (suppressed) or the result.
    selection
        :meth:`DevianceResult.select` output to highlight.
    levels
        Coverages of the control limits (dashed, then dotted, ...).
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    data = funnel_data(source, selection=selection, levels=levels)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.5))
    ax.axhline(1.0, color=_GREY, linewidth=0.9)
    colours = [SIDE_COLOURS[s] for s in data["side"]]
    sizes = np.where(data["side"] != "", 28.0, 12.0)
    ax.scatter(data["person_years"], data["ratio"], s=sizes, c=colours, alpha=0.8, linewidths=0, zorder=3, gid="points")
    if len(data):
        grid = np.geomspace(
            max(float(data["person_years"].min()) * 0.8, 1.0), float(data["person_years"].max()) * 1.2, 200
        )
        styles = ("--", ":", "-.")
        for c, rate in data.attrs["rate"].items():
            for i, level in enumerate(data.attrs["levels"]):
                lo, hi = funnel_limits(rate, grid, level)
                label = f"{100 * level:g}% limits" + (f" ({c})" if len(data.attrs["rate"]) > 1 else "")
                ax.plot(
                    grid, lo, color=_GREY, linestyle=styles[i % 3], linewidth=1, label=label, gid=f"limits_{c}_{level}"
                )
                ax.plot(grid, hi, color=_GREY, linestyle=styles[i % 3], linewidth=1, gid=f"limits_{c}_{level}_upper")
        ax.set_xscale("log")
    handles = [
        Line2D([], [], color=SIDE_COLOURS[s], marker="o", linestyle="none", label=f"{s} deviant")
        for s in ("positive", "negative")
        if (data["side"] == s).any()
    ]
    existing, _ = ax.get_legend_handles_labels()
    ax.legend(handles=[*existing, *handles], loc="upper right", frameon=False, fontsize="small")
    ax.set_xlabel("person-years (log scale)")
    ax.set_ylabel("observed / expected")
    title = f"Funnel plot: {len(data):,} of {data.attrs['n_municipalities']:,} municipalities"
    if data.attrs["left_out"]:
        title += f" ({data.attrs['left_out']:,} suppressed)"
    ax.set_title(title, fontsize="medium")
    return ax


# --------------------------------------------------------------------------- caterpillar


def deviance_caterpillar_data(
    source: pd.DataFrame | DevianceResult,
    *,
    selection: pd.DataFrame | None = None,
    truth: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Return the municipalities of :func:`deviance_caterpillar`, sorted by posterior mean within country.

    Parameters
    ----------
    source
        :meth:`DevianceResult.table` (suppressed) or the result.
    selection
        :meth:`DevianceResult.select` output: its municipalities get their ``side``.
    truth
        Municipality -> true deviance (synthetic data only).

    Returns
    -------
    pandas.DataFrame
        ``country, municipality, persons, mean, low, high, side, truth, x`` (position;
        countries separated by a gap). ``attrs``: ``left_out`` (small municipalities,
        blanked in the table), ``n_municipalities``.
    """
    table = _table(source)
    sides = _sides(selection)
    ok = table["deviance_mean"].notna()
    rows = table.loc[ok].copy()
    rows["_c"] = rows["country"].map({c: i for i, c in enumerate(pd.unique(rows["country"]))})
    rows = rows.sort_values(["_c", "deviance_mean"], kind="stable")
    gap = max(1, int(np.ceil(0.03 * len(rows))))
    true = {str(k): float(v) for k, v in (truth or {}).items()}
    data = pd.DataFrame(
        {
            "country": rows["country"].astype(str).to_numpy(),
            "municipality": rows["municipality"].astype(str).to_numpy(),
            "persons": rows["persons"].to_numpy(dtype=np.float64),
            "mean": rows["deviance_mean"].to_numpy(dtype=np.float64),
            "low": rows["deviance_low"].to_numpy(dtype=np.float64),
            "high": rows["deviance_high"].to_numpy(dtype=np.float64),
        }
    )
    data["side"] = [sides.get(m, "") for m in data["municipality"]]
    data["truth"] = [true.get(m, np.nan) for m in data["municipality"]]
    data["x"] = np.arange(len(data), dtype=np.float64) + rows["_c"].to_numpy(dtype=np.float64) * gap
    data.attrs.update({"left_out": int((~ok).sum()), "n_municipalities": len(table)})
    return data


@safe_figure
def deviance_caterpillar(
    source: pd.DataFrame | DevianceResult,
    *,
    selection: pd.DataFrame | None = None,
    truth: Mapping[str, float] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw the municipality deviances ``u_m`` sorted by posterior mean, with intervals and selected deviants.

    Parameters
    ----------
    source
        :meth:`DevianceResult.table` (suppressed) or the result.
    selection
        :meth:`DevianceResult.select` output: positive deviants green, negative red.
    truth
        Municipality -> true deviance (synthetic data only), drawn as small black marks.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    data = deviance_caterpillar_data(source, selection=selection, truth=truth)
    n = len(data)
    if ax is None:
        _, ax = plt.subplots(figsize=(9.0, 4.0))
    ax.axhline(0.0, color=_GREY, linewidth=0.8)
    colours = [SIDE_COLOURS[s] for s in data["side"]]
    width = float(np.clip(200.0 / max(n, 1), 0.4, 2.0))
    size = float(np.clip(600.0 / max(n, 1), 1.5, 25.0))
    ax.vlines(data["x"], data["low"], data["high"], colors=colours, linewidth=width, alpha=0.6, gid="intervals")
    sizes = np.where(data["side"] != "", 4 * size, size)
    ax.scatter(data["x"], data["mean"], s=sizes, c=colours, zorder=3, linewidths=0, gid="means")
    if truth is not None and data["truth"].notna().any():
        has = data["truth"].notna().to_numpy()
        ax.scatter(
            data.loc[has, "x"],
            data.loc[has, "truth"],
            marker="_",
            s=max(3 * size, 12.0),
            color="black",
            zorder=4,
            gid="truth",
        )
    handles = [
        Line2D([], [], color=SIDE_COLOURS[s], marker="o", linestyle="none", label=f"{s} deviant")
        for s in ("positive", "negative")
        if (data["side"] == s).any()
    ]
    if handles:
        ax.legend(handles=handles, loc="upper left", frameon=False, fontsize="small")
    centres = [float(g["x"].mean()) for _, g in data.groupby("country", sort=False)]
    ax.set_xticks(centres, labels=list(pd.unique(data["country"])))
    ax.set_xlabel("municipalities, sorted by posterior mean deviance")
    ax.set_ylabel("deviance u (log-odds; < 0: fewer than expected)")
    title = f"Municipal deviance: {n:,} of {data.attrs['n_municipalities']:,} municipalities"
    if data.attrs["left_out"]:
        title += f" ({data.attrs['left_out']:,} small left out)"
    ax.set_title(title, fontsize="medium")
    return ax


__all__ = [
    "SIDE_COLOURS",
    "deviance_caterpillar",
    "deviance_caterpillar_data",
    "funnel_data",
    "funnel_limits",
    "funnel_plot",
]

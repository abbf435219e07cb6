"""Figures of the Bayesian multilevel model (:class:`~o4o_causal.bayes.result.MultilevelResult`).

* :func:`caterpillar` -- municipality effects sorted by posterior mean, with intervals.
* :func:`shrinkage_plot` -- raw difference in means against the partially pooled effect.
* :func:`country_contrasts_plot` -- country effects and their pairwise differences.
* :func:`ppc_plot` -- posterior predictive check: observed means in replicated intervals.

Every function takes the result's tables (or the result itself) and never draws a group
with fewer persons than :data:`o4o_causal.config.DISCLOSURE` ``.threshold``; how many were
left out is said in the title.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from o4o_causal import config
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.plotting.dml import _require
from o4o_causal.plotting.estimates import forest
from o4o_causal.results import Estimate
from o4o_causal.sdc.figures import safe_figure

if TYPE_CHECKING:
    from o4o_causal.bayes.result import MultilevelResult

_BLUE = "#1f4e79"
_RED = "#c0392b"
_GREY = "0.6"
_ARM_OFFSET = 0.2  # ppc: untreated left, treated right of the group's position
_PALETTE = ("#1f4e79", "#e67e22", "#27ae60", "#8e44ad", "#7f8c8d", "#b8860b", "#16a085", "#d35400")


def _frame(source: pd.DataFrame | MultilevelResult, method: str, *args: str) -> pd.DataFrame:
    """Return ``source`` if it is a table, else the table of its ``method(*args)``."""
    if isinstance(source, pd.DataFrame):
        return source
    fn = getattr(source, method, None)
    if callable(fn):
        out = fn(*args)
        if isinstance(out, pd.DataFrame):
            return out
    call = f"{method}({', '.join(repr(a) for a in args)})"
    raise SpecificationError(
        format_error(
            what="table",
            expected=f"a DataFrame from MultilevelResult.{call} or a MultilevelResult",
            found=type(source).__name__,
            fix=f"pass result.{call}",
        )
    )


def _threshold(threshold: int | None) -> int:
    limit = config.DISCLOSURE.threshold if threshold is None else int(threshold)
    if limit < 1:
        raise SpecificationError(
            format_error(what="threshold", expected="an integer >= 1", found=str(threshold), fix="use e.g. 5")
        )
    return limit


def _not_empty(table: pd.DataFrame, what: str) -> None:
    if table.empty:
        raise DataError(format_error(what=what, expected="at least one row", found="none", fix="check the result"))


def _colours(labels: list[str]) -> dict[str, str]:
    return {label: _PALETTE[i % len(_PALETTE)] for i, label in enumerate(labels)}


def _weighted_means(table: pd.DataFrame, value: str, by: str | None) -> dict[str, float]:
    """Return the persons-weighted mean of ``value`` per ``by`` (all rows under ``"all"`` when ``by`` is None).

    Weighted by persons, the mean of the municipality effects is the posterior mean of the
    country (or overall) average effect: the country effect is the persons-weighted average
    of its municipalities' effects in every draw.
    """
    keys = table[by].astype(str) if by is not None else pd.Series("all", index=table.index)
    out: dict[str, float] = {}
    for key in pd.unique(keys):
        rows = table[keys == key]
        w = rows["persons"].to_numpy(dtype=np.float64)
        v = rows[value].to_numpy(dtype=np.float64)
        ok = np.isfinite(v) & (w > 0)
        if ok.any():
            out[str(key)] = float(np.average(v[ok], weights=w[ok]))
    return out


# --------------------------------------------------------------------------- caterpillar


def caterpillar_data(
    table: pd.DataFrame | MultilevelResult,
    *,
    truth: Mapping[str, float] | None = None,
    by_country: bool = True,
    max_groups: int | None = None,
    threshold: int | None = None,
) -> pd.DataFrame:
    """Return the municipalities drawn by :func:`caterpillar`, in drawing order, with their positions.

    Municipalities flagged ``small`` (or with fewer than ``threshold`` persons) are left
    out. With ``max_groups`` only that many of the others are kept: the ones with most
    persons (ties in table order). The rest are sorted by posterior mean, within country
    when ``by_country``; countries follow in the order they appear in the table, separated
    by a gap on the x axis.

    Parameters
    ----------
    table
        From :meth:`MultilevelResult.group_effects` ``("municipality")``: columns ``group,
        persons, mean, ci_low, ci_high`` (``country`` needed when ``by_country``; ``small``
        optional), or the result itself.
    truth
        Municipality -> true effect (synthetic data only); missing ones are NaN.
    by_country
        Sort and group within country.
    max_groups
        Draw at most this many municipalities (the largest).
    threshold
        Minimum persons per drawn municipality (default :data:`o4o_causal.config.DISCLOSURE` ``.threshold``).

    Returns
    -------
    DataFrame
        ``group, country, persons, mean, ci_low, ci_high, x, truth, block`` (the country
        when ``by_country``, else ``"all"``; empty ``country`` when the table has none). ``attrs`` holds
        ``threshold``, ``n_groups`` (rows in the table), ``small`` (left out as small),
        ``not_shown`` (left out by ``max_groups``) and ``means`` (the persons-weighted mean
        effect per country, or ``{"all": ...}``, over all municipalities).
    """
    frame = _frame(table, "group_effects", "municipality")
    _require(frame, ["group", "persons", "mean", "ci_low", "ci_high"], "table", "MultilevelResult.group_effects()")
    if by_country and "country" not in frame.columns:
        raise SpecificationError(
            format_error(
                what="table",
                expected="a 'country' column with by_country=True",
                found=f"columns {list(frame.columns)}",
                fix="pass group_effects('municipality') or by_country=False",
            )
        )
    _not_empty(frame, "table")
    if max_groups is not None and max_groups < 1:
        raise SpecificationError(
            format_error(what="max_groups", expected="None or >= 1", found=str(max_groups), fix="use e.g. 200")
        )
    limit = _threshold(threshold)
    by = "country" if by_country else None
    means = _weighted_means(frame, "mean", by)
    small = frame["persons"].to_numpy(dtype=np.float64) < limit
    if "small" in frame.columns:
        small |= frame["small"].fillna(True).to_numpy(dtype=bool)
    shown = frame.loc[~small].copy()
    shown["country"] = shown["country"].astype(str) if "country" in shown.columns else ""
    shown["group"] = shown["group"].astype(str)
    shown["_key"] = shown["country"] if by_country else "all"
    not_shown = 0
    if max_groups is not None and len(shown) > max_groups:
        order = np.argsort(-shown["persons"].to_numpy(dtype=np.float64), kind="stable")[:max_groups]
        not_shown = len(shown) - max_groups
        shown = shown.iloc[np.sort(order)]
    rank = {c: i for i, c in enumerate(pd.unique(shown["_key"]))}
    shown = shown.assign(_block=shown["_key"].map(rank)).sort_values(["_block", "mean"], kind="stable")
    gap = max(1, math.ceil(0.03 * len(shown))) if by_country else 0
    x = np.arange(len(shown), dtype=np.float64) + shown["_block"].to_numpy(dtype=np.float64) * gap
    true = {str(k): float(v) for k, v in (truth or {}).items()}
    data = pd.DataFrame(
        {
            "group": shown["group"].to_numpy(),
            "country": shown["country"].to_numpy(),
            "persons": shown["persons"].to_numpy(dtype=np.int64),
            "mean": shown["mean"].to_numpy(dtype=np.float64),
            "ci_low": shown["ci_low"].to_numpy(dtype=np.float64),
            "ci_high": shown["ci_high"].to_numpy(dtype=np.float64),
            "x": x,
            "truth": [true.get(g, np.nan) for g in shown["group"]],
            "block": shown["_key"].to_numpy(),
        }
    )
    data.attrs.update(
        {"threshold": limit, "n_groups": len(frame), "small": int(small.sum()), "not_shown": not_shown, "means": means}
    )
    return data


@safe_figure
def caterpillar(
    table: pd.DataFrame | MultilevelResult,
    *,
    truth: Mapping[str, float] | None = None,
    by_country: bool = True,
    max_groups: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw municipality effects sorted by posterior mean, with their intervals.

    One thin vertical bar (the posterior interval) and a point (the posterior mean) per
    municipality, sorted within country blocks coloured by country when ``by_country``.
    A dashed line across each block marks the country's mean effect (the persons-weighted
    mean of all its municipalities' effects, small ones included: the country effect). No
    tick label per municipality, so hundreds stay readable. Municipalities with fewer
    persons than the disclosure threshold are not drawn; the title says how many.

    Parameters
    ----------
    table
        From :meth:`MultilevelResult.group_effects` ``("municipality")``, or the result.
    truth
        Municipality -> true effect (synthetic data only), drawn as small red marks.
    by_country
        Sort within country blocks (colours, one mean line each); else one sorted row.
    max_groups
        Draw at most this many municipalities (the ones with most persons).
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    data = caterpillar_data(table, truth=truth, by_country=by_country, max_groups=max_groups)
    n = len(data)
    blocks = [*data.attrs["means"], *pd.unique(data["block"])]
    colours = _colours(list(dict.fromkeys(blocks))) if by_country else {"all": _BLUE}
    point_colours = [colours[c] for c in data["block"]]
    width = float(np.clip(200.0 / max(n, 1), 0.4, 2.0))
    size = float(np.clip(600.0 / max(n, 1), 1.5, 25.0))
    if ax is None:
        _, ax = plt.subplots(figsize=(9.0, 4.0))
    ax.axhline(0.0, color=_GREY, linewidth=0.8)
    ax.vlines(
        data["x"], data["ci_low"], data["ci_high"], colors=point_colours, linewidth=width, alpha=0.6, gid="intervals"
    )
    ax.scatter(data["x"], data["mean"], s=size, c=point_colours, zorder=3, linewidths=0, gid="means")
    handles: list[Line2D] = []
    centres, tick_labels = [], []
    for country, rows in data.groupby("block", sort=False):
        key = str(country)
        left, right = float(rows["x"].min()) - 0.5, float(rows["x"].max()) + 0.5
        centres.append((left + right) / 2)
        tick_labels.append(f"{key}\n({len(rows):,})")
        mean = data.attrs["means"].get(key)
        if mean is not None:
            ax.hlines(mean, left, right, colors=colours[key], linestyles="--", linewidth=1.2, zorder=4)
            label = f"{key} mean {mean:.3f}" if by_country else f"mean effect {mean:.3f}"
            handles.append(Line2D([], [], color=colours[key], linestyle="--", marker="o", label=label))
    if truth is not None and data["truth"].notna().any():
        has = data["truth"].notna().to_numpy()
        ax.scatter(
            data.loc[has, "x"],
            data.loc[has, "truth"],
            marker="_",
            s=max(3.0 * size, 12.0),
            color=_RED,
            linewidths=1.2,
            zorder=5,
            gid="truth",
        )
        handles.append(Line2D([], [], color=_RED, marker="_", linestyle="none", label="true effect"))
    if by_country:
        ax.set_xticks(centres, labels=tick_labels)
        ax.tick_params(axis="x", length=0)
    else:
        ax.set_xticks([])
    if n:
        ax.set_xlim(float(data["x"].min()) - 1, float(data["x"].max()) + 1)
    ax.set_xlabel("municipalities, sorted by posterior mean effect")
    ax.set_ylabel("average effect (posterior mean, interval)")
    title = f"Municipality effects: {n:,} of {data.attrs['n_groups']:,} drawn"
    notes = []
    if data.attrs["small"]:
        notes.append(f"{data.attrs['small']:,} with fewer than {data.attrs['threshold']} persons left out")
    if data.attrs["not_shown"]:
        notes.append(f"{data.attrs['not_shown']:,} smaller ones not shown (max_groups={max_groups})")
    if notes:
        title += " (" + "; ".join(notes) + ")"
    ax.set_title(title, fontsize="medium")
    if handles:
        ax.legend(handles=handles, loc="best", frameon=False, fontsize="small")
    return ax


# --------------------------------------------------------------------------- shrinkage


def shrinkage_data(table: pd.DataFrame | MultilevelResult, *, threshold: int | None = None) -> pd.DataFrame:
    """Return the municipalities drawn by :func:`shrinkage_plot`: those with enough persons in each arm.

    A raw difference in means of a municipality with few treated or few untreated persons
    would disclose their outcomes, so only municipalities with at least ``threshold``
    persons in **each** arm are kept.

    Parameters
    ----------
    table
        From :meth:`MultilevelResult.shrinkage`: columns ``group, country, persons, treated,
        untreated, raw, pooled`` (``ci_low, ci_high, pull`` kept when present), or the result.
    threshold
        Minimum persons per arm (default :data:`o4o_causal.config.DISCLOSURE` ``.threshold``).

    Returns
    -------
    DataFrame
        The kept rows, in table order, with the table's columns. ``attrs`` holds
        ``threshold``, ``n_groups`` (rows in the table), ``left_out`` and ``means`` (the
        persons-weighted mean of ``pooled`` per country over all municipalities: the
        country effect the municipalities are pulled towards).
    """
    frame = _frame(table, "shrinkage")
    columns = ["group", "country", "persons", "treated", "untreated", "raw", "pooled"]
    _require(frame, columns, "table", "MultilevelResult.shrinkage()")
    _not_empty(frame, "table")
    limit = _threshold(threshold)
    keep = (
        (frame["treated"].to_numpy(dtype=np.float64) >= limit)
        & (frame["untreated"].to_numpy(dtype=np.float64) >= limit)
        & np.isfinite(frame["raw"].to_numpy(dtype=np.float64))
    )
    extra = [c for c in ("ci_low", "ci_high", "pull") if c in frame.columns]
    data = frame.loc[keep, columns + extra].reset_index(drop=True)
    data["group"] = data["group"].astype(str)
    data["country"] = data["country"].astype(str)
    data.attrs.update(
        {
            "threshold": limit,
            "n_groups": len(frame),
            "left_out": int((~keep).sum()),
            "means": _weighted_means(frame, "pooled", "country"),
        }
    )
    return data


@safe_figure
def shrinkage_plot(table: pd.DataFrame | MultilevelResult, *, ax: Axes | None = None) -> Axes:
    """Draw the raw difference in means against the partially pooled posterior mean per municipality.

    Points (size by persons, colour by country) below the 45-degree line were pulled down,
    above it up; dashed horizontal lines mark the country effects they are pulled towards.
    Only municipalities with at least the disclosure threshold of persons in each arm are
    drawn (see :func:`shrinkage_data`); the title says how many were left out.

    Parameters
    ----------
    table
        From :meth:`MultilevelResult.shrinkage`, or the result.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    data = shrinkage_data(table)
    colours = _colours(list(data.attrs["means"]))
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 5.5))
    persons = data["persons"].to_numpy(dtype=np.float64)
    sizes = 8.0 + 150.0 * persons / persons.max() if len(data) else np.zeros(0)
    ax.scatter(
        data["raw"],
        data["pooled"],
        s=sizes,
        c=[colours[c] for c in data["country"]],
        alpha=0.6,
        edgecolors="white",
        linewidths=0.4,
        zorder=3,
        gid="municipalities",
    )
    ax.axline((0.0, 0.0), slope=1.0, color=_GREY, linewidth=1, linestyle=":", zorder=1)
    handles = [Line2D([], [], color=_GREY, linestyle=":", label="no pooling (pooled = raw)")]
    for country, mean in data.attrs["means"].items():
        ax.axhline(mean, color=colours[country], linestyle="--", linewidth=1.2, zorder=2)
        handles.append(
            Line2D([], [], color=colours[country], linestyle="--", marker="o", label=f"{country} effect {mean:.3f}")
        )
    ax.set_xlabel("raw difference in means (treated - untreated)")
    ax.set_ylabel("partially pooled effect (posterior mean)")
    title = f"Partial pooling: {len(data):,} municipalities"
    if data.attrs["left_out"]:
        title += f"\n({data.attrs['left_out']:,} with fewer than {data.attrs['threshold']} persons in an arm left out)"
    ax.set_title(title, fontsize="medium")
    ax.legend(handles=handles, loc="best", frameon=False, fontsize="small")
    return ax


# --------------------------------------------------------------------------- countries


@safe_figure
def country_contrasts_plot(
    effects: pd.DataFrame | MultilevelResult,
    contrasts: pd.DataFrame | None = None,
    *,
    truth: Mapping[str, float] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw country effects and their pairwise differences as one forest plot.

    Country effects come first (labelled with persons), then, below a grey line, the
    contrasts (labelled with the posterior probability that the difference is positive).
    With ``truth`` (true country effects), red diamonds mark the true effects and the
    true differences of the contrasts whose two countries are both given.

    Parameters
    ----------
    effects
        From :meth:`MultilevelResult.group_effects` ``("country")``: columns ``group,
        persons, mean, ci_low, ci_high``; or the result (then ``contrasts`` defaults to
        its :meth:`~MultilevelResult.country_contrasts`).
    contrasts
        From :meth:`MultilevelResult.country_contrasts`: columns ``contrast, mean, ci_low,
        ci_high`` (``p_positive`` optional); ``None`` or empty for none.
    truth
        Country -> true average effect (synthetic data only).
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    frame = _frame(effects, "group_effects", "country")
    if contrasts is None and not isinstance(effects, pd.DataFrame):
        contrasts = _frame(effects, "country_contrasts")
    _require(frame, ["group", "persons", "mean", "ci_low", "ci_high"], "effects", "MultilevelResult.group_effects()")
    _not_empty(frame, "effects")
    if contrasts is not None and len(contrasts):
        _require(
            contrasts, ["contrast", "mean", "ci_low", "ci_high"], "contrasts", "MultilevelResult.country_contrasts()"
        )
    true = {str(k): float(v) for k, v in (truth or {}).items()}
    estimates: dict[str, Estimate] = {}
    reference: dict[str, float] = {}
    for row in frame.to_dict("records"):
        group = str(row["group"])
        label = f"{group} (n={int(row['persons']):,})"
        estimates[label] = _estimate(row, estimand=f"country={group}", n=int(row["persons"]))
        if group in true:
            reference[label] = true[group]
    n_countries = len(estimates)
    if contrasts is not None and len(contrasts):
        for row in contrasts.to_dict("records"):
            name = str(row["contrast"])
            label = name if "p_positive" not in row else f"{name} (P>0 = {float(row['p_positive']):.2f})"
            estimates[label] = _estimate(row, estimand=name, n=0)
            first, _, second = name.partition(" - ")
            if first in true and second in true:
                reference[label] = true[first] - true[second]
    ax = forest(estimates, reference=reference or None, xlabel="average effect (posterior mean, interval)", ax=ax)
    if len(estimates) > n_countries:
        ax.axhline(len(estimates) - n_countries - 0.5, color=_GREY, linewidth=0.8)
    if reference:
        for coll in ax.collections:
            if coll.get_label() == "reference":
                coll.set_label("true effect")
        ax.legend(loc="best", frameon=False, fontsize="small")
    ax.set_title("Country effects (top) and differences between countries (below)", fontsize="medium")
    return ax


def _estimate(row: Mapping[Hashable, Any], *, estimand: str, n: int) -> Estimate:
    return Estimate(
        value=float(row["mean"]),
        se=float(row.get("sd", np.nan)),
        ci_low=float(row["ci_low"]),
        ci_high=float(row["ci_high"]),
        n=n,
        method="Bayesian multilevel",
        estimand=estimand,
    )


# --------------------------------------------------------------------------- posterior predictive check


@safe_figure
def ppc_plot(table: pd.DataFrame | MultilevelResult, *, ax: Axes | None = None) -> Axes:
    """Draw observed outcome means against their posterior predictive intervals by group and arm.

    Per group, the untreated arm left of the treated one: a bar for the replicated
    interval (a tick at the replicated mean when given) and a point for the observed
    mean, black inside the interval and red outside. Group-arms with fewer persons than
    the disclosure threshold are not drawn; the title says how many observed means lie
    inside their interval and how many were left out.

    Parameters
    ----------
    table
        From :meth:`MultilevelResult.ppc`: columns ``group, treated, persons, observed,
        ci_low, ci_high`` (``replicated_mean`` optional), or the result (``ppc("country")``).
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    frame = _frame(table, "ppc", "country")
    _require(frame, ["group", "treated", "persons", "observed", "ci_low", "ci_high"], "table", "MultilevelResult.ppc()")
    _not_empty(frame, "table")
    limit = config.DISCLOSURE.threshold
    keep = frame["persons"].to_numpy(dtype=np.float64) >= limit
    data = frame.loc[keep].reset_index(drop=True)
    groups = [str(g) for g in pd.unique(frame["group"].astype(str))]
    index = {g: i for i, g in enumerate(groups)}
    arm = data["treated"].astype(int).to_numpy()
    x = np.array([index[str(g)] for g in data["group"]], dtype=np.float64) + np.where(arm == 1, 1, -1) * _ARM_OFFSET
    low = data["ci_low"].to_numpy(dtype=np.float64)
    high = data["ci_high"].to_numpy(dtype=np.float64)
    observed = data["observed"].to_numpy(dtype=np.float64)
    inside = (low <= observed) & (observed <= high)
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.5, 2.0 * len(groups) + 1.5), 4.0))
    ax.vlines(x, low, high, colors="#9db4cf", linewidth=6, gid="replicated")
    handles = [Line2D([], [], color="#9db4cf", linewidth=6, label="replicated interval")]
    if "replicated_mean" in data.columns:
        ax.scatter(x, data["replicated_mean"], marker="_", s=120, color=_BLUE, zorder=3, gid="replicated_mean")
        handles.append(Line2D([], [], color=_BLUE, marker="_", linestyle="none", label="replicated mean"))
    ax.scatter(x, observed, c=np.where(inside, "black", _RED).tolist(), s=30, zorder=4, gid="observed")
    handles.append(Line2D([], [], color="black", marker="o", linestyle="none", label="observed (inside)"))
    if not inside.all():
        handles.append(Line2D([], [], color=_RED, marker="o", linestyle="none", label="observed (outside)"))
    arms = [i + offset for i in range(len(groups)) for offset in (-_ARM_OFFSET, _ARM_OFFSET)]
    ax.set_xticks(arms, labels=["untreated", "treated"] * len(groups), minor=True, fontsize="x-small")
    ax.set_xticks(range(len(groups)), labels=groups)
    ax.tick_params(axis="x", which="major", length=0, pad=16)
    for row in frame.loc[~keep].to_dict("records"):
        where = index[str(row["group"])] + (_ARM_OFFSET if int(row["treated"]) == 1 else -_ARM_OFFSET)
        ax.text(
            where,
            0.03,
            f"< {limit}\npersons",
            transform=ax.get_xaxis_transform(),
            ha="center",
            fontsize="x-small",
            color=_GREY,
        )
    ax.set_xlim(-0.6, len(groups) - 0.4)
    ax.set_ylabel("outcome mean")
    title = f"Posterior predictive check: {int(inside.sum())} of {len(data)} observed means inside"
    if (~keep).any():
        title += f" ({int((~keep).sum())} with fewer than {limit} persons left out)"
    ax.set_title(title, fontsize="medium")
    ax.legend(handles=handles, loc="best", frameon=False, fontsize="small")
    return ax

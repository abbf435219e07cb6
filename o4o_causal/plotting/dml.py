"""Figures of heterogeneous effects from :func:`o4o_causal.dml.estimate_cate`.

* :func:`gate_forest` -- group average effects (``CateResult.gate``) as a forest plot.
* :func:`cate_distribution` -- a disclosure-safe histogram of the predicted CATEs.
* :func:`sorted_effects_plot` -- effects by quantile of the predicted CATE (GATES).
* :func:`policy_tree_plot` -- a fitted policy tree drawn with matplotlib (no graphviz).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from o4o_causal import config
from o4o_causal.exceptions import DataError, DisclosureError, SpecificationError, format_error
from o4o_causal.plotting.estimates import forest
from o4o_causal.results import Estimate
from o4o_causal.sdc.figures import safe_figure

if TYPE_CHECKING:
    from o4o_causal.dml.policy import PolicyTreeResult
    from o4o_causal.dml.result import CateResult

_BLUE = "#1f4e79"
_RED = "#c0392b"
_TREAT = "#b2df8a"
_NO_TREAT = "#fdbf6f"


def _require(table: pd.DataFrame, columns: Sequence[str], what: str, source: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise SpecificationError(
            format_error(
                what=what,
                expected=f"a table from {source} with columns {list(columns)}",
                found=f"missing {missing} (columns: {list(table.columns)})",
                fix=f"pass the table returned by {source}",
            )
        )


def _ate_value(ate: object) -> float | None:
    """Return the point value of an ATE given as an Estimate, a number or a mapping (``estimate``/``value``)."""
    if ate is None:
        return None
    if isinstance(ate, Estimate):
        return ate.value
    if isinstance(ate, int | float | np.floating | np.integer):
        return float(ate)
    if isinstance(ate, Mapping):
        for key in ("estimate", "value"):
            if key in ate:
                return float(ate[key])
    raise SpecificationError(
        format_error(
            what="ate",
            expected="an Estimate, a number or a mapping with 'estimate'",
            found=type(ate).__name__,
            fix="pass result.ate()",
        )
    )


# --------------------------------------------------------------------------- GATE forest


@safe_figure
def gate_forest(
    table: pd.DataFrame,
    *,
    reference: Mapping[str, float] | None = None,
    ate: Estimate | None = None,
    null: float | None = 0.0,
    xlabel: str = "group average treatment effect",
    ax: Axes | None = None,
) -> Axes:
    """Draw group average treatment effects with their intervals as a forest plot.

    Groups are drawn top to bottom in the order of the table, labelled with their size
    (``"1 (n=1,794)"``). A vertical dashed line marks the ATE when ``ate`` is given or
    when ``table.attrs['ate']`` holds one (an Estimate, a number or a mapping with
    ``estimate``).

    Parameters
    ----------
    table
        From :meth:`~o4o_causal.dml.CateResult.gate`: columns ``group, n, estimate,
        ci_low, ci_high`` (``se`` optional).
    reference
        Group -> reference value (true group effect), drawn as a red diamond.
    ate
        The average effect over all groups (e.g. ``result.ate()``); overrides ``table.attrs``.
    null
        Position of the grey no-effect line (``None`` for none).
    xlabel
        Axis label.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    _require(table, ["group", "n", "estimate", "ci_low", "ci_high"], "table", "CateResult.gate(by)")
    if table.empty:
        raise DataError(format_error(what="table", expected="at least one group", found="none", fix="check `by`"))
    labels = [f"{g} (n={int(n):,})" for g, n in zip(table["group"], table["n"], strict=True)]
    value = table["estimate"].to_numpy(dtype=np.float64)
    low = table["ci_low"].to_numpy(dtype=np.float64)
    high = table["ci_high"].to_numpy(dtype=np.float64)
    se = table["se"].to_numpy(dtype=np.float64) if "se" in table.columns else np.full(len(table), np.nan)
    sizes = table["n"].to_numpy(dtype=np.int64)
    estimates = {
        label: Estimate(
            value=float(value[i]),
            se=float(se[i]),
            ci_low=float(low[i]),
            ci_high=float(high[i]),
            n=int(sizes[i]),
            method="GATE",
            estimand=f"GATE[{group}]",
        )
        for i, (label, group) in enumerate(zip(labels, table["group"], strict=True))
    }
    ref_by_label: dict[str, float] | None = None
    if reference is not None:
        by_group = {str(k): float(v) for k, v in reference.items()}
        ref_by_label = {
            label: by_group[str(g)] for label, g in zip(labels, table["group"], strict=True) if str(g) in by_group
        }
    ax = forest(estimates, reference=ref_by_label, null=null, xlabel=xlabel, ax=ax)
    ate_value = _ate_value(ate if ate is not None else table.attrs.get("ate"))
    if ate_value is not None:
        ax.axvline(ate_value, color=_BLUE, linestyle="--", linewidth=1, label=f"ATE {ate_value:.3f}")
        ax.legend(loc="best", frameon=False, fontsize="small")
    by = table.attrs.get("by")
    equality = table.attrs.get("equality") or {}
    if by is not None:
        title = f"Group effects by {by if isinstance(by, str) else ' x '.join(map(str, by))}"
        if "p_value" in equality:
            title += f" (all equal: p = {float(equality['p_value']):.3g})"
        ax.set_title(title, fontsize="medium")
    return ax


# --------------------------------------------------------------------------- CATE distribution


def _nice_width(raw: float) -> float:
    """Round a bin width up to 1, 2, 2.5 or 5 times a power of ten."""
    exponent = np.floor(np.log10(raw))
    base = 10.0**exponent
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * base >= raw * (1 - 1e-12):
            return float(step * base)
    return float(10 * base)  # pragma: no cover - unreachable


def _grid(values: np.ndarray, bins: int) -> np.ndarray:
    """Return bin edges on a rounded grid covering ``values`` (edges are not the data's extremes)."""
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo if hi > lo else max(abs(lo), 1.0) * 0.1
    width = _nice_width(span / bins)
    first, last = int(np.floor(lo / width)), int(np.ceil(hi / width))
    if last <= first:
        last = first + 1
    return np.arange(first, last + 1, dtype=np.float64) * width


def _values(result_or_values: CateResult | npt.ArrayLike, what: str) -> np.ndarray:
    # a CateResult contributes its full forest's CATE predictions
    cate = getattr(result_or_values, "cate", None)
    source = cate(interval=False)["cate"].to_numpy() if callable(cate) else result_or_values
    values = np.asarray(source, dtype=np.float64).ravel()
    if values.size == 0 or not np.isfinite(values).all():
        raise DataError(
            format_error(
                what=what,
                expected="a non-empty array of finite CATEs (or a CateResult)",
                found=f"{values.size} values, {int((~np.isfinite(values)).sum())} not finite",
                fix="drop missing values",
            )
        )
    return values


def _merge_small(edges: np.ndarray, counts: np.ndarray, threshold: int) -> list[list[float]]:
    """Merge bins below ``threshold`` into neighbours: tails inward, then interior gaps.

    Returns ``[left, right, count, original_bins]`` per remaining bin.
    """
    bins = [[float(edges[i]), float(edges[i + 1]), float(counts[i]), 1.0] for i in range(counts.size)]

    def join(a: int) -> None:  # merge bins a and a + 1
        left, right = bins[a], bins[a + 1]
        bins[a] = [left[0], right[1], left[2] + right[2], left[3] + right[3]]
        del bins[a + 1]

    while len(bins) > 1:
        if bins[0][2] < threshold:
            join(0)
            continue
        if bins[-1][2] < threshold:
            join(len(bins) - 2)
            continue
        last = len(bins) - 1
        small = [i for i in range(1, last) if bins[i][2] < threshold]
        if not small:
            break
        i = min(small, key=lambda k: min(k, last - k))  # the small bin nearest a tail first
        before, after = bins[i - 1][2], bins[i + 1][2]
        towards_left = before < after or (before == after and i <= last - i)
        join(i - 1 if towards_left else i)
    return bins


def cate_distribution_data(
    result_or_values: CateResult | npt.ArrayLike,
    *,
    bins: int | Sequence[float] = 30,
    threshold: int | None = None,
) -> pd.DataFrame:
    """Return a disclosure-safe histogram of predicted CATEs: every bin holds >= ``threshold`` persons.

    The values are first counted in ``bins`` bins of a rounded width on a grid aligned
    to multiples of that width, so the outer edges are not the smallest and largest
    values. Bins with fewer than ``threshold`` persons are then merged into their
    neighbours, from the tails inward (interior sparse bins into their smaller
    neighbour), until every bin left has at least ``threshold`` persons. Single values
    are never returned.

    Parameters
    ----------
    result_or_values
        A :class:`~o4o_causal.dml.CateResult` (its full forest's predictions) or an array of CATEs.
    bins
        Number of bins before merging (the rounded width gives about this many), or
        explicit increasing edges (values outside them are counted in the outer bins).
    threshold
        Minimum persons per bin (default :data:`o4o_causal.config.DISCLOSURE` ``.threshold``).

    Returns
    -------
    DataFrame
        One row per bin, contiguous and increasing: ``left, right, count, density``
        (count / (n x width); the bars integrate to 1), ``merged`` (``True`` where
        several original bins were combined) and ``n_bins`` (how many).
        ``attrs`` holds ``n``, ``threshold`` and ``bins`` (the number of original bins).

    Raises
    ------
    DisclosureError
        With fewer than ``threshold`` values in all.
    """
    limit = config.DISCLOSURE.threshold if threshold is None else int(threshold)
    if limit < 1:
        raise SpecificationError(
            format_error(what="threshold", expected="an integer >= 1", found=str(threshold), fix="use e.g. 5")
        )
    values = _values(result_or_values, "result_or_values")
    if values.size < limit:
        raise DisclosureError(
            format_error(
                what="CATE histogram",
                expected=f"at least {limit} persons",
                found=f"{values.size}",
                fix="do not show the distribution of so few persons",
            )
        )
    if isinstance(bins, int | np.integer):
        if bins < 1:
            raise SpecificationError(format_error(what="bins", expected=">= 1", found=str(bins), fix="use e.g. 30"))
        edges = _grid(values, int(bins))
    else:
        edges = np.asarray(bins, dtype=np.float64)
        if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
            raise SpecificationError(
                format_error(what="bins", expected="an int or >= 2 increasing edges", found=repr(bins), fix="fix it")
            )
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    merged = _merge_small(edges, counts, limit)
    table = pd.DataFrame(merged, columns=["left", "right", "count", "n_bins"])
    table["count"] = table["count"].astype(np.int64)
    table["n_bins"] = table["n_bins"].astype(np.int64)
    table["density"] = table["count"] / (values.size * (table["right"] - table["left"]))
    table["merged"] = table["n_bins"] > 1
    table = table[["left", "right", "count", "density", "merged", "n_bins"]]
    table.attrs.update({"n": int(values.size), "threshold": limit, "bins": int(counts.size)})
    return table


def _edges(table: pd.DataFrame) -> np.ndarray:
    return np.append(table["left"].to_numpy(dtype=np.float64), float(table["right"].iloc[-1]))


@safe_figure
def cate_distribution(
    result: CateResult,
    *,
    bins: int = 30,
    truth: npt.ArrayLike | None = None,
    threshold: int | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Draw a disclosure-safe histogram of the predicted CATEs with the ATE.

    Bins with fewer than ``threshold`` persons are merged (see
    :func:`cate_distribution_data`); individual values are never drawn (no rug, no
    extremes). With ``truth`` (the true CATEs of a synthetic design), its histogram on
    the same grid, merged by the same rule, is drawn as an outline.

    Parameters
    ----------
    result
        A fitted :class:`~o4o_causal.dml.CateResult`.
    bins
        Number of bins before merging.
    truth
        True CATEs, one per person (synthetic data only).
    threshold
        Minimum persons per drawn bin (default :data:`o4o_causal.config.DISCLOSURE` ``.threshold``).
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    tau = _values(result, "result")
    true = None if truth is None else _values(truth, "truth")
    pooled = tau if true is None else np.concatenate([tau, true])
    if bins < 1:
        raise SpecificationError(format_error(what="bins", expected=">= 1", found=str(bins), fix="use e.g. 30"))
    grid = _grid(pooled, bins)
    table = cate_distribution_data(tau, bins=grid.tolist(), threshold=threshold)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.stairs(
        table["density"].to_numpy(),
        _edges(table),
        fill=True,
        color="#9db4cf",
        edgecolor=_BLUE,
        label=f"predicted CATE (bins >= {table.attrs['threshold']} persons)",
    )
    if true is not None:
        truth_table = cate_distribution_data(true, bins=grid.tolist(), threshold=threshold)
        ax.stairs(
            truth_table["density"].to_numpy(),
            _edges(truth_table),
            fill=False,
            color=_RED,
            linewidth=1.5,
            label="true CATE",
        )
    ate = result.ate()
    ax.axvline(ate.value, color="black", linestyle="--", linewidth=1, label=f"ATE {ate.value:.3f}")
    ax.set_xlabel("conditional average treatment effect")
    ax.set_ylabel("density")
    ax.legend(loc="best", frameon=False, fontsize="small")
    return ax


# --------------------------------------------------------------------------- sorted effects


def sorted_effects_data(table: pd.DataFrame) -> pd.DataFrame:
    """Return the numbers behind :func:`sorted_effects_plot`, one row per quantile group.

    Parameters
    ----------
    table
        From :meth:`~o4o_causal.dml.CateResult.sorted_effects`.

    Returns
    -------
    DataFrame
        ``group`` (Q1..Qq), ``x`` (0..q-1), ``n``, ``mean_predicted`` (mean predicted CATE),
        ``estimate``, ``se``, ``ci_low``, ``ci_high`` (the doubly robust group effect);
        ``attrs`` keeps ``top_minus_bottom`` and ``equality`` of the table.
    """
    _require(
        table,
        ["term", "n", "mean_predicted", "estimate", "ci_low", "ci_high"],
        "table",
        "CateResult.sorted_effects(q)",
    )
    data = pd.DataFrame(
        {
            "group": table["term"].astype(str).to_numpy(),
            "x": np.arange(len(table), dtype=np.int64),
            "n": table["n"].to_numpy(dtype=np.int64),
            "mean_predicted": table["mean_predicted"].to_numpy(dtype=np.float64),
            "estimate": table["estimate"].to_numpy(dtype=np.float64),
            "se": table["se"].to_numpy(dtype=np.float64) if "se" in table.columns else np.nan,
            "ci_low": table["ci_low"].to_numpy(dtype=np.float64),
            "ci_high": table["ci_high"].to_numpy(dtype=np.float64),
        }
    )
    for key in ("top_minus_bottom", "equality"):
        if key in table.attrs:
            data.attrs[key] = dict(table.attrs[key])
    return data


@safe_figure
def sorted_effects_plot(table: pd.DataFrame, *, ate: Estimate | None = None, ax: Axes | None = None) -> Axes:
    """Draw group effects by quantile of the predicted CATE (least to most affected).

    Filled points with error bars are the doubly robust group effects; hollow markers
    the mean predicted CATE of each group (close to the points when the forest is
    calibrated). With ``ate``, a horizontal line at the ATE and its interval as a band.
    The title gives the difference of the most and least affected groups.

    Parameters
    ----------
    table
        From :meth:`~o4o_causal.dml.CateResult.sorted_effects`.
    ate
        The average effect (e.g. ``result.ate()``).
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    data = sorted_effects_data(table)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.8))
    if ate is not None:
        ax.axhspan(ate.ci_low, ate.ci_high, color="0.85", zorder=0, label=f"ATE interval ({ate.ci_level:.0%})")
        ax.axhline(ate.value, color="0.3", linestyle="--", linewidth=1, label=f"ATE {ate.value:.3f}")
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.errorbar(
        data["x"],
        data["estimate"],
        yerr=[data["estimate"] - data["ci_low"], data["ci_high"] - data["estimate"]],
        fmt="o",
        color=_BLUE,
        ecolor=_BLUE,
        capsize=3,
        label="group effect (interval)",
        zorder=3,
    )
    ax.scatter(
        data["x"],
        data["mean_predicted"],
        marker="o",
        s=60,
        facecolors="none",
        edgecolors=_RED,
        linewidths=1.5,
        label="mean predicted CATE",
        zorder=4,
    )
    ax.set_xticks(data["x"].tolist(), labels=data["group"].tolist())
    ax.set_xlabel("quantile group of the predicted CATE (least to most affected)")
    ax.set_ylabel("effect")
    tmb = data.attrs.get("top_minus_bottom")
    if tmb:
        first, last = data["group"].iloc[0], data["group"].iloc[-1]
        ax.set_title(
            f"{last} - {first}: {float(tmb['estimate']):.3f} (se {float(tmb['se']):.3f}, "
            f"p = {float(tmb['p_value']):.3g})",
            fontsize="medium",
        )
    ax.legend(loc="best", frameon=False, fontsize="small")
    return ax


# --------------------------------------------------------------------------- policy tree


def _layout(left: np.ndarray, right: np.ndarray) -> dict[int, tuple[float, int]]:
    """Place leaves at 0, 1, ... left to right and split nodes above the middle of their children."""
    positions: dict[int, tuple[float, int]] = {}
    next_leaf = 0

    def place(node: int, depth: int) -> float:
        nonlocal next_leaf
        if left[node] == -1:
            x = float(next_leaf)
            next_leaf += 1
        else:
            x = (place(int(left[node]), depth + 1) + place(int(right[node]), depth + 1)) / 2
        positions[node] = (x, depth)
        return x

    place(0, 0)
    return positions


def _leaf_text(row: Any, cost: float) -> str:
    what = "effect - cost" if cost else "effect"
    head = f"{'treat' if row.treat else 'do not treat'}\nn = {int(row.n):,} ({float(row.share):.1%})\n"
    if not np.isfinite(float(row.effect_minus_cost)):
        return head + f"{what}: too few persons\nin the estimation half"
    return head + f"{what} {float(row.effect_minus_cost):.3f}\n[{float(row.ci_low):.3f}, {float(row.ci_high):.3f}]"


@safe_figure
def policy_tree_plot(policy: PolicyTreeResult, *, ax: Axes | None = None) -> Axes:
    """Draw a fitted policy tree: splits, and for each leaf the decision, size and effect.

    Split nodes read ``feature <= threshold`` (the left branch is where it holds);
    leaves read ``treat`` (green) or ``do not treat`` (orange), their persons and
    share, and the doubly robust effect (minus the cost) with its interval. The title
    gives the cross-fitted gain over treating everybody. One text box per node.

    Parameters
    ----------
    policy
        From :meth:`~o4o_causal.dml.CateResult.policy_tree`.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    t = policy.tree.tree_
    left = np.asarray(t.children_left, dtype=np.int64)
    right = np.asarray(t.children_right, dtype=np.int64)
    feature = np.asarray(t.feature, dtype=np.int64)
    threshold = np.asarray(t.threshold, dtype=np.float64)
    positions = _layout(left, right)
    n_leaves = int((left == -1).sum())
    depth = max(d for _, d in positions.values())
    leaves = policy.leaves.set_index("leaf")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(4.0, 2.3 * n_leaves), 1.2 + 1.5 * (depth + 1)))
    for node, (x, d) in positions.items():
        if left[node] != -1:
            for child in (int(left[node]), int(right[node])):
                cx, cd = positions[child]
                ax.plot([x, cx], [-d, -cd], color="0.5", linewidth=1, zorder=1)
    for node, (x, d) in sorted(positions.items()):
        if left[node] != -1:
            text = f"{policy.features[int(feature[node])]} <= {threshold[node]:.3g}"
            face = "white"
        elif node in leaves.index:
            row = leaves.loc[node]
            text = _leaf_text(row, policy.cost)
            face = _TREAT if bool(row.treat) else _NO_TREAT
        else:
            text, face = "no persons", "0.9"
        ax.text(
            x,
            -d,
            text,
            ha="center",
            va="center",
            fontsize=8,
            zorder=3,
            bbox={"boxstyle": "round,pad=0.4", "facecolor": face, "edgecolor": "0.4"},
        )
    ax.set_xlim(-0.6, n_leaves - 0.4)
    ax.set_ylim(-depth - 0.6, 0.6)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel("left branch: condition holds; right branch: it does not", fontsize="small")
    value = policy.value.set_index("policy")
    if "learned tree vs treat everybody" in value.index:
        gain = value.loc["learned tree vs treat everybody"]
        title = (
            f"Policy tree (depth {policy.depth}): cross-fitted gain vs treating everybody "
            f"{float(gain['estimate']):+.4f} [{float(gain['ci_low']):+.4f}, {float(gain['ci_high']):+.4f}]"
        )
        share = policy.value.attrs.get("share_treated")
        if share is not None:
            title += f"\n{float(share):.0%} treated under the cross-fitted policy"
        ax.set_title(title, fontsize="medium")
    ax.legend(
        handles=[
            Patch(facecolor=_TREAT, edgecolor="0.4", label="treat"),
            Patch(facecolor=_NO_TREAT, edgecolor="0.4", label="do not treat"),
        ],
        loc="upper right",
        frameon=False,
        fontsize="small",
    )
    return ax

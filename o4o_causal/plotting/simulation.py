"""Plots of simulation studies (:class:`~o4o_causal.simulate.SimulationResult`).

:func:`coverage_plot` shows interval coverage by estimator and design with Monte Carlo
error bars (± z x MCSE) and the nominal level; :func:`bias_plot` shows bias with
error bars across designs. The ``*_data`` functions return the plotted numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.sdc.figures import safe_figure

if TYPE_CHECKING:
    from o4o_causal.simulate.result import SimulationResult

#: Error bars are ± Z_MCSE Monte Carlo standard errors.
Z_MCSE = 1.96


def coverage_data(result: SimulationResult, *, target: str = "pate", groups: bool = True) -> pd.DataFrame:
    """Return the numbers behind :func:`coverage_plot`.

    Parameters
    ----------
    result
        A simulation result.
    target
        ``"pate"`` or ``"sate"`` (see :meth:`SimulationResult.summary`).
    groups
        Add rows for municipality-effect coverage where an estimator gives them
        (``measure = "municipality effects"``).

    Returns
    -------
    DataFrame
        ``design_id, label, estimator, measure, coverage, mcse, low, high, nominal, ok``
        (``low``/``high`` = coverage ∓ 1.96 MCSE, clipped to [0, 1]).
    """
    table = result.summary(target=target)
    ate = table.assign(measure="ATE", mcse=table["coverage_mcse"])
    parts = [ate]
    if groups and table["group_coverage"].notna().any():
        g = table[table["group_coverage"].notna()]
        parts.append(
            g.assign(measure="municipality effects", coverage=g["group_coverage"], mcse=g["group_coverage_mcse"])
        )
    out = pd.concat(parts, ignore_index=True)
    out = out[["design_id", "label", "estimator", "measure", "coverage", "mcse", "ok"]].copy()
    out["low"] = (out["coverage"] - Z_MCSE * out["mcse"].fillna(0)).clip(0, 1)
    out["high"] = (out["coverage"] + Z_MCSE * out["mcse"].fillna(0)).clip(0, 1)
    out["nominal"] = result.ci_level
    return out.sort_values(["design_id", "measure"], kind="stable").reset_index(drop=True)


@safe_figure
def coverage_plot(
    result: SimulationResult, *, target: str = "pate", groups: bool = True, ax: Axes | None = None
) -> Axes:
    """Draw interval coverage per estimator (and design) with MC error bars and the nominal line.

    Parameters
    ----------
    result
        A simulation result.
    target
        ``"pate"`` or ``"sate"``.
    groups
        Also show municipality-effect coverage (Bayesian multilevel).
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    data = coverage_data(result, target=target, groups=groups)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * len(data) + 1.5))
    several = data["design_id"].nunique() > 1
    names = [
        f"{e}{' (municipalities)' if m != 'ATE' else ''}" + (f" | {lab}" if several else "")
        for e, m, lab in zip(data["estimator"], data["measure"], data["label"], strict=True)
    ]
    y = np.arange(len(data))[::-1]
    err = np.vstack([data["coverage"] - data["low"], data["high"] - data["coverage"]])
    colours = np.where(data["measure"] == "ATE", "C0", "C2")
    for k in range(len(data)):
        ax.errorbar(data["coverage"].iloc[k], y[k], xerr=err[:, [k]], fmt="o", color=colours[k], capsize=3)
    ax.axvline(result.ci_level, color="black", linestyle="--", linewidth=1, label=f"nominal {result.ci_level:.0%}")
    ax.set_yticks(y, names)
    ax.set_xlabel(f"coverage of {target.upper()} ({result.reps} replications; bars ±{Z_MCSE} MC SE)")
    ax.set_xlim(min(0.5, float(np.nanmin(data["low"])) - 0.02), 1.0)
    ax.legend(loc="lower left", frameon=False)
    return ax


def bias_data(result: SimulationResult, *, by: str = "design", target: str = "pate") -> pd.DataFrame:
    """Return the numbers behind :func:`bias_plot`.

    Parameters
    ----------
    result
        A simulation result.
    by
        ``"design"`` (one position per design) or a :class:`~o4o_causal.simulate.Design`
        field that varies across the designs (e.g. ``"confounding"``).
    target
        ``"pate"`` or ``"sate"``.

    Returns
    -------
    DataFrame
        ``design_id, label, estimator, x, bias, bias_mcse, low, high, rmse``.
    """
    table = result.summary(target=target)
    if by != "design" and by not in table.columns.intersection(list(result.designs[0].to_dict())):
        raise SpecificationError(
            format_error(
                what="by",
                expected=f"'design' or one of {', '.join(result.designs[0].to_dict())}",
                found=repr(by),
                fix="use by='design'",
            )
        )
    out = table[["design_id", "label", "estimator", "bias", "bias_mcse", "rmse"]].copy()
    out["x"] = table["design_id"].astype(float) if by == "design" else table[by].astype(float)
    out["low"] = out["bias"] - Z_MCSE * out["bias_mcse"]
    out["high"] = out["bias"] + Z_MCSE * out["bias_mcse"]
    return out


@safe_figure
def bias_plot(result: SimulationResult, *, by: str = "design", target: str = "pate", ax: Axes | None = None) -> Axes:
    """Draw the bias of every estimator across designs with MC error bars and the zero line.

    Parameters
    ----------
    result
        A simulation result.
    by
        ``"design"`` or a varying design field for the x axis.
    target
        ``"pate"`` or ``"sate"``.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    data = bias_data(result, by=by, target=target)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    names = list(dict.fromkeys(data["estimator"]))
    width = 0.6 * (np.ptp(data["x"].unique()) / max(len(data["x"].unique()) - 1, 1) if data["x"].nunique() > 1 else 1)
    for k, name in enumerate(names):
        part = data[data["estimator"] == name].sort_values("x")
        shift = (k - (len(names) - 1) / 2) * width / max(len(names), 1)
        err = np.vstack([part["bias"] - part["low"], part["high"] - part["bias"]])
        ax.errorbar(part["x"] + shift, part["bias"], yerr=err, fmt="o-", capsize=3, label=name)
    ax.axhline(0.0, color="black", linewidth=1)
    ax.set_xlim(float(data["x"].min()) - width, float(data["x"].max()) + width)
    if by == "design":
        labels = data.drop_duplicates("design_id").sort_values("x")
        ax.set_xticks(labels["x"], labels["label"], rotation=20, ha="right", fontsize=8)
    else:
        ax.set_xlabel(by)
    ax.set_ylabel(f"bias vs {target.upper()} (±{Z_MCSE} MC SE)")
    ax.legend(frameon=False, fontsize=8)
    return ax


__all__ = ["bias_data", "bias_plot", "coverage_data", "coverage_plot"]

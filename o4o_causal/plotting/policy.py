"""Figures of the policy module: synthetic control, placebo gaps, event studies, subgroup effects.

Each function takes a result object, accepts ``ax=None`` (new figure) and returns the
Axes; a ``*_data`` function returns the numbers drawn.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from o4o_causal.plotting.estimates import forest
from o4o_causal.policy.difference import SubgroupDid
from o4o_causal.policy.events import EventStudyResult
from o4o_causal.policy.synthetic import SyntheticControlResult
from o4o_causal.results import Estimate
from o4o_causal.sdc.figures import safe_figure

TREATED_COLOUR = "#1f4e79"
SYNTHETIC_COLOUR = "#c0392b"
PLACEBO_COLOUR = "0.75"


def synthetic_control_data(result: SyntheticControlResult) -> pd.DataFrame:
    """Return the series of :func:`synthetic_control_plot`: ``time, treated, synthetic, gap, post``."""
    return result.gaps.reset_index()


@safe_figure
def synthetic_control_plot(result: SyntheticControlResult, *, ylabel: str = "outcome", ax: Axes | None = None) -> Axes:
    """Draw the treated unit's outcome and its synthetic control, with the treatment time marked.

    Parameters
    ----------
    result
        A :class:`~o4o_causal.policy.SyntheticControlResult`.
    ylabel
        Axis label.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    table = synthetic_control_data(result)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    x = table.iloc[:, 0]
    ax.plot(x, table["treated"], color=TREATED_COLOUR, label=str(result.treated_unit))
    ax.plot(x, table["synthetic"], color=SYNTHETIC_COLOUR, linestyle="--", label=f"synthetic {result.treated_unit}")
    ax.axvline(result.treatment_time, color="0.5", linestyle=":", linewidth=1)  # type: ignore[arg-type]
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False, fontsize="small")
    return ax


def gaps_data(result: SyntheticControlResult, *, include_excluded: bool = False) -> pd.DataFrame:
    """Return the gaps drawn by :func:`gaps_plot`: long ``unit, time, gap, treated, excluded``."""
    time = result.gaps.index.name or "time"
    treated = pd.DataFrame(
        {
            "unit": result.treated_unit,
            time: result.gaps.index,
            "gap": result.gaps["gap"].to_numpy(),
            "treated": True,
            "excluded": False,
        }
    )
    placebos = result.placebo_gaps.assign(treated=False)
    if not include_excluded and len(placebos):
        placebos = placebos[~placebos["excluded"].astype(bool)]
    return pd.concat([placebos, treated], ignore_index=True)


@safe_figure
def gaps_plot(
    result: SyntheticControlResult,
    *,
    placebos: bool = True,
    ylabel: str = "gap (treated - synthetic)",
    ax: Axes | None = None,
) -> Axes:
    """Draw the treated unit's gap with the placebo gaps of the donors (placebo-in-space).

    Parameters
    ----------
    result
        A :class:`~o4o_causal.policy.SyntheticControlResult`.
    placebos
        Draw the placebo gaps (grey), excluding those excluded by the pre-RMSPE rule.
    ylabel
        Axis label.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    table = gaps_data(result)
    time = result.gaps.index.name or "time"
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    if placebos:
        for k, (_, sub) in enumerate(table[~table["treated"]].groupby("unit", sort=True)):
            ax.plot(sub[time], sub["gap"], color=PLACEBO_COLOUR, linewidth=0.8, label="placebos" if k == 0 else None)
    own = table[table["treated"]]
    ax.plot(own[time], own["gap"], color=TREATED_COLOUR, linewidth=1.8, label=str(result.treated_unit))
    ax.axhline(0.0, color="0.4", linewidth=0.8)
    ax.axvline(result.treatment_time, color="0.5", linestyle=":", linewidth=1)  # type: ignore[arg-type]
    ax.set_ylabel(ylabel)
    ax.set_title(f"placebo p = {result.p_value:.3g}", fontsize="small")
    ax.legend(frameon=False, fontsize="small")
    return ax


def event_study_data(result: EventStudyResult) -> pd.DataFrame:
    """Return the coefficients drawn by :func:`event_study_plot` (``rel_time, estimate, ci_low, ci_high, ...``)."""
    return result.coefficients.copy()


@safe_figure
def event_study_plot(result: EventStudyResult, *, ylabel: str = "effect", ax: Axes | None = None) -> Axes:
    """Draw event-study coefficients with intervals and the pre-trend test's p-value.

    Parameters
    ----------
    result
        An :class:`~o4o_causal.policy.EventStudyResult`.
    ylabel
        Axis label.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    table = event_study_data(result)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    est = table[~table["reference"]]
    ax.errorbar(
        est["rel_time"],
        est["estimate"],
        yerr=[est["estimate"] - est["ci_low"], est["ci_high"] - est["estimate"]],
        fmt="o",
        color=TREATED_COLOUR,
        capsize=3,
        label=f"{result.estimator} ({round(100 * result.ci_level)}% CI)",
    )
    ref = table[table["reference"]]
    ax.scatter(
        ref["rel_time"], ref["estimate"], marker="s", facecolors="white", edgecolors=TREATED_COLOUR, label="reference"
    )
    binned = est[est["binned"]]
    if len(binned):
        ax.scatter(
            binned["rel_time"],
            binned["estimate"],
            marker="D",
            color=SYNTHETIC_COLOUR,
            zorder=3,
            label="binned endpoint",
        )
    ax.axhline(0.0, color="0.5", linewidth=0.8)
    ax.axvline(-0.5, color="0.5", linestyle=":", linewidth=1)
    ax.set_xlabel("periods relative to treatment")
    ax.set_ylabel(ylabel)
    p = result.pretrend.p_value
    ax.set_title(
        f"pre-trend test: chi2({result.pretrend.df}) = {result.pretrend.statistic:.2f}, p = {p:.3g}", fontsize="small"
    )
    ax.legend(frameon=False, fontsize="small")
    return ax


def subgroup_forest_data(result: SubgroupDid, *, reference: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Return the table of :func:`subgroup_forest`: one row per group (and the equality test in ``attrs``)."""
    from o4o_causal.plotting.estimates import forest_data

    table = forest_data(_as_estimates(result), reference=reference)
    table.attrs["equality_test"] = {
        "statistic": result.equality[0],
        "df": result.equality[1],
        "p_value": result.equality[2],
    }
    return table


@safe_figure
def subgroup_forest(
    result: SubgroupDid, *, reference: Mapping[str, float] | None = None, xlabel: str = "effect", ax: Axes | None = None
) -> Axes:
    """Draw subgroup effects with intervals (and reference values, e.g. the truth) and the equality test.

    Parameters
    ----------
    result
        A :class:`~o4o_causal.policy.SubgroupDid`.
    reference
        Group label -> reference value.
    xlabel
        Axis label.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    ax = forest(_as_estimates(result), reference=reference, xlabel=xlabel, ax=ax)
    stat, df, p = result.equality
    ax.set_title(f"equal effects: chi2({df}) = {stat:.2f}, p = {p:.3g}", fontsize="small")
    return ax


def _as_estimates(result: SubgroupDid) -> dict[str, Estimate]:
    return {label: est for label, est in result.estimates.items() if np.isfinite(est.value)}


__all__ = [
    "event_study_data",
    "event_study_plot",
    "gaps_data",
    "gaps_plot",
    "subgroup_forest",
    "subgroup_forest_data",
    "synthetic_control_data",
    "synthetic_control_plot",
]

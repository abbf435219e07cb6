"""Plots of QCA results: the XY plot of a solution and a truth-table view.

Cases in QCA are case-level units (municipalities, offices): the XY plot draws one
point per case, which is only appropriate for such units, never for persons.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch

from o4o_causal.qca._sets import sufficiency_consistency, sufficiency_coverage, term_label
from o4o_causal.qca.solution import Solution
from o4o_causal.qca.truthtable import TruthTable
from o4o_causal.sdc.figures import safe_figure

#: Colours of truth-table rows by OUT.
OUT_COLOURS = {"1": "#1b7837", "0": "#b2182b", "?": "#9e9e9e"}


def xy_plot_data(solution: Solution, *, model: int = 0, term: str | None = None) -> pd.DataFrame:
    """Return the points of :func:`xy_plot`: one row per case.

    Parameters
    ----------
    solution
        A minimised solution.
    model
        Model index (0 = first).
    term
        A term of that model (standard notation); default: the whole model.

    Returns
    -------
    DataFrame
        ``case, x`` (membership in the model or term), ``y`` (outcome membership),
        ``deviant_consistency`` (``x > 0.5`` and ``y < 0.5``: deviant in kind) and
        ``uncovered`` (``x < 0.5`` and ``y > 0.5``); ``attrs`` holds ``consistency`` and
        ``coverage``.
    """
    xs = solution.membership(model=model, term=term)
    y = np.asarray(solution.truth_table.y)
    x = xs.to_numpy()
    out = pd.DataFrame(
        {
            "case": list(xs.index),
            "x": x,
            "y": y,
            "deviant_consistency": (x > 0.5) & (y < 0.5),
            "uncovered": (x < 0.5) & (y > 0.5),
        }
    )
    out.attrs["label"] = str(xs.name)
    out.attrs["consistency"] = sufficiency_consistency(x, y)
    out.attrs["coverage"] = sufficiency_coverage(x, y)
    return out


@safe_figure
def xy_plot(
    solution: Solution,
    *,
    model: int = 0,
    term: str | None = None,
    label_cases: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """Draw outcome membership against solution (or term) membership with the diagonal.

    Points below the diagonal are inconsistent with sufficiency; deviant cases in kind
    (``x > 0.5``, ``y < 0.5``) are drawn in red. Consistency and coverage are in the title.

    Parameters
    ----------
    solution
        A minimised solution.
    model
        Model index (0 = first).
    term
        A term of that model; default: the whole model.
    label_cases
        Write case labels next to the points (case-level units only).
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    data = xy_plot_data(solution, model=model, term=term)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 5.0))
    ax.plot([0, 1], [0, 1], color="0.5", linewidth=1, linestyle="--", zorder=1)
    ax.axhline(0.5, color="0.85", linewidth=0.8, zorder=0)
    ax.axvline(0.5, color="0.85", linewidth=0.8, zorder=0)
    colours = np.where(data["deviant_consistency"], "#b2182b", "#2166ac")
    ax.scatter(data["x"], data["y"], c=list(colours), s=28, alpha=0.85, edgecolors="white", linewidths=0.5, zorder=2)
    if label_cases:
        for _, r in data.iterrows():
            ax.annotate(str(r["case"]), (r["x"], r["y"]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel(f"membership in {data.attrs['label']}")
    ax.set_ylabel(f"membership in {solution.outcome}")
    ax.set_title(f"consistency {data.attrs['consistency']:.3f}, coverage {data.attrs['coverage']:.3f}", fontsize=10)
    return ax


def truth_table_data(tt: TruthTable, *, complete: bool = False) -> pd.DataFrame:
    """Return the rows of :func:`truth_table_plot`, in drawing order (top first).

    Parameters
    ----------
    tt
        A truth table.
    complete
        Include remainder rows without cases.

    Returns
    -------
    DataFrame
        ``row, label`` (configuration in standard notation), ``out, n, consistency, pri,
        contradictory``.
    """
    t = tt.to_frame(complete=complete, sort=True)
    return pd.DataFrame(
        {
            "row": t["row"],
            "label": [term_label(c, tt.conditions) for c in t["code"]],
            "out": t["out"],
            "n": t["n"],
            "consistency": t["consistency"],
            "pri": t["pri"],
            "contradictory": t["contradictory"],
        }
    )


@safe_figure
def truth_table_plot(tt: TruthTable, *, complete: bool = False, ax: Axes | None = None) -> Axes:
    """Draw the truth table: consistency bars coloured by OUT, PRI markers, ``n`` per row.

    Parameters
    ----------
    tt
        A truth table.
    complete
        Include remainder rows without cases.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    data = truth_table_data(tt, complete=complete)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 0.9 + 0.32 * len(data)))
    pos = np.arange(len(data))[::-1]
    cons = data["consistency"].fillna(0.0).to_numpy()
    ax.barh(pos, cons, color=[OUT_COLOURS[o] for o in data["out"]], height=0.7, alpha=0.85)
    ax.scatter(data["pri"], pos, marker="|", s=120, color="black", zorder=3, label="PRI")
    for p, (_, r) in zip(pos, data.iterrows(), strict=True):
        flag = " C" if r["contradictory"] else ""
        ax.text(1.01, p, f"n={int(r['n'])}{flag}", va="center", fontsize=7)
    ax.axvline(tt.incl_cut, color="0.3", linestyle="--", linewidth=1)
    if tt.pri_cut is not None:
        ax.axvline(tt.pri_cut, color="0.3", linestyle=":", linewidth=1)
    ax.set_yticks(pos, list(data["label"]), fontsize=7)
    ax.set_xlim(0, 1.12)
    ax.set_xlabel("consistency (bar), PRI (|)")
    ax.set_title(f"truth table of {tt.outcome} (n_cut={tt.n_cut}, incl_cut={tt.incl_cut:g})", fontsize=10)
    handles = [Patch(color=c, label=f"OUT = {o}") for o, c in OUT_COLOURS.items() if (data["out"] == o).any()]
    ax.legend(handles=handles, loc="lower right", fontsize=7, frameon=False)
    return ax


__all__ = ["OUT_COLOURS", "truth_table_data", "truth_table_plot", "xy_plot", "xy_plot_data"]

"""Forest plots of :class:`~o4o_causal.results.Estimate` objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.results import Estimate
from o4o_causal.sdc.figures import safe_figure


def forest_data(estimates: Mapping[str, Estimate], *, reference: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Return the table behind :func:`forest`: one row per labelled estimate.

    Parameters
    ----------
    estimates
        Label -> estimate, in display order (top to bottom).
    reference
        Optional label -> reference value (ground truth or a published result).

    Returns
    -------
    DataFrame
        Columns ``label, value, ci_low, ci_high, se, n, method, reference, covers``.
    """
    if not estimates:
        raise SpecificationError(
            format_error(what="estimates", expected="at least one estimate", found="none", fix="pass a dict")
        )
    rows = []
    for label, est in estimates.items():
        ref = None if reference is None else reference.get(label)
        rows.append(
            {
                "label": label,
                "value": est.value,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "se": est.se,
                "n": est.n,
                "method": est.method,
                "reference": ref,
                "covers": None if ref is None else est.covers(ref),
            }
        )
    return pd.DataFrame(rows)


@safe_figure
def forest(
    estimates: Mapping[str, Estimate],
    *,
    reference: Mapping[str, float] | None = None,
    null: float | None = 0.0,
    xlabel: str = "effect",
    ax: Axes | None = None,
) -> Axes:
    """Draw estimates with intervals, optionally with reference values (truth/published).

    Parameters
    ----------
    estimates
        Label -> estimate, drawn top to bottom.
    reference
        Label -> reference value drawn as a diamond.
    null
        Position of the vertical no-effect line (``None`` for none).
    xlabel
        Axis label.
    ax
        Axes to draw on (default: a new figure).

    Returns
    -------
    Axes
    """
    table = forest_data(estimates, reference=reference)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 0.5 + 0.45 * len(table)))
    y = list(range(len(table)))[::-1]
    ax.errorbar(
        table["value"],
        y,
        xerr=[table["value"] - table["ci_low"], table["ci_high"] - table["value"]],
        fmt="o",
        color="#1f4e79",
        ecolor="#1f4e79",
        capsize=3,
        label="estimate (interval)",
    )
    if reference is not None and table["reference"].notna().any():
        has_ref = table["reference"].notna().to_numpy()
        ax.scatter(
            table.loc[has_ref, "reference"],
            [yy for yy, keep in zip(y, has_ref, strict=True) if keep],
            marker="D",
            color="#c0392b",
            zorder=3,
            label="reference",
        )
    if null is not None:
        ax.axvline(null, color="0.6", linestyle="--", linewidth=1)
    ax.set_yticks(y, labels=_labels(table["label"].tolist()))
    ax.set_xlabel(xlabel)
    ax.legend(loc="best", frameon=False, fontsize="small")
    return ax


def _labels(labels: Sequence[str]) -> list[str]:
    return [str(label) for label in labels]

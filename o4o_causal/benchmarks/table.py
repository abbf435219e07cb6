"""The benchmark table: published value, ours, difference, tolerance, pass/fail."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import pandas as pd

from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.results import Estimate

#: Columns of :func:`benchmark_table`.
COLUMNS = ("dataset", "benchmark", "quantity", "published", "ours", "difference", "tolerance", "pass", "source")
_QUANTITIES = {"value": "estimate", "ci_low": "95% CI low", "ci_high": "95% CI high"}


def _tolerance(estimate: Estimate | float, tolerance: float | Literal["interval"]) -> float:
    if tolerance == "interval":
        if not isinstance(estimate, Estimate) or math.isnan(estimate.ci_low):
            raise SpecificationError(
                format_error(
                    what="tolerance='interval'",
                    expected="an Estimate with an interval",
                    found=type(estimate).__name__,
                    fix="pass a numeric tolerance",
                )
            )
        return max(estimate.value - estimate.ci_low, estimate.ci_high - estimate.value)
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not tolerance >= 0:
        raise SpecificationError(
            format_error(
                what="tolerance", expected="a number >= 0 or 'interval'", found=repr(tolerance), fix="use e.g. 0.05"
            )
        )
    return float(tolerance)


def benchmark_rows(
    dataset: str,
    benchmark: str,
    estimate: Estimate | float,
    published: Mapping[str, float],
    *,
    tolerance: float | Literal["interval"],
    ci_tolerance: float | None = None,
    source: str = "",
) -> list[dict[str, Any]]:
    """Return table rows comparing our estimate with a published one.

    Parameters
    ----------
    dataset, benchmark
        Labels (e.g. ``"NHEFS"``, ``"IP weighting"``).
    estimate
        Our estimate (or a plain number).
    published
        The published numbers: ``value`` and optionally ``ci_low``/``ci_high`` (e.g. an
        entry of :data:`o4o_causal.datasets.PUBLISHED`).
    tolerance
        Allowed absolute difference of the point estimate, or ``"interval"``: pass when
        our interval contains the published value (tolerance = our interval's half-width).
    ci_tolerance
        Allowed absolute difference of each interval bound; ``None`` skips the bounds.
    source
        Where the published number comes from.

    Returns
    -------
    list of dict
        One row for the point estimate, plus one per published interval bound.
    """
    if "value" not in published:
        raise SpecificationError(
            format_error(what="published", expected="a 'value' entry", found=repr(dict(published)), fix="add it")
        )
    ours = {"value": estimate.value if isinstance(estimate, Estimate) else float(estimate)}
    if isinstance(estimate, Estimate):
        ours |= {"ci_low": estimate.ci_low, "ci_high": estimate.ci_high}
    rows = []
    for key, label in _QUANTITIES.items():
        if key not in published or (key != "value" and (ci_tolerance is None or key not in ours)):
            continue
        tol = _tolerance(estimate, tolerance) if key == "value" else float(ci_tolerance or 0.0)
        diff = ours[key] - float(published[key])
        rows.append(
            {
                "dataset": dataset,
                "benchmark": benchmark,
                "quantity": label,
                "published": float(published[key]),
                "ours": ours[key],
                "difference": diff,
                "tolerance": tol,
                "pass": bool(abs(diff) <= tol),
                "source": source,
            }
        )
    return rows


def benchmark_table(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Return the rows of :func:`benchmark_rows` calls as one table (columns :data:`COLUMNS`)."""
    table = pd.DataFrame(list(rows))
    if table.empty:
        raise SpecificationError(
            format_error(what="rows", expected="at least one benchmark row", found="none", fix="add rows")
        )
    return table.reindex(columns=list(COLUMNS))

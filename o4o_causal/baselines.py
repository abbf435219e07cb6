"""Baseline estimators every analysis reports next to its causal estimates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from o4o_causal import _validate, config
from o4o_causal.exceptions import DataError, format_error
from o4o_causal.results import Estimate


def difference_in_means(
    data: pd.DataFrame, *, outcome: str, treatment: str, ci_level: float = config.CI_LEVEL
) -> Estimate:
    """Difference in mean outcome between treated and untreated (naive contrast).

    Unbiased for the average treatment effect only under randomisation; with
    observational data it is the "naive" row that shows how large confounding is. The
    standard error is Neyman's (unequal variances): ``sqrt(s1²/n1 + s0²/n0)``.

    Parameters
    ----------
    data
        One row per unit (not modified).
    outcome
        Numeric outcome column.
    treatment
        Binary 0/1 treatment column.
    ci_level
        Level of the normal interval.

    Returns
    -------
    Estimate
        ``method="difference-in-means"``.

    Raises
    ------
    DataError
        For missing columns, missing values, a non-binary treatment, or fewer than
        two units in a treatment arm.
    """
    frame = _validate.require_frame(data)
    _validate.require_columns(frame, [outcome, treatment])
    _validate.require_no_missing(frame, [outcome, treatment])
    d = _validate.binary_treatment(frame, treatment)
    y = pd.to_numeric(frame[outcome], errors="coerce").to_numpy(dtype=float)
    if np.isnan(y).any():
        raise DataError(
            format_error(
                what=f"outcome column {outcome!r}",
                expected="numeric values",
                found=f"{int(np.isnan(y).sum())} non-numeric values",
                fix="convert the outcome to numbers",
            )
        )
    y1, y0 = y[d == 1], y[d == 0]
    for arm, values in (("treated", y1), ("untreated", y0)):
        if values.size < 2:
            raise DataError(
                format_error(
                    what=f"{arm} arm of {treatment!r}",
                    expected="at least 2 units",
                    found=f"{values.size}",
                    fix="a variance cannot be estimated from fewer than two units",
                )
            )
    value = float(y1.mean() - y0.mean())
    se = float(np.sqrt(y1.var(ddof=1) / y1.size + y0.var(ddof=1) / y0.size))
    return Estimate.from_normal(value, se, n=y.size, method="difference-in-means", ci_level=ci_level)

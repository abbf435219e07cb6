"""Input checks and arrays shared by the benchmark estimators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from o4o_causal import _validate
from o4o_causal.exceptions import DataError, SpecificationError, format_error

ESTIMANDS = ("ATE", "ATT")


@dataclass(frozen=True)
class Arrays:
    """Validated arrays of one estimation (read-only copies of the caller's columns)."""

    frame: pd.DataFrame
    y: np.ndarray
    d: np.ndarray
    x: np.ndarray
    covariates: tuple[str, ...]


def check_estimand(estimand: str, allowed: Sequence[str] = ESTIMANDS) -> str:
    """Return ``estimand`` or raise :class:`SpecificationError`."""
    if estimand not in allowed:
        raise SpecificationError(
            format_error(what="estimand", expected=f"one of {list(allowed)}", found=repr(estimand), fix="choose one")
        )
    return estimand


def check_trim(trim: float | None) -> float | None:
    """Return ``trim`` (``None`` or a number in [0, 0.5)) or raise :class:`SpecificationError`."""
    if trim is None:
        return None
    if isinstance(trim, bool) or not isinstance(trim, int | float) or not 0.0 <= float(trim) < 0.5:
        raise SpecificationError(
            format_error(what="trim", expected="None or a number in [0, 0.5)", found=repr(trim), fix="use e.g. 0.05")
        )
    return float(trim)


def arrays(data: pd.DataFrame, *, outcome: str, treatment: str, covariates: Sequence[str] | str) -> Arrays:
    """Validate the frame and return outcome, treatment and covariate arrays.

    Raises
    ------
    DataError
        Missing columns or values, non-numeric columns, a non-binary treatment, or an
        arm with fewer than two units.
    SpecificationError
        Covariate names that are not strings, or the treatment/outcome among them.
    """
    frame = _validate.require_frame(data)
    names = _validate.column_names(covariates, "covariates")
    overlap = [c for c in names if c in (outcome, treatment)]
    if overlap:
        raise SpecificationError(
            format_error(
                what="covariates",
                expected="columns other than the outcome and the treatment",
                found=", ".join(map(repr, overlap)),
                fix="remove them from covariates",
            )
        )
    _validate.require_columns(frame, [outcome, treatment, *names])
    _validate.require_no_missing(frame, [outcome, treatment, *names])
    _validate.require_numeric(frame, [outcome], "outcome")
    _validate.require_numeric(frame, names, "covariate")
    d = _validate.binary_treatment(frame, treatment)
    for arm in (0, 1):
        if int((d == arm).sum()) < 2:
            raise DataError(
                format_error(
                    what=f"{'treated' if arm else 'untreated'} arm of {treatment!r}",
                    expected="at least 2 units",
                    found=f"{int((d == arm).sum())}",
                    fix="use more data",
                )
            )
    x = frame[names].to_numpy(dtype=float) if names else np.empty((len(frame), 0))
    return Arrays(frame, frame[outcome].to_numpy(dtype=float), d, x, tuple(names))


def propensity(arr: Arrays, treatment: str) -> tuple[np.ndarray, np.ndarray]:
    """Logistic propensity scores (clipped to [1e-3, 1 - 1e-3]) and the model's design matrix.

    The model of :func:`o4o_causal.dag.methods.propensity` (maximum likelihood, intercept
    plus the covariates).
    """
    from o4o_causal.dag.estimate import EffectSpec
    from o4o_causal.dag.methods import propensity as _propensity

    spec = EffectSpec(treatment=treatment, outcome="_unused", method="ipw", adjustment=arr.covariates)
    e, design = _propensity(arr.frame, spec)
    return np.asarray(e, dtype=float), np.asarray(design, dtype=float)

"""Set-membership data checks and the set-theoretic measures shared by the ``qca`` modules.

Formulas (Ragin 2006; Schneider & Wagemann 2012), for memberships ``x`` (a condition,
a configuration or a solution) and ``y`` (the outcome):

* consistency of sufficiency ``sum(min(x, y)) / sum(x)``
* coverage of sufficiency ``sum(min(x, y)) / sum(y)``
* PRI ``(sum(min(x, y)) - sum(min(x, y, 1 - y))) / (sum(x) - sum(min(x, y, 1 - y)))``
* consistency of necessity ``sum(min(x, y)) / sum(y)``, coverage of necessity
  ``sum(min(x, y)) / sum(x)``, relevance of necessity ``sum(1 - x) / sum(1 - min(x, y))``

An implicant is written as a string over ``"1"`` (condition present), ``"0"`` (absent)
and ``"-"`` (not part of the term), one character per condition.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from o4o_causal._validate import column_names, require_columns, require_frame, require_no_missing, require_numeric
from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError, format_error

#: Most conditions a truth table may have (2^12 = 4096 rows; minimisation is exact).
MAX_CONDITIONS = 12

FloatArray = np.ndarray

#: Tolerance of cut-off comparisons (R's QCA compares with ``agteb``: ``>=`` up to float
#: error), so that a consistency of ``0.7999999999999999`` (``1.6 / 2.0``) meets ``0.8``.
CUT_TOLERANCE = 1e-10


def real_number(value: object) -> float | None:
    """Return ``value`` as a float if it is a real number (not a bool), else ``None``.

    NumPy floats narrower than float64 (``np.float32(0.8)``) are converted through their
    shortest decimal form, so ``0.8`` stays ``0.8`` rather than ``0.800000011920929``.
    """
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, np.floating):
        return float(str(value)) if value.dtype.itemsize < 8 else float(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return None


def meets(values: FloatArray, cut: float) -> FloatArray:
    """Return ``values >= cut`` up to :data:`CUT_TOLERANCE` (NaN never meets)."""
    return np.asarray(values >= cut - CUT_TOLERANCE)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den > 0 else float("nan")


def sufficiency_consistency(x: FloatArray, y: FloatArray) -> float:
    """Return the consistency of ``x`` as sufficient for ``y``: ``sum(min(x, y)) / sum(x)``."""
    return _ratio(float(np.minimum(x, y).sum()), float(np.sum(x)))


def sufficiency_coverage(x: FloatArray, y: FloatArray) -> float:
    """Return the coverage of ``y`` by ``x``: ``sum(min(x, y)) / sum(y)``."""
    return _ratio(float(np.minimum(x, y).sum()), float(np.sum(y)))


def pri(x: FloatArray, y: FloatArray) -> float:
    """Return the proportional reduction in inconsistency of ``x`` for ``y`` (vs ``~y``)."""
    both = float(np.minimum(np.minimum(x, y), 1.0 - y).sum())
    return _ratio(float(np.minimum(x, y).sum()) - both, float(np.sum(x)) - both)


def relevance_of_necessity(x: FloatArray, y: FloatArray) -> float:
    """Return the relevance of ``x`` as necessary for ``y``: ``sum(1 - x) / sum(1 - min(x, y))``."""
    return _ratio(float(np.sum(1.0 - x)), float(np.sum(1.0 - np.minimum(x, y))))


def implicant_membership(implicant: str, x: FloatArray) -> FloatArray:
    """Return each case's membership in ``implicant`` (min over its literals; 1 for the empty term).

    Parameters
    ----------
    implicant
        One character per condition (``"1"``, ``"0"``, ``"-"``).
    x
        Memberships, cases x conditions.
    """
    out = np.ones(x.shape[0])
    for j, ch in enumerate(implicant):
        if ch == "1":
            out = np.minimum(out, x[:, j])
        elif ch == "0":
            out = np.minimum(out, 1.0 - x[:, j])
    return out


def literal_label(name: str, value: str) -> str:
    """Return ``name`` or ``~name`` (standard QCA notation)."""
    return name if value == "1" else f"~{name}"


def term_label(implicant: str, conditions: Sequence[str]) -> str:
    """Return an implicant in standard notation (``EARLY*~HEALTH``; ``1`` for the empty term)."""
    parts = [literal_label(c, v) for c, v in zip(conditions, implicant, strict=True) if v != "-"]
    return "*".join(parts) if parts else "1"


def term_sort_key(implicant: str) -> tuple[int, ...]:
    """Order terms by number of literals, then condition order (presence before absence)."""
    return (len(implicant) - implicant.count("-"), *({"1": 0, "0": 1, "-": 2}[v] for v in implicant))


def prepare_sets(
    data: object, *, outcome: str, conditions: Sequence[str] | str, what: str = "data"
) -> tuple[pd.DataFrame, list[str], FloatArray, FloatArray]:
    """Validate membership data and return ``(frame, conditions, x, y)`` as float copies.

    Checks: a non-empty DataFrame; outcome a single name not among the conditions; at
    least one and at most :data:`MAX_CONDITIONS` conditions; columns present, numeric,
    without missing values, within [0, 1]; no constant column (error); a condition or
    outcome with every case on one side of 0.5 (a skewed set) is warned about.
    """
    frame = require_frame(data, what)
    if not isinstance(outcome, str):
        raise SpecificationError(
            format_error(what="outcome", expected="one column name (str)", found=repr(outcome), fix="pass a name")
        )
    conds = column_names(conditions, "conditions")
    if not conds:
        raise SpecificationError(
            format_error(what="conditions", expected="at least one column name", found="none", fix="name conditions")
        )
    if outcome in conds:
        raise SpecificationError(
            format_error(
                what="conditions",
                expected="conditions distinct from the outcome",
                found=f"the outcome {outcome!r} also listed as a condition",
                fix=f"remove {outcome!r} from conditions",
            )
        )
    if len(conds) > MAX_CONDITIONS:
        raise SpecificationError(
            format_error(
                what="conditions",
                expected=f"at most {MAX_CONDITIONS} conditions (2^{MAX_CONDITIONS} truth-table rows)",
                found=f"{len(conds)}",
                fix="select conditions by theory (QCA with many conditions has extreme limited diversity)",
            )
        )
    columns = [*conds, outcome]
    require_columns(frame, columns, what)
    require_numeric(frame, columns, "set membership", note="memberships in [0, 1]; calibrate raw values first")
    require_no_missing(frame, columns, what)
    values = frame[columns].to_numpy(dtype=float, copy=True)
    for j, col in enumerate(columns):
        v = values[:, j]
        bad = ~np.isfinite(v) | (v < 0.0) | (v > 1.0)
        if bad.any():
            shown = ", ".join(f"{b:.4g}" for b in v[bad][:3])
            raise DataError(
                format_error(
                    what=f"set membership column {col!r} of {what}",
                    expected="memberships in [0, 1]",
                    found=f"{int(bad.sum())} value(s) outside, e.g. {shown}",
                    fix="calibrate raw values first (o4o_causal.qca.calibrate)",
                )
            )
        if np.ptp(v) == 0.0:
            raise DataError(
                format_error(
                    what=f"set membership column {col!r} of {what}",
                    expected="memberships that vary across cases",
                    found=f"the constant {v[0]:.4g}",
                    fix="drop the column: a constant set cannot distinguish configurations "
                    "(it is trivially necessary or irrelevant)",
                )
            )
        if (v > 0.5).all() or (v < 0.5).all():
            side = "above" if (v > 0.5).all() else "below"
            warnings.warn(
                format_error(
                    what=f"set membership column {col!r} of {what}",
                    expected="cases on both sides of the 0.5 crossover",
                    found=f"every case {side} 0.5 (a skewed set)",
                    fix="check the calibration anchors; skewed sets give trivially high consistency/coverage",
                ),
                O4OWarning,
                stacklevel=3,
            )
    return frame, conds, values[:, :-1], values[:, -1]


def check_negate(negate: object, what: str) -> bool:
    """Return ``negate`` as a bool or raise :class:`SpecificationError`."""
    if not isinstance(negate, bool | np.bool_):
        raise SpecificationError(
            format_error(what=what, expected="True or False", found=repr(negate), fix="pass a bool")
        )
    return bool(negate)

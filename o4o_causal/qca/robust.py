"""Robustness of a QCA solution to calibration anchors and truth-table cut-offs.

A simplified version of Oana & Schneider's (2021) robustness test protocol (R
``SetMethods::rob.fit``): the *initial solution* (IS) uses the baseline calibration, the
first ``incl_cuts`` and the first ``n_cuts``; every other combination of calibration
variant x ``incl_cut`` x ``n_cut`` is a *test set* (TS). The table lists each variant's
solution (all models), its consistency and coverage, whether it equals the IS, and
whether each *core term* survives -- a term of the IS's parsimonious solution (its core
conditions) survives when the variant's first model has a term containing all its literals.

Robustness fit parameters (first models; memberships of each variant on its own
calibration, outcome and consistency on the initial calibration):

* robust core ``RC = min(IS, TS_1, ..., TS_m)``, ``TS_min = min(TS_1, ..., TS_m)``,
  ``TS_max = max(TS_1, ..., TS_m)`` (test sets only);
* ``rf_cons = consistency(IS) / consistency(RC)``, ``rf_cov = coverage(RC) / coverage(IS)``;
* ``rf_sc_min = sum(min(IS, TS_min)) / sum(max(IS, TS_min))`` (SetMethods' ``RF_SC_minTS``),
  ``rf_sc_max = sum(min(IS, TS_max)) / sum(max(IS, TS_max))`` (``RF_SC_maxTS``).

Variants whose truth table has no positive row have no solution: they are listed with
an empty expression, left out of the fit parameters, and reported in a warning.

Values near 1 mean that the conclusions do not hinge on the analytic choices. The
case-oriented part of the protocol (typical/deviant cases per variant) is not included.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from o4o_causal._validate import column_names, require_frame
from o4o_causal.exceptions import O4OWarning, SpecificationError, format_error
from o4o_causal.qca._boolean import subsumes
from o4o_causal.qca._sets import real_number, sufficiency_consistency, sufficiency_coverage, term_label
from o4o_causal.qca.calibration import calibrate
from o4o_causal.qca.minimisation import NoPositiveRowsError, Remainders, minimize
from o4o_causal.qca.solution import Solution, model_membership
from o4o_causal.qca.truthtable import truth_table

Anchors = Mapping[str, Sequence[float]]


@dataclass(frozen=True, repr=False)
class Robustness:
    """Solutions across calibration and cut-off variants (see the module docstring).

    Attributes
    ----------
    table
        One row per variant: ``variant, calibration, incl_cut, n_cut, initial, expression,
        n_models, consistency, coverage, same_as_initial`` and one boolean column per core
        term (``core: EARLY*COLLAB``).
    initial
        The initial solution.
    core_terms
        Terms of the initial parsimonious solution (first model).
    fit
        ``rf_cons, rf_cov, rf_sc_min, rf_sc_max`` (NaN without test sets).
    robust_core
        Case membership in the robust core.
    """

    table: pd.DataFrame
    initial: Solution = field(repr=False)
    core_terms: tuple[str, ...]
    fit: Mapping[str, float]
    robust_core: pd.Series = field(repr=False)

    @property
    def share_identical(self) -> float:
        """Share of test sets whose solution equals the initial one."""
        tests = self.table[~self.table["initial"]]
        return float(tests["same_as_initial"].mean()) if len(tests) else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """Return the robustness table (a copy)."""
        return self.table.copy()

    def summary(self) -> pd.DataFrame:
        """Return the robustness table (suite convention)."""
        return self.to_frame()

    def __repr__(self) -> str:
        fit = ", ".join(f"{k} {v:.3f}" for k, v in self.fit.items())
        head = (
            f"Robustness(initial {self.initial.kind} solution {self.initial.expression}; "
            f"{len(self.table) - 1} test set(s), {self.share_identical:.0%} identical; {fit})"
        )
        shown = self.table.drop(columns=["initial"])
        with pd.option_context("display.width", 160, "display.max_columns", 30, "display.max_colwidth", 60):
            return f"{head}\n{shown.to_string(index=False, float_format=lambda v: f'{v:.3f}')}"


def _calibrated(data: pd.DataFrame, anchors: Anchors, allowed: list[str], label: str) -> pd.DataFrame:
    unknown = [c for c in anchors if c not in allowed]
    if unknown:
        raise SpecificationError(
            format_error(
                what=f"calibration {label!r}",
                expected=f"columns among the outcome and conditions {allowed}",
                found=f"{unknown}",
                fix="name only analysed columns",
            )
        )
    out = data.copy()
    for col, th in anchors.items():
        if col not in out.columns:
            raise SpecificationError(
                format_error(
                    what=f"calibration {label!r}",
                    expected=f"column {col!r} in data",
                    found="missing",
                    fix="check the column name",
                )
            )
        out[col] = calibrate(out[col], thresholds=th)
    return out


def robustness(
    data: pd.DataFrame,
    *,
    outcome: str,
    conditions: Sequence[str],
    calibration: Anchors | None = None,
    calibrations: Mapping[str, Anchors] | None = None,
    incl_cuts: Sequence[float] = (0.8,),
    n_cuts: Sequence[int] = (1,),
    pri_cut: float | None = None,
    remainders: Remainders = "include",
    directional: Mapping[str, int | str] | None = None,
    negate_outcome: bool = False,
) -> Robustness:
    """Re-run the analysis over alternative calibrations and cut-offs and tabulate the solutions.

    Parameters
    ----------
    data
        Cases with raw values for calibrated columns (``calibration``) and memberships for
        the others.
    outcome, conditions
        As in :func:`~o4o_causal.qca.truthtable`.
    calibration
        Baseline direct-method anchors, column -> ``(exclusion, crossover, inclusion)``;
        ``None``: the columns are memberships already.
    calibrations
        Alternative anchors by label, each overriding some baseline columns, e.g.
        ``{"stricter EARLY": {"early_score": (2, 6, 9)}}``.
    incl_cuts, n_cuts
        Consistency and frequency cut-offs; the first of each is the initial choice.
    pri_cut
        PRI cut-off for every variant.
    remainders, directional
        Which solution to compare (default parsimonious), as in :func:`~o4o_causal.qca.minimisation`.
    negate_outcome
        Analyse ``~outcome``.

    Returns
    -------
    Robustness
        Warnings raised by the variants' truth tables are issued once each.
    """
    frame = require_frame(data)
    conds = column_names(conditions, "conditions")
    incl_raw = [real_number(v) for v in incl_cuts]
    bad_incl = [v for v, f in zip(incl_cuts, incl_raw, strict=True) if f is None]
    bad_n = [v for v in n_cuts if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1]
    if bad_incl or bad_n:
        raise SpecificationError(
            format_error(
                what="incl_cuts/n_cuts",
                expected="numbers for incl_cuts and integers >= 1 for n_cuts",
                found=f"{bad_incl or bad_n}",
                fix="pass e.g. incl_cuts=[0.8, 0.75], n_cuts=[1, 2]",
            )
        )
    incl = [float(v) for v in incl_raw if v is not None]
    ncut = [int(v) for v in n_cuts]
    if not incl or not ncut:
        raise SpecificationError(
            format_error(
                what="incl_cuts/n_cuts",
                expected="at least one value each",
                found="an empty list",
                fix="pass e.g. incl_cuts=[0.8, 0.75]",
            )
        )
    allowed = [*conds, outcome]
    base = dict(calibration or {})
    variants: dict[str, pd.DataFrame] = {"baseline": _calibrated(frame, base, allowed, "baseline")}
    for label, anchors in (calibrations or {}).items():
        if label in variants:
            raise SpecificationError(
                format_error(
                    what="calibrations", expected="labels other than 'baseline'", found=repr(label), fix="rename it"
                )
            )
        variants[label] = _calibrated(frame, {**base, **anchors}, allowed, label)

    def run(cal: str, ic: float, nc: int) -> Solution | None:
        tt = truth_table(
            variants[cal],
            outcome=outcome,
            conditions=conds,
            n_cut=nc,
            incl_cut=ic,
            pri_cut=pri_cut,
            negate_outcome=negate_outcome,
        )
        try:
            return minimize(tt, remainders=remainders, directional=directional)
        except NoPositiveRowsError:
            return None

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        initial = run("baseline", incl[0], ncut[0])
        if initial is None:
            raise SpecificationError(
                format_error(
                    what="initial solution",
                    expected="at least one positive truth-table row",
                    found=f"none at incl_cut={incl[0]:g}, n_cut={ncut[0]}",
                    fix="revisit the baseline calibration or cut-offs",
                )
            )
        initial_tt = initial.truth_table
        pars = initial if initial.kind == "parsimonious" else minimize(initial_tt, remainders="include")
        core = pars.models[0].implicants
        results: list[tuple[str, float, int, Solution | None]] = [("baseline", incl[0], ncut[0], initial)]
        for cal, ic, nc in itertools.product(variants, incl, ncut):
            if (cal, ic, nc) != ("baseline", incl[0], ncut[0]):
                results.append((cal, ic, nc, run(cal, ic, nc)))
    seen: set[str] = set()
    for w in caught:
        if str(w.message) not in seen:
            seen.add(str(w.message))
            warnings.warn(w.message, w.category, stacklevel=2)

    conditions_t = initial.conditions
    y = initial_tt.y
    rows = []
    memberships: list[np.ndarray] = []
    for i, (cal, ic, nc, sol) in enumerate(results):
        row: dict[str, object] = {
            "variant": f"{cal}, incl_cut={ic:g}, n_cut={nc}",
            "calibration": cal,
            "incl_cut": ic,
            "n_cut": nc,
            "initial": i == 0,
        }
        if sol is None:
            row.update(expression=None, n_models=0, consistency=np.nan, coverage=np.nan, same_as_initial=False)
            row.update({f"core: {term_label(c, conditions_t)}": False for c in core})
        else:
            m = model_membership(sol.models[0].implicants, sol.truth_table.x)
            memberships.append(m)
            row.update(
                expression=" | ".join(sol.expressions),
                n_models=len(sol.models),
                consistency=sol.consistency,
                coverage=sol.coverage,
                same_as_initial=set(sol.expressions) == set(initial.expressions),
            )
            first = sol.models[0].implicants
            row.update({f"core: {term_label(c, conditions_t)}": any(subsumes(c, t) for t in first) for c in core})
        rows.append(row)
    table = pd.DataFrame(rows)
    failed = [str(r["variant"]) for r in rows if r["expression"] is None]
    if failed:
        warnings.warn(
            format_error(
                what="robustness test sets",
                expected="a solution for every variant",
                found=f"{len(failed)} without a positive truth-table row ({'; '.join(failed[:3])}"
                f"{'; ...' if len(failed) > 3 else ''})",
                fix="they are left out of the fit parameters (rf_*); see the table's expression column",
            ),
            O4OWarning,
            stacklevel=2,
        )
    is_m = memberships[0]
    if len(memberships) > 1:
        rc = np.minimum.reduce(memberships)
        ts_min = np.minimum.reduce(memberships[1:])
        ts_max = np.maximum.reduce(memberships[1:])
        fit = {
            "rf_cons": sufficiency_consistency(is_m, y) / sufficiency_consistency(rc, y),
            "rf_cov": sufficiency_coverage(rc, y) / sufficiency_coverage(is_m, y),
            "rf_sc_min": float(np.minimum(is_m, ts_min).sum() / np.maximum(is_m, ts_min).sum()),
            "rf_sc_max": float(np.minimum(is_m, ts_max).sum() / np.maximum(is_m, ts_max).sum()),
        }
    else:
        rc = is_m
        fit = dict.fromkeys(("rf_cons", "rf_cov", "rf_sc_min", "rf_sc_max"), float("nan"))
    return Robustness(
        table=table,
        initial=initial,
        core_terms=tuple(term_label(c, conditions_t) for c in core),
        fit=fit,
        robust_core=pd.Series(rc, index=pd.Index(initial_tt.case_labels, name="case"), name="robust_core"),
    )


__all__ = ["Robustness", "robustness"]

"""Refutation checks of a DAG estimate: one tidy table, every check re-fits everything.

Checks (:data:`CHECKS`):

* ``placebo`` -- the treatment is replaced by a random permutation and the effect is
  re-estimated (propensity and outcome models re-fitted: unlike DoWhy 0.14's placebo
  refuter, no propensity score is reused). With ``spec.cluster`` set, the cluster
  structure of the treatment is kept: each cluster receives the treated share of a
  randomly chosen cluster (a permutation of clusters), and its treated units are drawn
  at random within it. Permuting only within clusters would leave the placebo correlated
  with the cluster's real treatment share, which carries the real effect and any
  cluster-level confounding into the placebo unless fixed effects absorb them.
  Passed when the mean placebo effect is compatible with zero (t-test over the draws,
  ``p >= placebo_p_min``).
* ``random_common_cause`` -- an independent standard-normal column is added to the
  adjustment set; passed when the mean absolute change is at most
  ``max_shift_se`` analytic standard errors.
* ``subset`` -- re-estimation on random subsets of ``subset_fraction`` of the units
  (of the clusters, whole clusters, when ``spec.cluster`` is set); passed when the mean
  subset effect lies in the original interval.
* ``bootstrap`` -- (cluster) bootstrap of the whole estimator, resampled clusters
  relabelled so that duplicates count as distinct clusters and fixed-effect groups;
  bootstrap SE and percentile interval next to the analytic SE; passed when their ratio
  is within ``[1/se_ratio, se_ratio]`` (a check of the standard error).
* ``sensitivity`` -- :func:`o4o_causal.dag.sensitivity.sensitivity_analysis`: partial
  R², robustness values and E-values, judged against confounders as strong as the
  strongest observed covariate (``kd = 1``).

Each simulation draws from its own ``SeedSequence`` spawned from ``seed`` (one child
per check, then one per draw), so the table is identical for any ``n_jobs``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from o4o_causal import _validate, config
from o4o_causal.dag.estimate import EffectSpec, respec
from o4o_causal.dag.resample import Draws, Job, simulate
from o4o_causal.dag.sensitivity import SensitivityResult, sensitivity_analysis
from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.results import Estimate

if TYPE_CHECKING:
    from o4o_causal.dag.graph import CausalDAG

CHECKS: tuple[str, ...] = ("placebo", "random_common_cause", "subset", "bootstrap", "sensitivity")
SIMULATED: tuple[str, ...] = ("placebo", "random_common_cause", "subset", "bootstrap")
COLUMNS: tuple[str, ...] = (
    "check",
    "estimate",
    "new_effect",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "statistic",
    "threshold",
    "n_simulations",
    "passed",
    "detail",
)


@dataclass(frozen=True)
class RefuteDefaults:
    """Simulation sizes and pass thresholds of :func:`refute` (the one place they live)."""

    n_simulations: Mapping[str, int]
    placebo_p_min: float = 0.01
    max_shift_se: float = 0.5
    se_ratio: float = 1.5
    sensitivity_kd: float = 1.0


DEFAULTS = RefuteDefaults(
    n_simulations=MappingProxyType({"placebo": 20, "random_common_cause": 20, "subset": 10, "bootstrap": 50})
)


# ------------------------------------------------------------------------ table rows
def _row(check: str, estimate: Estimate, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS, math.nan)
    row.update(check=check, estimate=estimate.value, n_simulations=0, passed=False, detail="")
    row.update(values)
    return row


def _placebo_row(est: Estimate, d: Draws, job: Job, opts: RefuteDefaults) -> dict[str, Any]:
    k, base = d.values.size, d.base(est.ci_level)
    t = base["new_effect"] / (base["se"] / math.sqrt(k)) if k > 1 and base["se"] > 0 else math.nan
    p = float(2.0 * stats.t.sf(abs(t), k - 1)) if k > 1 else math.nan
    extreme = float(np.mean(np.abs(d.values) >= abs(est.value))) if k else math.nan
    scheme = "cluster shares permuted" if job.codes is not None else "permuted"
    detail = (
        f"mean placebo effect {base['new_effect']:.3g} (sd {base['se']:.3g}, treatment {scheme}) vs {est.value:.3g};"
        f" {extreme:.0%} of draws as extreme as the estimate{d.failed()}"
    )
    threshold = float(stats.t.ppf(1.0 - opts.placebo_p_min / 2.0, k - 1)) if k > 1 else math.nan
    passed = bool(p >= opts.placebo_p_min)
    return _row("placebo", est, **base, p_value=p, statistic=abs(t), threshold=threshold, passed=passed, detail=detail)


def _rcc_row(est: Estimate, d: Draws, job: Job, opts: RefuteDefaults) -> dict[str, Any]:
    shift = np.abs(d.values - est.value) / est.se if est.se > 0 else np.full(d.values.size, np.nan)
    stat = float(shift.mean()) if shift.size else math.nan
    detail = f"mean |change| {stat:.3g} SE, max {np.max(shift, initial=0.0):.3g} SE{d.failed()}"
    passed = bool(stat <= opts.max_shift_se)
    base = d.base(est.ci_level)
    return _row(
        "random_common_cause", est, **base, statistic=stat, threshold=opts.max_shift_se, passed=passed, detail=detail
    )


def _subset_row(est: Estimate, d: Draws, job: Job, opts: RefuteDefaults) -> dict[str, Any]:
    base = d.base(est.ci_level)
    half = (est.ci_high - est.ci_low) / 2.0
    stat = abs(base["new_effect"] - est.value) / half if half > 0 else math.nan
    units = "clusters" if job.codes is not None else "rows"
    detail = (
        f"mean over subsets of {job.fraction:.0%} of the {units}; CI [{est.ci_low:.3g}, {est.ci_high:.3g}]{d.failed()}"
    )
    passed = bool(est.ci_low <= base["new_effect"] <= est.ci_high)
    return _row("subset", est, **base, statistic=stat, threshold=1.0, passed=passed, detail=detail)


def _bootstrap_row(est: Estimate, d: Draws, job: Job, opts: RefuteDefaults) -> dict[str, Any]:
    base = d.base(est.ci_level)
    ratio = base["se"] / est.se if est.se > 0 else math.nan
    kind = "cluster" if job.codes is not None else "row"
    detail = f"{kind} bootstrap SE {base['se']:.3g} vs analytic SE {est.se:.3g} (ratio {ratio:.2f}){d.failed()}"
    passed = bool(1.0 / opts.se_ratio <= ratio <= opts.se_ratio)
    return _row("bootstrap", est, **base, statistic=ratio, threshold=opts.se_ratio, passed=passed, detail=detail)


_SUMMARIES: dict[str, Callable[[Estimate, Draws, Job, RefuteDefaults], dict[str, Any]]] = {
    "placebo": _placebo_row,
    "random_common_cause": _rcc_row,
    "subset": _subset_row,
    "bootstrap": _bootstrap_row,
}


@dataclass(frozen=True)
class _Verdict:
    """The sensitivity result judged against confounders ``kd`` times the strongest benchmark."""

    worst: dict[str, Any]  # bound with the adjusted estimate closest to (or beyond) zero
    worst_ci: dict[str, Any]  # bound with the adjusted interval closest to zero
    keeps_sign: bool
    excludes_zero: bool
    threshold: float  # largest R2_dz.x of the bounds
    extreme: bool  # partial R2 of treatment with outcome above that


def _verdict(res: SensitivityResult) -> _Verdict:
    sign = 1.0 if res.estimate >= 0 else -1.0
    b = res.bounds.dropna(subset=["adjusted_estimate"]).reset_index(drop=True)
    if b.empty:  # nothing to benchmark against: judge by significance only
        none = {"bound_label": "no benchmark covariate"}
        return _Verdict(none, none, res.rv_qa > 0, res.rv_qa > 0, math.nan, res.rv_qa > 0)
    worst = {str(k): x for k, x in b.iloc[int(np.argmin(sign * b["adjusted_estimate"].to_numpy(dtype=float)))].items()}
    near = (b["adjusted_ci_low"] if sign > 0 else -b["adjusted_ci_high"]).to_numpy(dtype=float)
    worst_ci = {str(k): x for k, x in b.iloc[int(np.argmin(near))].items()}
    threshold = float(b["r2dz_x"].max())
    return _Verdict(
        worst=worst,
        worst_ci=worst_ci,
        keeps_sign=bool(sign * worst["adjusted_estimate"] > 0),
        excludes_zero=bool(sign * worst_ci["adjusted_ci_low"] > 0 and sign * worst_ci["adjusted_ci_high"] > 0),
        threshold=threshold,
        extreme=bool(res.r2yd_x > threshold),
    )


def _adjusted(bound: dict[str, Any]) -> dict[str, float]:
    keys = {"new_effect": "adjusted_estimate", "ci_low": "adjusted_ci_low", "ci_high": "adjusted_ci_high"}
    return {k: float(bound.get(v, math.nan)) for k, v in keys.items()}


def _sensitivity_rows(frame: pd.DataFrame, est: Estimate, opts: RefuteDefaults) -> list[dict[str, Any]]:
    res = sensitivity_analysis(frame, est, kd=(opts.sensitivity_kd,))
    v = _verdict(res)
    ols = f"OLS estimate {res.estimate:.3g}"
    r2_detail = (
        f"a confounder explaining all residual outcome variance needs partial R2 {res.r2yd_x:.3g} with treatment"
    )
    rows = [
        _row(
            "sensitivity: partial R2",
            est,
            statistic=res.r2yd_x,
            threshold=v.threshold,
            passed=v.extreme,
            detail=f"{r2_detail}; {opts.sensitivity_kd:g}x strongest benchmark: {v.threshold:.3g}",
        ),
        _row(
            "sensitivity: robustness value",
            est,
            **_adjusted(v.worst),
            statistic=res.rv_q,
            passed=v.keeps_sign,
            detail=f"{ols}; a confounder with partial R2 {res.rv_q:.3g} with treatment and outcome explains it "
            f"away; new_effect adjusted for {v.worst['bound_label']}",
        ),
        _row(
            f"sensitivity: robustness value (alpha={res.alpha:g})",
            est,
            **_adjusted(v.worst_ci),
            statistic=res.rv_qa,
            passed=v.excludes_zero,
            detail=f"{ols}; insignificant with a confounder of partial R2 {res.rv_qa:.3g}; interval adjusted for "
            f"{v.worst_ci['bound_label']}",
        ),
    ]
    ev = res.evalue
    for which, value, rr in (("point", ev.point, ev.rr), ("interval", ev.ci, ev.rr_ci)):
        detail = f"{ev.outcome_type} outcome, risk ratio {rr:.3g}; explained away by risk ratios {value:.3g}"
        rows.append(
            _row(
                f"sensitivity: E-value ({which})",
                est,
                statistic=value,
                threshold=1.0,
                passed=bool(ev.ci > 1.0),
                detail=f"{detail} (confounder with treatment and with outcome)",
            )
        )
    return rows


# ----------------------------------------------------------------------------- refute
def _selected(checks: Sequence[str]) -> tuple[str, ...]:
    names = (checks,) if isinstance(checks, str) else tuple(checks)
    unknown = [c for c in names if c not in CHECKS]
    if unknown or not names:
        raise SpecificationError(
            format_error(
                what=f"checks {unknown or list(names)}",
                expected=f"names among {list(CHECKS)}",
                found="unknown check name(s)" if unknown else "no check",
                fix="choose checks from the valid names",
            )
        )
    return tuple(dict.fromkeys(names))


def _sizes(n_simulations: int | Mapping[str, int] | None, checks: tuple[str, ...]) -> dict[str, int]:
    sizes = dict(DEFAULTS.n_simulations)
    if isinstance(n_simulations, int):
        sizes = dict.fromkeys(SIMULATED, n_simulations)
    elif n_simulations is not None:
        sizes.update(n_simulations)
    bad = {c: sizes[c] for c in checks if c in SIMULATED and not (isinstance(sizes[c], int) and sizes[c] >= 2)}
    if bad or (isinstance(n_simulations, Mapping) and set(n_simulations) - set(SIMULATED)):
        raise SpecificationError(
            format_error(
                what="n_simulations",
                expected=f"an integer >= 2, or {{check: integer >= 2}} for checks among {list(SIMULATED)}",
                found=repr(n_simulations),
                fix="pass e.g. n_simulations=20",
            )
        )
    return sizes


def _working_frame(data: pd.DataFrame, spec: EffectSpec) -> pd.DataFrame:
    """Return a copy of the columns the estimator uses (the caller's frame is never touched)."""
    frame = _validate.require_frame(data)
    columns = [spec.treatment, spec.outcome, *spec.adjustment, spec.cluster, spec.fixed_effects]
    needed = list(dict.fromkeys(c for c in columns if c))
    _validate.require_columns(frame, needed)
    _validate.require_no_missing(frame, needed)
    return frame[needed].reset_index(drop=True).copy()


def _new_column(frame: pd.DataFrame) -> str:
    name = "_random_common_cause"
    while name in frame.columns:
        name += "_"
    return name


def refute(
    data: pd.DataFrame,
    dag: CausalDAG,
    estimate: Estimate,
    *,
    checks: Sequence[str] = CHECKS,
    n_simulations: int | Mapping[str, int] | None = None,
    subset_fraction: float = 0.8,
    seed: int = 0,
    n_jobs: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run refutation checks of a DAG estimate and return one tidy table.

    Parameters
    ----------
    data
        The data the estimate was computed on (not modified).
    dag
        The DAG of the estimate (its observed nodes are checked against ``data``).
    estimate
        A :class:`~o4o_causal.dag.estimate.DagEstimate`; every check re-estimates with
        its spec (:func:`~o4o_causal.dag.estimate.estimate_with_spec`).
    checks
        Among :data:`CHECKS` (see the module docstring for what each does and when it passes).
    n_simulations
        Draws per simulated check: one integer for all, or ``{check: n}``; default
        :data:`DEFAULTS` (placebo 20, random common cause 20, subset 10, bootstrap 50).
    subset_fraction
        Share of rows (of clusters, when the spec has a cluster) in each subset.
    seed
        Root of every draw (one spawned ``SeedSequence`` per check and per draw).
    n_jobs
        Parallel workers (joblib); default :func:`o4o_causal.config.threads`. Results do
        not depend on it.
    progress
        Show a tqdm progress bar per simulated check.

    Returns
    -------
    DataFrame
        One row per check (several for sensitivity) with :data:`COLUMNS`: ``estimate``
        (the original value), ``new_effect`` (mean over draws, or the bias-adjusted
        estimate), ``se`` (sd of the draws: the bootstrap SE), ``ci_low``/``ci_high``
        (percentile interval of the draws at the estimate's level, or the adjusted
        interval), ``p_value`` (placebo: mean placebo effect = 0), ``statistic`` and
        ``threshold`` (what ``passed`` compares), ``n_simulations`` (successful draws),
        ``passed`` and ``detail``.

    Raises
    ------
    SpecificationError
        Unknown check names, bad simulation sizes or fraction, or an estimate without spec.
    """
    spec = respec(estimate)
    selected = _selected(checks)
    sizes = _sizes(n_simulations, selected)
    if not 0.0 < subset_fraction < 1.0:
        raise SpecificationError(
            format_error(
                what="subset_fraction", expected="a share in (0, 1)", found=repr(subset_fraction), fix="use 0.8"
            )
        )
    dag.validate(data)
    frame = _working_frame(data, spec)
    codes = pd.factorize(frame[spec.cluster])[0] if spec.cluster else None
    workers = config.threads() if n_jobs is None else n_jobs
    roots = np.random.SeedSequence(seed).spawn(len(CHECKS))
    rows: list[dict[str, Any]] = []
    for check in selected:
        if check == "sensitivity":
            rows += _sensitivity_rows(frame, estimate, DEFAULTS)
            continue
        job_spec = spec
        if check == "random_common_cause":
            job_spec = respec(estimate, adjustment=(*spec.adjustment, _new_column(frame)))
        job = Job(frame=frame, spec=job_spec, codes=codes, fraction=subset_fraction)
        draws = simulate(check, job, roots[CHECKS.index(check)].spawn(sizes[check]), workers, progress)
        rows.append(_SUMMARIES[check](estimate, Draws.of(draws), job, DEFAULTS))
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return table.astype({"n_simulations": "int64", "passed": "bool"})


__all__ = ["CHECKS", "COLUMNS", "DEFAULTS", "RefuteDefaults", "refute"]

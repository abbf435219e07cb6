"""Sensitivity of a DAG estimate to unobserved confounding.

:func:`sensitivity_analysis` combines two tools:

* the omitted-variable-bias analysis of Cinelli & Hazlett (2020) (formulas in
  :mod:`o4o_causal.dag.ovb`, conventions of the R package ``sensemakr``) for the linear
  model ``outcome ~ treatment + adjustment``, with municipality fixed effects absorbed by
  demeaning when the estimate used them: partial R² of the treatment with the outcome,
  robustness values ``RV_q`` and ``RV_{q,alpha}``, and bounds on confounders ``kd``
  times as strong as observed benchmark covariates, with bias-adjusted estimates;
* E-values (VanderWeele & Ding 2017, :mod:`o4o_causal.dag.evalue`) of the estimate itself.

The OLS is the linear approximation of the adjustment whatever the method of the
estimate; its classical (not cluster-robust) t-statistic enters the formulas, as in the
paper.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from o4o_causal import _validate
from o4o_causal.dag.estimate import EffectSpec, encode_categories, respec
from o4o_causal.dag.evalue import EValue, e_value, e_value_rr
from o4o_causal.dag.ovb import (
    FloatArray,
    Numeric,
    _check_dof,
    adjusted_ci,
    adjusted_estimate,
    adjusted_se,
    benchmark_bounds,
    bias,
    partial_r2,
    robustness_value,
)
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.results import Estimate


# ------------------------------------------------------------------- linear model fit
@dataclass(frozen=True)
class _Linear:
    estimate: float
    se: float
    t: float
    dof: int
    r2d: dict[str, float]  # benchmark -> partial R2 with the treatment given the other covariates
    r2y: dict[str, float]  # benchmark -> partial R2 with the outcome given treatment and covariates


def _group_r2(fit: object, idx: list[int]) -> float:
    params = np.asarray(fit.params)[idx]  # type: ignore[attr-defined]
    cov = np.asarray(fit.cov_params())[np.ix_(idx, idx)]  # type: ignore[attr-defined]
    wald = float(params @ np.linalg.solve(cov, params))
    return wald / (wald + float(fit.df_resid))  # type: ignore[attr-defined]


def _design(frame: pd.DataFrame, spec: EffectSpec) -> tuple[FloatArray, FloatArray, FloatArray, list[str], int]:
    """Outcome, treatment, covariates (demeaned within fixed effects, else with a constant)."""
    cols = list(spec.adjustment)
    y = frame[spec.outcome].to_numpy(dtype=float)
    d = frame[spec.treatment].to_numpy(dtype=float)
    x = frame[cols].to_numpy(dtype=float) if cols else np.empty((len(frame), 0))
    keep = [j for j in range(x.shape[1]) if np.ptp(x[:, j]) > 0]
    if not spec.fixed_effects:
        const = np.ones((len(frame), 1))
        return y, d, np.column_stack([x[:, keep], const]), [cols[j] for j in keep], 0
    codes = pd.factorize(frame[spec.fixed_effects])[0]
    size = np.bincount(codes).astype(float)

    def demean(v: FloatArray) -> FloatArray:
        return np.asarray(v - (np.bincount(codes, weights=v) / size)[codes], dtype=float)

    y, d = demean(y), demean(d)
    xs = [demean(x[:, j]) for j in keep]
    within = [k for k, v in enumerate(xs) if np.var(v) > 1e-10 * max(np.var(x[:, keep[k]]), 1e-300)]
    xd = np.column_stack([xs[k] for k in within]) if within else np.empty((len(frame), 0))
    return y, d, xd, [cols[keep[k]] for k in within], int(size.size)


def _linear_fit(
    frame: pd.DataFrame, spec: EffectSpec, requested: Sequence[str] | Mapping[str, Sequence[str]] | None
) -> _Linear:
    import statsmodels.api as sm

    y, d, x, names, absorbed = _design(frame, spec)
    benchmarks = _benchmarks(names, requested)
    out = sm.OLS(y, np.column_stack([d, x])).fit()
    dof = round(out.df_resid) - absorbed
    _check_dof(dof)
    scale = math.sqrt(dof / out.df_resid)  # t with the absorbed fixed effects counted
    r2d: dict[str, float] = {}
    r2y: dict[str, float] = {}
    if benchmarks:
        treat = sm.OLS(d, x).fit()
        for label, group in benchmarks.items():
            idx = [names.index(c) for c in group]
            r2y[label] = _group_r2(out, [i + 1 for i in idx])
            r2d[label] = _group_r2(treat, idx)
    t = float(out.tvalues[0]) * scale
    return _Linear(float(out.params[0]), float(out.bse[0]) / scale, t, dof, r2d, r2y)


def _benchmarks(
    names: list[str], requested: Sequence[str] | Mapping[str, Sequence[str]] | None
) -> dict[str, list[str]]:
    if requested is None:
        groups = {c: [c] for c in names}
    elif isinstance(requested, Mapping):
        groups = {str(k): list(v) for k, v in requested.items()}
    else:
        groups = {c: [c] for c in requested}
    bad = sorted({c for g in groups.values() for c in g} - set(names))
    if bad:
        raise SpecificationError(
            format_error(
                what=f"benchmark_covariates {bad}",
                expected=f"adjustment columns of the estimate (varying within fixed effects): {names}",
                found="columns outside that set",
                fix="choose benchmarks among the adjustment columns",
            )
        )
    return groups


# ---------------------------------------------------------------------------- analysis
BOUND_COLUMNS = [
    "bound_label",
    "benchmark",
    "kd",
    "ky",
    "r2dxj_x",
    "r2yxj_dx",
    "r2dz_x",
    "r2yz_dx",
    "adjusted_estimate",
    "adjusted_se",
    "adjusted_t",
    "adjusted_ci_low",
    "adjusted_ci_high",
]


@dataclass(frozen=True, eq=False)
class SensitivityResult:
    """Sensitivity of an estimate to an unobserved confounder (see the module docstring).

    ``estimate``, ``se``, ``t`` and ``dof`` are those of the treatment coefficient in the
    linear model ``outcome ~ treatment + adjustment`` the formulas apply to; ``original``
    is the value of the analysed estimate (any method). ``bounds`` has one row per
    benchmark and strength (:data:`BOUND_COLUMNS`); NaN where the strength is impossible.
    """

    treatment: str
    outcome: str
    original: float
    estimate: float
    se: float
    t: float
    dof: int
    r2yd_x: float
    rv_q: float
    rv_qa: float
    q: float
    alpha: float
    bounds: pd.DataFrame
    evalue: EValue

    def adjusted(self, r2dz_x: Numeric, r2yz_dx: Numeric) -> FloatArray:
        """Bias-adjusted OLS estimate for hypothetical confounder strengths."""
        return adjusted_estimate(self.estimate, self.se, self.dof, r2dz_x, r2yz_dx)

    def grid(self, *, lim: float | None = None, points: int = 61) -> pd.DataFrame:
        """Return the adjusted estimate on a square grid of partial R² (data of the contour plot).

        Parameters
        ----------
        lim
            Upper end of both axes (default: 0.4, or 1.2 times the largest bound, at most 0.99).
        points
            Grid points per axis.

        Returns
        -------
        DataFrame
            ``r2dz_x`` (with treatment), ``r2yz_dx`` (with outcome), ``adjusted_estimate``.
        """
        if lim is None:
            strengths = self.bounds[["r2dz_x", "r2yz_dx"]].to_numpy(dtype=float)
            top = float(np.nanmax(strengths)) if np.isfinite(strengths).any() else 0.0
            lim = min(0.99, max(0.4, 1.2 * top))
        axis = np.linspace(0.0, lim, points)
        xx, yy = np.meshgrid(axis, axis)
        return pd.DataFrame(
            {"r2dz_x": xx.ravel(), "r2yz_dx": yy.ravel(), "adjusted_estimate": self.adjusted(xx.ravel(), yy.ravel())}
        )

    def summary(self) -> pd.DataFrame:
        """Return sensitivity statistics, E-values and the bounds' adjusted estimates (one table).

        Returns
        -------
        DataFrame
            ``statistic, value, ci_low, ci_high`` (intervals for adjusted estimates only).
        """
        nan = math.nan
        rows = [
            ("estimate (OLS)", self.estimate, nan, nan),
            ("se (OLS)", self.se, nan, nan),
            ("t (OLS)", self.t, nan, nan),
            ("dof", float(self.dof), nan, nan),
            ("partial R2 of treatment with outcome", self.r2yd_x, nan, nan),
            (f"robustness value RV (q={self.q:g})", self.rv_q, nan, nan),
            (f"robustness value RV (q={self.q:g}, alpha={self.alpha:g})", self.rv_qa, nan, nan),
            (f"E-value ({self.evalue.outcome_type}, point)", self.evalue.point, nan, nan),
            (f"E-value ({self.evalue.outcome_type}, interval)", self.evalue.ci, nan, nan),
        ]
        values = self.bounds[["adjusted_estimate", "adjusted_ci_low", "adjusted_ci_high"]].to_numpy(dtype=float)
        for label, (est, low, high) in zip(self.bounds["bound_label"].astype(str), values, strict=True):
            rows.append((f"adjusted estimate, {label}", float(est), float(low), float(high)))
        return pd.DataFrame(rows, columns=["statistic", "value", "ci_low", "ci_high"])


def _bounds_table(fit: _Linear, kd: Numeric, ky: Numeric | None, alpha: float) -> pd.DataFrame:
    kd_a = np.atleast_1d(np.asarray(kd, dtype=float))
    ky_a = kd_a if ky is None else np.broadcast_to(np.asarray(ky, dtype=float), kd_a.shape)
    strength = [f"{a:g}x" if a == b else f"{a:g}/{b:g}x" for a, b in zip(kd_a, ky_a, strict=True)]
    parts = []
    for label in fit.r2d:
        r2dz, r2yz = benchmark_bounds(fit.r2d[label], fit.r2y[label], kd_a, ky_a)
        est = adjusted_estimate(fit.estimate, fit.se, fit.dof, r2dz, r2yz)
        se = adjusted_se(fit.se, fit.dof, r2dz, r2yz)
        low, high = adjusted_ci(fit.estimate, fit.se, fit.dof, r2dz, r2yz, alpha=alpha)
        columns = [[f"{s} {label}" for s in strength], label, kd_a, ky_a, fit.r2d[label], fit.r2y[label], r2dz, r2yz]
        with np.errstate(divide="ignore", invalid="ignore"):  # se = 0 when R2_yz.dx reaches 1
            columns += [est, se, est / se, low, high]
        parts.append(pd.DataFrame(dict(zip(BOUND_COLUMNS, columns, strict=True))))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=BOUND_COLUMNS)


def _outcome_e_value(frame: pd.DataFrame, spec: EffectSpec, estimate: Estimate) -> EValue:
    """Return the E-value, with the outcome type read from the data (0/1 values: binary)."""
    y = frame[spec.outcome].to_numpy(dtype=float)
    try:
        if np.isin(y, (0.0, 1.0)).all():
            untreated = frame[spec.treatment].to_numpy() == 0
            return e_value(estimate, outcome_type="binary", baseline_risk=float(y[untreated].mean()))
        return e_value(estimate, outcome_type="continuous", sd_outcome=float(np.std(y, ddof=1)))
    except (DataError, SpecificationError):  # e.g. a risk difference outside the baseline's range
        kind = "binary" if np.isin(y, (0.0, 1.0)).all() else "continuous"
        return EValue(point=math.nan, ci=math.nan, rr=math.nan, rr_ci=math.nan, outcome_type=kind)


def sensitivity_analysis(
    data: pd.DataFrame,
    estimate: Estimate,
    *,
    benchmark_covariates: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    kd: Numeric = (1.0, 2.0, 3.0),
    ky: Numeric | None = None,
    q: float = 1.0,
    alpha: float | None = None,
) -> SensitivityResult:
    """Analyse the sensitivity of a DAG estimate to unobserved confounding (Cinelli & Hazlett; E-value).

    Parameters
    ----------
    data
        The data the estimate was computed on (not modified).
    estimate
        A :class:`~o4o_causal.dag.estimate.DagEstimate` (its spec gives the columns).
    benchmark_covariates
        Observed adjustment columns to benchmark the confounder against: names (one
        benchmark each) or ``{label: [columns]}`` for groups (dummies of one node).
        Default: every adjustment column.
    kd, ky
        Confounder strength as multiples of each benchmark's partial R² with the
        treatment (``kd``) and the outcome (``ky``, default ``kd``).
    q
        Share of the estimate a confounder should explain away (robustness value).
    alpha
        Significance level of ``RV_{q,alpha}`` and the adjusted intervals (default
        ``1 - ci_level`` of the estimate).

    Returns
    -------
    SensitivityResult
    """
    spec = respec(estimate)
    frame = _validate.require_frame(data)
    extra = [spec.fixed_effects] if spec.fixed_effects else []
    columns = [spec.treatment, spec.outcome, *spec.adjustment, *extra]
    _validate.require_columns(frame, columns)
    _validate.require_no_missing(frame, columns)
    level = 1.0 - spec.ci_level if alpha is None else alpha
    categorical = [c for c in spec.adjustment if not pd.api.types.is_numeric_dtype(frame[c])]
    frame, spec = encode_categories(frame, spec)
    if categorical and benchmark_covariates is not None and not isinstance(benchmark_covariates, Mapping):
        # a text benchmark column becomes the group of its dummies
        benchmark_covariates = {
            name: [c for c in spec.adjustment if c.startswith(f"{name}_")] if name in categorical else [name]
            for name in benchmark_covariates
        }
    fit = _linear_fit(frame, spec, benchmark_covariates)
    return SensitivityResult(
        treatment=spec.treatment,
        outcome=spec.outcome,
        original=float(estimate.value),
        estimate=fit.estimate,
        se=fit.se,
        t=fit.t,
        dof=fit.dof,
        r2yd_x=partial_r2(fit.t, fit.dof),
        rv_q=robustness_value(fit.t, fit.dof, q, alpha=None),
        rv_qa=robustness_value(fit.t, fit.dof, q, alpha=level),
        q=q,
        alpha=level,
        bounds=_bounds_table(fit, kd, ky, level),
        evalue=_outcome_e_value(frame, spec, estimate),
    )


__all__ = [
    "BOUND_COLUMNS",
    "EValue",
    "SensitivityResult",
    "adjusted_ci",
    "adjusted_estimate",
    "adjusted_se",
    "benchmark_bounds",
    "bias",
    "e_value",
    "e_value_rr",
    "partial_r2",
    "robustness_value",
    "sensitivity_analysis",
]

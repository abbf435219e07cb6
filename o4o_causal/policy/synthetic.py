"""Synthetic control with placebo-in-space inference, leave-one-out and synthetic DiD.

Synthetic control (Abadie, Diamond & Hainmueller 2010)
-------------------------------------------------------
Donor weights ``w`` on the simplex (``w >= 0``, ``sum w = 1``) minimise the squared
distance between the treated unit's predictors and the weighted donors'. Without
``covariates`` the predictors are the pre-period outcomes (every pre period). With
``covariates``, the pre-period means of those columns are added; every predictor is
divided by its standard deviation across the pool, and ``V`` is diagonal and fixed
(deterministic; no nested optimisation of ``V``, whose non-convex search is not
reproducible): by default the outcome block and each covariate get equal total weight
(each pre-period outcome ``1/T0`` of the outcome block's), or weights from ``v``, a
mapping ``{"outcome": ..., "<covariate>": ...}``. Weights are the exact minimiser
(active-set QP in :mod:`o4o_causal.policy._simplex`, fixed start): same input, same
weights.

Outputs: the gap ``Y_treated - Y_synthetic`` per period, the ATT (mean post-period gap),
the pre- and post-period root mean squared prediction errors (RMSPE) and their ratio.

Inference (placebo in space)
----------------------------
Each donor in turn is treated as if treated (its donor pool: the other donors, never
the treated unit -- the usual convention, as in Abadie et al. 2010 and SCtools, so the
treated unit's post-period path never enters a placebo's synthetic control), refitted,
and its post/pre RMSPE ratio computed. The p-value is the treated unit's rank among all
units: ``(1 + #{placebos with ratio >= treated ratio}) / (1 + #placebos)``; the smallest
attainable p-value is ``1/(1 + #donors)`` (0.1 with the nine comparison cities of the
Bergen study). With ``exclude_pre_mspe=c`` placebos whose pre-period *mean squared*
prediction error (MSPE = RMSPE squared) exceeds ``c`` times the treated unit's are
excluded -- the scale of Abadie et al. (2010), who used 20, 5 and 2 times the treated
unit's pre-MSPE (``c`` times the MSPE is ``sqrt(c)`` times the RMSPE): a placebo that
cannot be reproduced before treatment says nothing about the post period.

Robustness
----------
Leave-one-out: the fit repeated without each donor with positive weight (``> 1e-6``).
Synthetic difference-in-differences (:func:`~o4o_causal.policy.synthetic_did`):
unit and time weights with intercepts and ridge-regularised unit weights; its placebo
standard error; reported as a robustness row.

Requirements: a balanced panel (one row per unit and period, no missing outcomes), at
least :data:`MIN_PRE_PERIODS` pre-treatment periods, at least one post period, at least
two donors. A warning is given when there are fewer pre periods than donors (the fit
can then interpolate noise: many weightings reproduce the pre-period path).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from o4o_causal import _validate, config
from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError, format_error
from o4o_causal.policy import _checks
from o4o_causal.policy._simplex import simplex_least_squares
from o4o_causal.policy.sdid import SdidResult, _sdid_matrix
from o4o_causal.results import Estimate

#: Minimum number of pre-treatment periods (weights need a pre-period path to match,
#: and the pre-RMSPE of a placebo needs more than one or two points to mean anything).
MIN_PRE_PERIODS = 3
#: Minimum number of donors (one donor gives a trivial weight and no placebo distribution).
MIN_DONORS = 2
#: Donors with weight above this count as used (leave-one-out).
POSITIVE_WEIGHT = 1e-6


@dataclass(frozen=True)
class SyntheticControlResult:
    """A synthetic control fit with placebo inference and robustness checks.

    Attributes
    ----------
    att
        Mean post-period gap (:class:`~o4o_causal.results.Estimate`; no standard error --
        inference is by placebo: ``p_value``).
    weights
        Donor weights, indexed by donor.
    gaps
        Indexed by period: ``treated``, ``synthetic``, ``gap``, ``post``.
    pre_rmspe, post_rmspe, ratio
        Fit before and after treatment.
    p_value
        Placebo-in-space p-value of the post/pre RMSPE ratio (NaN without placebos).
        The placebo pools exclude the treated unit.
    placebos
        One row per unit (treated first): ``unit, treated, pre_rmspe, post_rmspe, ratio,
        att, excluded``.
    placebo_gaps
        Long table ``unit, time, gap, excluded`` of the placebo gaps.
    loo
        Leave-one-out: ``dropped_donor, att, pre_rmspe, post_rmspe``.
    loo_gaps
        Long table ``dropped_donor, time, gap``.
    sdid
        Synthetic difference-in-differences (None when not requested).
    predictor_balance
        Predictors of the treated unit, the synthetic control and the donor mean.
    treated_unit, treatment_time, n_pre, n_post
        The design.
    exclude_pre_mspe
        The placebo exclusion multiple (of the treated unit's pre-period MSPE), or None.
    """

    att: Estimate
    weights: pd.Series
    gaps: pd.DataFrame
    pre_rmspe: float
    post_rmspe: float
    ratio: float
    p_value: float
    placebos: pd.DataFrame
    placebo_gaps: pd.DataFrame = field(repr=False)
    loo: pd.DataFrame = field(repr=False)
    loo_gaps: pd.DataFrame = field(repr=False)
    sdid: SdidResult | None
    predictor_balance: pd.DataFrame = field(repr=False)
    treated_unit: object = None
    treatment_time: object = None
    n_pre: int = 0
    n_post: int = 0
    exclude_pre_mspe: float | None = None

    def summary(self) -> pd.DataFrame:
        """Return one row per method: synthetic control, its leave-one-out range and SDID.

        Columns ``method, estimate, se, ci_low, ci_high, loo_min, loo_max, p_value,
        pre_rmspe, note``. ``ci_low``/``ci_high`` are confidence limits (SDID row only);
        the range of the leave-one-donor-out ATTs is in ``loo_min``/``loo_max`` (it is
        not a confidence interval).
        """
        rows: list[dict[str, object]] = [
            {
                "method": "synthetic control",
                "estimate": self.att.value,
                "se": math.nan,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "p_value": self.p_value,
                "pre_rmspe": self.pre_rmspe,
                "note": f"placebo-in-space p-value over {int((~self.placebos['excluded']).sum())} units",
            }
        ]
        if len(self.loo):
            rows.append(
                {
                    "method": "leave-one-donor-out (min..max)",
                    "estimate": math.nan,
                    "se": math.nan,
                    "ci_low": math.nan,
                    "ci_high": math.nan,
                    "loo_min": float(self.loo["att"].min()),
                    "loo_max": float(self.loo["att"].max()),
                    "p_value": math.nan,
                    "pre_rmspe": float(self.loo["pre_rmspe"].max()),
                    "note": f"{len(self.loo)} donors with positive weight dropped in turn",
                }
            )
        if self.sdid is not None:
            est = self.sdid.estimate
            rows.append(
                {
                    "method": "synthetic DiD",
                    "estimate": est.value,
                    "se": est.se,
                    "ci_low": est.ci_low,
                    "ci_high": est.ci_high,
                    "p_value": est.p_value,
                    "pre_rmspe": math.nan,
                    "note": "placebo variance over donors (Arkhangelsky et al. 2021, Algorithm 4)",
                }
            )
        columns = ["method", "estimate", "se", "ci_low", "ci_high", "loo_min", "loo_max", "p_value", "pre_rmspe"]
        return pd.DataFrame(rows).reindex(columns=[*columns, "note"])

    def __repr__(self) -> str:
        """One-line representation."""
        return (
            f"SyntheticControlResult(treated={self.treated_unit!r}, ATT = {self.att.value:.4g}, "
            f"pre-RMSPE = {self.pre_rmspe:.3g}, ratio = {self.ratio:.3g}, placebo p = {self.p_value:.3g}, "
            f"donors with weight > 0: {int((self.weights > POSITIVE_WEIGHT).sum())})"
        )


@dataclass(frozen=True)
class _Wide:
    y: np.ndarray  # periods x units
    units: np.ndarray
    periods: pd.Index
    treated: int
    donors: np.ndarray  # column indices
    t0: int  # number of pre periods
    covariates: np.ndarray | None  # covariates x units (pre-period means)
    covariate_names: tuple[str, ...]


def _wide(
    data: object,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated_unit: object,
    treatment_time: object,
    donors: Sequence[object] | None,
    covariates: Sequence[str],
    min_pre_periods: int,
) -> _Wide:
    for role, name in (("outcome", outcome), ("unit", unit), ("time", time)):
        _checks.check_name(name, role)
    frame = _checks.require_panel(data, list(dict.fromkeys([outcome, unit, time, *covariates])))
    _validate.require_numeric(frame, [outcome], "outcome")
    _validate.require_numeric(frame, covariates, "covariate")
    _checks.require_unique_keys(frame, unit, time)
    units = np.unique(frame[unit].to_numpy())
    if treated_unit not in set(units.tolist()):
        shown = ", ".join(map(repr, units[:12].tolist()))
        raise DataError(
            format_error(
                what=f"treated_unit {treated_unit!r}",
                expected=f"a value of column {unit!r}",
                found=f"not in the data (units: {shown}{', ...' if len(units) > 12 else ''})",
                fix="check the spelling or the sample selection",
            )
        )
    y = frame.pivot(index=time, columns=unit, values=outcome).sort_index()
    periods = y.index
    incomplete = y.columns[y.isna().any(axis=0)].tolist()
    if incomplete:
        raise DataError(
            format_error(
                what=f"panel of {outcome!r} by ({unit!r}, {time!r})",
                expected="a balanced panel (every unit observed in every period)",
                found=f"{len(incomplete)} unit(s) with missing periods: {', '.join(map(repr, incomplete[:8]))}",
                fix="drop those units from the donor pool (donors=...) or restrict the periods",
            )
        )
    try:
        t0 = int(y.index.get_indexer(pd.Index([treatment_time]))[0])
    except (TypeError, ValueError):
        t0 = -1
    if t0 < 0:
        raise DataError(
            format_error(
                what=f"treatment_time {treatment_time!r}",
                expected=f"a period of {time!r} inside the data window {periods[0]} .. {periods[-1]}",
                found="a value outside the observed periods",
                fix="pass the first treated period as it appears in the time column",
            )
        )
    if t0 < min_pre_periods:
        raise DataError(
            format_error(
                what=f"pre-treatment periods before {treatment_time!r}",
                expected=f"at least {min_pre_periods} (MIN_PRE_PERIODS = {MIN_PRE_PERIODS})",
                found=f"{t0}",
                fix="use a longer pre-period or a finer time unit (e.g. months instead of years)",
            )
        )
    col: dict[object, int] = {u: k for k, u in enumerate(y.columns.tolist())}
    treated = col[treated_unit]
    if donors is None:
        donor_idx = np.array([k for k in range(len(col)) if k != treated], dtype=np.int64)
    else:
        donor_list = list(dict.fromkeys(list(donors)))
        unknown = [d for d in donor_list if d not in col]
        if unknown:
            raise DataError(
                format_error(
                    what="donors",
                    expected=f"values of column {unit!r}",
                    found=f"not in the data: {', '.join(map(repr, unknown[:8]))}",
                    fix="check the donor list",
                )
            )
        if treated_unit in donor_list:
            raise SpecificationError(
                format_error(
                    what="donors",
                    expected="units other than the treated unit",
                    found=f"{treated_unit!r} included",
                    fix="remove it",
                )
            )
        donor_idx = np.array(sorted(col[d] for d in donor_list), dtype=np.int64)
    if len(donor_idx) < MIN_DONORS:
        raise DataError(
            format_error(
                what="donor pool",
                expected=f"at least {MIN_DONORS} donor units",
                found=f"{len(donor_idx)}",
                fix="add comparison units (a single donor gives a trivial weight and no placebo distribution)",
            )
        )
    cov = None
    if covariates:
        pre = frame[frame[time] < treatment_time]
        means = pre.groupby(unit)[list(covariates)].mean().reindex(y.columns)
        cov = means.to_numpy(dtype=float).T
    if t0 < len(donor_idx):
        warnings.warn(
            f"synthetic control: {t0} pre-treatment periods for {len(donor_idx)} donors; the weights can interpolate "
            "noise (many weightings fit the pre-period). Prefer a finer time unit or a smaller donor pool.",
            O4OWarning,
            stacklevel=3,
        )
    return _Wide(
        y=y.to_numpy(dtype=float),
        units=np.asarray(y.columns.tolist(), dtype=object),
        periods=periods,
        treated=treated,
        donors=donor_idx,
        t0=t0,
        covariates=cov,
        covariate_names=tuple(covariates),
    )


def check_min_pre_periods(min_pre_periods: object) -> int:
    """Return ``min_pre_periods`` if it is an integer >= :data:`MIN_PRE_PERIODS`, else raise."""
    if (
        isinstance(min_pre_periods, bool)
        or not isinstance(min_pre_periods, int | np.integer)
        or min_pre_periods < MIN_PRE_PERIODS
    ):
        raise SpecificationError(
            format_error(
                what="min_pre_periods",
                expected=f"an integer >= {MIN_PRE_PERIODS}",
                found=repr(min_pre_periods),
                fix="use the default",
            )
        )
    return int(min_pre_periods)


def _predictor_scaling(wide: _Wide, v: Mapping[str, float] | None) -> np.ndarray | None:
    """Row scaling (sqrt(V)/sd) of the stacked predictors, or None without covariates."""
    if wide.covariates is None:
        if v is not None:
            raise SpecificationError(
                format_error(
                    what="v", expected="None without covariates", found=repr(v), fix="pass covariates=... or drop v"
                )
            )
        return None
    names = ("outcome", *wide.covariate_names)
    given = dict(v) if v is not None else dict.fromkeys(names, 1.0)
    unknown = sorted(set(given) - set(names))
    if unknown or any((not isinstance(val, int | float)) or val < 0 for val in given.values()):
        raise SpecificationError(
            format_error(
                what="v",
                expected=f"non-negative weights keyed by {list(names)}",
                found=repr(v),
                fix="e.g. v={'outcome': 1.0, 'age': 0.5}",
            )
        )
    total = sum(given.get(n, 0.0) for n in names)
    if total <= 0:
        raise SpecificationError(
            format_error(what="v", expected="a positive total weight", found=repr(v), fix="give some weight > 0")
        )
    z = np.vstack([wide.y[: wide.t0], wide.covariates])
    pool = np.concatenate([[wide.treated], wide.donors])
    sd = z[:, pool].std(axis=1, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    vw = np.concatenate(
        [np.full(wide.t0, given.get("outcome", 0.0) / wide.t0), [given.get(n, 0.0) for n in wide.covariate_names]]
    )
    return np.sqrt(vw / total) / sd


@dataclass(frozen=True)
class _Fit:
    weights: np.ndarray
    gap: np.ndarray
    pre_rmspe: float
    post_rmspe: float
    att: float


def _fit_one(
    y: np.ndarray, cov: np.ndarray | None, scale: np.ndarray | None, treated: int, donors: np.ndarray, t0: int
) -> _Fit:
    if scale is None:
        a, b = y[:t0, donors], y[:t0, treated]
    else:
        assert cov is not None
        z = np.vstack([y[:t0], cov]) * scale[:, None]
        a, b = z[:, donors], z[:, treated]
    w = simplex_least_squares(a, b).weights
    gap = y[:, treated] - y[:, donors] @ w
    pre = float(np.sqrt(np.mean(gap[:t0] ** 2)))
    post = float(np.sqrt(np.mean(gap[t0:] ** 2)))
    return _Fit(w, gap, pre, post, float(np.mean(gap[t0:])))


def _ratio(fit: _Fit) -> float:
    return fit.post_rmspe / fit.pre_rmspe if fit.pre_rmspe > 0 else math.inf


def synthetic_control(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated_unit: object,
    treatment_time: object,
    covariates: Sequence[str] | str | None = None,
    v: Mapping[str, float] | None = None,
    donors: Sequence[object] | None = None,
    placebo: bool = True,
    exclude_pre_mspe: float | None = None,
    loo: bool = True,
    sdid: bool = True,
    min_pre_periods: int = MIN_PRE_PERIODS,
    ci_level: float = config.CI_LEVEL,
) -> SyntheticControlResult:
    """Fit a synthetic control for one treated unit, with placebo inference and robustness rows.

    Parameters
    ----------
    data
        Long panel (one row per unit and period; e.g. :func:`~o4o_causal.policy.city_series`
        filtered to one measure). Not modified.
    outcome, unit, time
        Outcome, unit and period columns.
    treated_unit
        The treated unit's value in ``unit`` (e.g. ``"Bergen"``).
    treatment_time
        First treated period, as it appears in ``time``.
    covariates
        Columns whose pre-period means are added to the predictors (see module notes).
    v
        Predictor weights ``{"outcome": ..., "<covariate>": ...}`` (with ``covariates`` only).
    donors
        Donor pool (default: every other unit).
    placebo
        Run placebo-in-space inference.
    exclude_pre_mspe
        Exclude placebos whose pre-period MSPE (squared RMSPE) is above this multiple of
        the treated unit's (Abadie et al. 2010: 20, 5, 2).
    loo
        Run leave-one-donor-out.
    sdid
        Add synthetic difference-in-differences.
    min_pre_periods
        Minimum pre-treatment periods (not below :data:`MIN_PRE_PERIODS`).
    ci_level
        Interval level of the SDID row.

    Returns
    -------
    SyntheticControlResult

    Raises
    ------
    DataError
        Missing columns, unbalanced panel, treated unit not in the data, treatment time
        outside the data, too few pre periods, fewer than two donors.
    SpecificationError
        Invalid ``v``, ``exclude_pre_mspe``, ``min_pre_periods``, treated unit among donors.
    """
    ci_level = _validate.ci_level(ci_level)
    check_min_pre_periods(min_pre_periods)
    if exclude_pre_mspe is not None and (
        isinstance(exclude_pre_mspe, bool) or not isinstance(exclude_pre_mspe, int | float) or exclude_pre_mspe <= 0
    ):
        raise SpecificationError(
            format_error(
                what="exclude_pre_mspe",
                expected="None or a positive multiple of the treated unit's pre-period MSPE (e.g. 5)",
                found=repr(exclude_pre_mspe),
                fix="use 2, 5 or 20 (Abadie et al. 2010)",
            )
        )
    covs = _validate.column_names(covariates, "covariates")
    wide = _wide(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        treated_unit=treated_unit,
        treatment_time=treatment_time,
        donors=donors,
        covariates=covs,
        min_pre_periods=min_pre_periods,
    )
    scale = _predictor_scaling(wide, v)
    main = _fit_one(wide.y, wide.covariates, scale, wide.treated, wide.donors, wide.t0)
    donor_labels = wide.units[wide.donors]
    weights = pd.Series(main.weights, index=pd.Index(donor_labels, name=unit), name="weight")
    post = np.arange(len(wide.periods)) >= wide.t0
    gaps = pd.DataFrame(
        {
            "treated": wide.y[:, wide.treated],
            "synthetic": wide.y[:, wide.donors] @ main.weights,
            "gap": main.gap,
            "post": post,
        },
        index=pd.Index(wide.periods, name=time),
    )
    rows = [
        {
            "unit": treated_unit,
            "treated": True,
            "pre_rmspe": main.pre_rmspe,
            "post_rmspe": main.post_rmspe,
            "ratio": _ratio(main),
            "att": main.att,
            "excluded": False,
        }
    ]
    placebo_gaps: list[pd.DataFrame] = []
    p_value = math.nan
    if placebo:
        for k, j in enumerate(wide.donors):
            others = np.delete(wide.donors, k)
            fit = _fit_one(wide.y, wide.covariates, scale, int(j), others, wide.t0)
            excluded = exclude_pre_mspe is not None and fit.pre_rmspe**2 > exclude_pre_mspe * main.pre_rmspe**2
            rows.append(
                {
                    "unit": wide.units[j],
                    "treated": False,
                    "pre_rmspe": fit.pre_rmspe,
                    "post_rmspe": fit.post_rmspe,
                    "ratio": _ratio(fit),
                    "att": fit.att,
                    "excluded": excluded,
                }
            )
            placebo_gaps.append(
                pd.DataFrame({"unit": wide.units[j], time: wide.periods, "gap": fit.gap, "excluded": excluded})
            )
    placebos = pd.DataFrame(rows)
    if placebo:
        kept = placebos[~placebos["treated"] & ~placebos["excluded"]]
        p_value = float((1 + int((kept["ratio"] >= _ratio(main)).sum())) / (1 + len(kept)))
    loo_rows: list[dict[str, object]] = []
    loo_gaps: list[pd.DataFrame] = []
    if loo:
        for k in np.flatnonzero(main.weights > POSITIVE_WEIGHT).tolist():
            others = np.delete(wide.donors, k)
            fit = _fit_one(wide.y, wide.covariates, scale, wide.treated, others, wide.t0)
            loo_rows.append(
                {
                    "dropped_donor": donor_labels[k],
                    "att": fit.att,
                    "pre_rmspe": fit.pre_rmspe,
                    "post_rmspe": fit.post_rmspe,
                }
            )
            loo_gaps.append(pd.DataFrame({"dropped_donor": donor_labels[k], time: wide.periods, "gap": fit.gap}))
    sdid_result = (
        _sdid_matrix(wide.y, wide.units, wide.periods, wide.treated, wide.donors, wide.t0, ci_level=ci_level)
        if sdid
        else None
    )
    balance_rows = {"outcome (pre-period mean)": wide.y[: wide.t0].mean(axis=0)}
    if wide.covariates is not None:
        for name, values in zip(wide.covariate_names, wide.covariates, strict=True):
            balance_rows[name] = values
    balance = pd.DataFrame(
        {
            "treated": {k: float(val[wide.treated]) for k, val in balance_rows.items()},
            "synthetic": {k: float(val[wide.donors] @ main.weights) for k, val in balance_rows.items()},
            "donor_mean": {k: float(val[wide.donors].mean()) for k, val in balance_rows.items()},
        }
    )
    att = Estimate(
        value=main.att,
        se=math.nan,
        ci_low=math.nan,
        ci_high=math.nan,
        n=1 + len(wide.donors),
        method="synthetic-control",
        ci_level=ci_level,
        estimand="ATT[treated unit, post-period mean]",
    )
    empty_loo = pd.DataFrame(columns=["dropped_donor", "att", "pre_rmspe", "post_rmspe"])
    return SyntheticControlResult(
        att=att,
        weights=weights,
        gaps=gaps,
        pre_rmspe=main.pre_rmspe,
        post_rmspe=main.post_rmspe,
        ratio=_ratio(main),
        p_value=p_value,
        placebos=placebos,
        placebo_gaps=pd.concat(placebo_gaps, ignore_index=True)
        if placebo_gaps
        else pd.DataFrame(columns=["unit", time, "gap", "excluded"]),
        loo=pd.DataFrame(loo_rows) if loo_rows else empty_loo,
        loo_gaps=pd.concat(loo_gaps, ignore_index=True)
        if loo_gaps
        else pd.DataFrame(columns=["dropped_donor", time, "gap"]),
        sdid=sdid_result,
        predictor_balance=balance,
        treated_unit=treated_unit,
        treatment_time=treatment_time,
        n_pre=wide.t0,
        n_post=int(post.sum()),
        exclude_pre_mspe=exclude_pre_mspe,
    )


__all__ = ["MIN_DONORS", "MIN_PRE_PERIODS", "SyntheticControlResult", "check_min_pre_periods", "synthetic_control"]

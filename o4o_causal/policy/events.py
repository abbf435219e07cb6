"""Event studies: leads and lags with a joint pre-trend test, robust to staggered adoption.

Set-up
------
Periods are the sorted distinct values of ``time`` in the data (months, years, ...),
numbered 0, 1, ...; relative time is ``r_it = period(t) - period(g_i)`` for a unit first
treated in period ``g_i``. Relative time therefore counts *observed* periods: a calendar
period missing from the data shifts it (a warning is given when numeric or datetime
periods are unevenly spaced; month starts count in calendar months). Never-treated
units have ``treatment_time`` missing (NaN/NaT) or 0 (when 0 is not a period). Units
treated in the first observed period have no pre-period and are dropped (warning with
the count).

Window and endpoints
--------------------
``window=(lo, hi)`` (default: every relative time observed) chooses the coefficients
shown. ``endpoints="bin"`` (default) bins ``r < lo`` into ``lo`` and ``r > hi`` into ``hi``
(the endpoint coefficients are averages over the binned relative times, assuming
effects constant beyond the window: Schmidheiny & Siegloch 2023); ``endpoints="drop"``
drops the treated units' observations outside the window. The reference period
``ref`` (default -1) is normalised to zero.

Estimators
----------
``"twfe"``
    ``y_it = a_i + l_t + sum_{l != ref} b_l 1[r_it = l] + e_it``. Biased under
    staggered adoption with effects that differ across cohorts: each ``b_l`` is
    contaminated by effects at other relative times (Sun & Abraham 2021).
``"sunab"`` (default)
    Sun & Abraham (2021) interaction-weighted estimator: the regression saturated in
    cohort x relative time (``1[g_i = e] 1[r_it = l]``), with never-treated units as
    controls (without never-treated units, the last-treated cohort is the control and
    its periods from its adoption on are dropped); cohort effects are averaged per
    relative time with weights equal to each cohort's share of the treated
    observations at that relative time (shares treated as fixed, as in fixest's
    ``sunab``). With one adoption date it equals ``"twfe"``.
``"did2s"``
    Gardner's (2021) two-stage estimator through :func:`pyfixest.did2s`: unit and
    period effects from untreated observations, then the residualised outcome on the
    relative-time indicators. Its covariance is pyfixest's GMM cluster-robust
    covariance (no ``G/(G-1)`` factor). Every period needs untreated observations
    (else the period effects are not identified: a :class:`DataError`). pyfixest
    builds dense unit dummies for this covariance, so memory grows with observations x
    units (measured: 1,500 units x 12 periods, 1.2 GB); above :data:`DID2S_MAX_BYTES`
    (estimated) a :class:`DataError` points to ``"sunab"``.

Inference: CRV1 clustered on ``cluster`` (default ``unit``; see
:mod:`o4o_causal.policy._engine` for ``ssc``). The pre-trend test is the chi-square
Wald test that all lead coefficients (``l < 0``, ``l != ref``) are zero, with the same
cluster-robust covariance; a CRV1 covariance has rank at most ``G - 1``, so with more
leads than clusters the test has fewer degrees of freedom than leads (pseudo-inverse;
an :class:`~o4o_causal.exceptions.O4OWarning` says so). ``att`` is the average of the post coefficients
(``l >= 0``) weighted by the number of treated observations at each relative time.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from o4o_causal import _validate, config
from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError, format_error
from o4o_causal.policy import _checks
from o4o_causal.policy._engine import SSC_OPTIONS, FeolsFit, chi2_wald, feols
from o4o_causal.results import Estimate

ESTIMATORS = ("sunab", "twfe", "did2s")
ENDPOINTS = ("bin", "drop")
#: Largest estimated memory (bytes) of pyfixest's did2s covariance before it is refused.
DID2S_MAX_BYTES = 2 * 1024**3
#: Dense float64 copies of the observations x (units + periods) design that pyfixest's
#: did2s covariance holds at once (calibrated: 1,500 units x 12 periods took 1.2 GB).
_DID2S_COPIES = 5


def _label(value: object) -> str:
    """Return a period label for messages (``7``, ``2020-01-01``; not ``np.int64(7)``)."""
    item = value.item() if isinstance(value, np.generic) else value
    if isinstance(item, pd.Timestamp | np.datetime64):
        return str(pd.Timestamp(item).date()) if pd.Timestamp(item) == pd.Timestamp(item).normalize() else str(item)
    return str(item)


def _check_spacing(values: pd.Series, labels: np.ndarray, time: str) -> None:
    """Warn when numeric or datetime periods are unevenly spaced (missing calendar periods)."""
    if len(labels) < 3:
        return
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        stamps = pd.DatetimeIndex(labels)
        if bool((stamps == stamps.normalize()).all()) and bool((stamps.day == 1).all()):
            steps = np.diff(stamps.year.to_numpy() * 12 + stamps.month.to_numpy())
            unit = "month(s)"
        else:
            steps = np.diff(stamps.to_numpy().astype(np.int64))
            unit = "ns"
    elif pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        steps = np.diff(labels.astype(float))
        unit = ""
    else:
        return
    if len(np.unique(steps)) > 1:
        common = steps.min()
        at = int(np.flatnonzero(steps != common)[0])
        warnings.warn(
            f"event_study: the periods of {time!r} are unevenly spaced (usual step {common:g}{unit and ' ' + unit}, "
            f"but {_label(labels[at])} is followed by {_label(labels[at + 1])}). Relative time counts observed "
            "periods, so a calendar period missing from the data shifts event time. Add the missing periods "
            "(every period needs some observations) or recode time to consecutive periods.",
            O4OWarning,
            stacklevel=4,
        )


@dataclass(frozen=True)
class WaldTest:
    """A chi-square Wald test."""

    statistic: float
    df: int
    p_value: float


@dataclass(frozen=True)
class EventStudyResult:
    """Leads and lags of an event study with a joint pre-trend test.

    Attributes
    ----------
    coefficients
        One row per relative time in the window: ``rel_time, estimate, se, ci_low,
        ci_high, n_treated_obs, binned, reference`` (the reference row is 0 with NaN SE).
    pretrend
        Joint Wald test of the leads.
    att
        Post-window average effect (:class:`~o4o_causal.results.Estimate`).
    estimator, ref, window, endpoints, cluster
        The specification.
    n, n_units, n_treated_units, n_clusters
        Observations, units, treated units and clusters used.
    cohorts
        Adoption periods (values of ``time``) of the treated cohorts.
    control
        ``"never-treated"`` or ``"last-treated cohort <value>"``.
    vcov
        Covariance of the non-reference coefficients (read-only), in table order.
    cohort_effects
        ``"sunab"`` only: cohort x relative-time effects before aggregation.
    """

    coefficients: pd.DataFrame
    pretrend: WaldTest
    att: Estimate
    estimator: str
    ref: int
    window: tuple[int, int]
    endpoints: str
    cluster: str
    n: int
    n_units: int
    n_treated_units: int
    n_clusters: int
    cohorts: tuple[object, ...]
    control: str
    vcov: np.ndarray = field(repr=False)
    cohort_effects: pd.DataFrame | None = field(default=None, repr=False)
    dropped_units: int = 0
    ci_level: float = config.CI_LEVEL

    def summary(self) -> pd.DataFrame:
        """Return the coefficient table, with the pre-trend test and ATT in ``attrs``."""
        table = self.coefficients.copy()
        table.attrs["pretrend"] = {
            "statistic": self.pretrend.statistic,
            "df": self.pretrend.df,
            "p_value": self.pretrend.p_value,
        }
        table.attrs["att"] = self.att.to_dict()
        table.attrs["estimator"] = self.estimator
        return table

    def __repr__(self) -> str:
        """One-line representation."""
        return (
            f"EventStudyResult(estimator={self.estimator!r}, window={self.window}, ref={self.ref}, "
            f"pre-trend p = {self.pretrend.p_value:.3g} (df {self.pretrend.df}), att={self.att!r})"
        )


def _name(level: int) -> str:
    return f"e_m{-level}" if level < 0 else f"e_p{level}"


@dataclass(frozen=True)
class _Panel:
    frame: pd.DataFrame  # y, u, t, c, g (period index of adoption, -1 never), r, rb, [x..]
    labels: np.ndarray  # time labels by period index
    covariates: tuple[str, ...]
    cluster: str
    dropped: int


def _never(values: pd.Series, time_is_numeric: bool, labels: np.ndarray) -> np.ndarray:
    never = values.isna().to_numpy()
    if time_is_numeric and not np.any(labels == 0):
        never |= (values.fillna(-1) == 0).to_numpy()
    return never


def _prepare(
    data: object,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment_time: str,
    cluster: str | None,
    covariates: Sequence[str] | str | None,
) -> _Panel:
    for role, name in (("outcome", outcome), ("unit", unit), ("time", time), ("treatment_time", treatment_time)):
        _checks.check_name(name, role)
    cluster_col = unit if cluster is None else _checks.check_name(cluster, "cluster")
    covs = _validate.column_names(covariates, "covariates")
    columns = list(dict.fromkeys([outcome, unit, time, cluster_col, *covs]))
    frame = _checks.require_panel(data, columns)
    _validate.require_columns(frame, [treatment_time])
    _validate.require_numeric(frame, [outcome], "outcome")
    _validate.require_numeric(frame, covs, "covariate")
    _checks.require_unique_keys(frame, unit, time)
    _checks.constant_within(
        frame,
        treatment_time,
        unit,
        "treatment_time",
        "give each unit its first treated period (missing if never treated)",
    )
    t_code, labels = _checks.codes(frame[time])
    _check_spacing(frame[time], labels, time)
    gcol = frame[treatment_time]
    numeric_time = pd.api.types.is_numeric_dtype(frame[time].dtype)
    never = _never(gcol, numeric_time, labels)
    treated_values = gcol[~never]
    lookup = pd.Series(np.arange(len(labels)), index=pd.Index(labels))
    g_code = np.full(len(frame), -1, dtype=np.int64)
    if len(treated_values):
        try:
            mapped = lookup.reindex(pd.Index(treated_values.to_numpy())).to_numpy()
        except (TypeError, ValueError):
            mapped = np.full(len(treated_values), np.nan)
        outside = np.isnan(mapped.astype(float))
        if outside.any():
            bad = treated_values[outside].iloc[0]
            raise DataError(
                format_error(
                    what=f"treatment_time column {treatment_time!r}",
                    expected=f"a period of {time!r} in {_label(labels[0])} .. {_label(labels[-1])}, "
                    "or missing for never treated",
                    found=f"{int(outside.sum())} rows outside the observed periods (first: {_label(bad)})",
                    fix="keep adoption dates inside the data window; code units treated later as never treated",
                )
            )
        g_code[~never] = mapped.astype(np.int64)
    if not np.any(g_code >= 0):
        raise DataError(
            format_error(
                what=f"treatment_time column {treatment_time!r}",
                expected="at least one treated unit",
                found="only never-treated units",
                fix="check the coding (never treated = missing)",
            )
        )
    work = pd.DataFrame(
        {
            "y": frame[outcome].to_numpy(dtype=float),
            "u": _checks.codes(frame[unit])[0],
            "t": t_code,
            "c": _checks.codes(frame[cluster_col])[0],
            "g": g_code,
        }
    )
    for k, cov in enumerate(covs):
        work[f"x{k}"] = frame[cov].to_numpy(dtype=float)
    first_period = work.groupby("u")["t"].transform("min")
    always = (work["g"] >= 0) & (work["g"] <= first_period)
    dropped = int(work.loc[always, "u"].nunique())
    if dropped:
        warnings.warn(
            f"event_study: {dropped} unit(s) treated from their first observed period (no pre-period) were dropped",
            O4OWarning,
            stacklevel=3,
        )
        work = work[~always].reset_index(drop=True)
    work["r"] = np.where(work["g"] >= 0, work["t"] - work["g"], 0)
    return _Panel(work, labels, tuple(covs), cluster_col, dropped)


def _window(
    panel: _Panel, window: tuple[int, int] | None, ref: int, endpoints: str
) -> tuple[pd.DataFrame, tuple[int, int]]:
    frame = panel.frame
    treated = frame["g"] >= 0
    r_obs = frame.loc[treated, "r"]
    if window is None:
        lo, hi = int(r_obs.min()), int(r_obs.max())
    else:
        if (
            not isinstance(window, tuple | list)
            or len(window) != 2
            or not all(isinstance(v, int | np.integer) for v in window)
            or not window[0] <= ref <= window[1]
            or not window[0] < 0 <= window[1]
        ):
            raise SpecificationError(
                format_error(
                    what="window",
                    expected=f"a pair of integers (lo, hi) with lo < 0 <= hi and lo <= ref={ref} <= hi",
                    found=repr(window),
                    fix="e.g. window=(-4, 4)",
                )
            )
        lo, hi = int(window[0]), int(window[1])
    if not isinstance(ref, int | np.integer) or not lo <= ref < 0:
        raise SpecificationError(
            format_error(
                what="ref",
                expected=f"a negative relative period in the window [{lo}, {hi}]",
                found=repr(ref),
                fix="use ref=-1",
            )
        )
    if endpoints == "drop":
        keep = ~treated | ((frame["r"] >= lo) & (frame["r"] <= hi))
        frame = frame[keep].reset_index(drop=True)
        treated = frame["g"] >= 0
    rb = frame["r"].clip(lower=lo, upper=hi)
    binned = treated & (rb != frame["r"])
    frame = frame.assign(rb=np.where(treated, rb, 0), binned=binned, treated=treated)
    if not ((frame["treated"]) & (frame["rb"] == ref)).any():
        raise DataError(
            format_error(
                what=f"reference period ref={ref}",
                expected="treated units observed at the reference relative time",
                found="none",
                fix="choose another ref or widen the data window",
            )
        )
    return frame, (lo, hi)


def _twfe(frame: pd.DataFrame, levels: list[int], xs: list[str], ssc: str) -> tuple[FeolsFit, np.ndarray, None]:
    cols = {_name(lv): (frame["treated"] & (frame["rb"] == lv)).astype(float) for lv in levels}
    work = frame.assign(**cols)
    names = [_name(lv) for lv in levels]
    try:
        fit = feols(work, y="y", x=[*names, *xs], fe=["u", "t"], cluster="c", weights=None, ssc=ssc, required=names)
    except DataError as err:
        raise DataError(
            format_error(
                what="event-study coefficients (estimator='twfe')",
                expected="identified leads and lags",
                found=f"collinearity ({err})",
                fix="without never-treated units bin the endpoints (window=...) or use estimator='sunab'",
            )
        ) from err
    weights = np.zeros((len(levels), len(fit.names)))
    for k, name in enumerate(names):
        weights[k, fit.index(name)] = 1.0
    return fit, weights, None


def _sunab(
    frame: pd.DataFrame, levels: list[int], ref: int, xs: list[str], ssc: str, labels: np.ndarray
) -> tuple[FeolsFit, np.ndarray, pd.DataFrame, pd.DataFrame, str]:
    never = ~frame["treated"]
    if never.any():
        control = "never-treated"
    else:
        last = int(frame["g"].max())
        control = f"last-treated cohort {_label(labels[last])}"
        frame = frame[frame["t"] < last].reset_index(drop=True)
        frame = frame.assign(treated=frame["g"] != last)
        frame.loc[~frame["treated"], "rb"] = 0
        if frame["g"].nunique() < 2:
            raise DataError(
                format_error(
                    what="treatment_time",
                    expected="never-treated units or at least two adoption cohorts",
                    found="a single cohort and no never-treated units",
                    fix="add never-treated comparison units",
                )
            )
    treated = frame[frame["treated"]]
    cells = treated.groupby(["g", "rb"]).size().rename("n").reset_index()
    cols: dict[str, pd.Series] = {}
    cell_names: list[tuple[int, int, str]] = []
    for g_value, sub in cells.groupby("g"):
        g = int(str(g_value))
        if not (sub["rb"] == ref).any():
            raise DataError(
                format_error(
                    what=f"cohort {_label(labels[g])}",
                    expected=f"observations at the reference relative time {ref}",
                    found="none",
                    fix="choose another ref, or drop the cohort",
                )
            )
        for lv in sub["rb"].astype(int).tolist():
            if lv == ref:
                continue
            name = f"c{g}_{_name(lv)}"
            cols[name] = ((frame["g"] == g) & frame["treated"] & (frame["rb"] == lv)).astype(float)
            cell_names.append((g, lv, name))
    work = pd.concat([frame, pd.DataFrame(cols, index=frame.index)], axis=1) if cols else frame
    names = [c[2] for c in cell_names]
    fit = feols(work, y="y", x=[*names, *xs], fe=["u", "t"], cluster="c", weights=None, ssc=ssc, required=names)
    counts = cells.set_index(["g", "rb"])["n"]
    weights = np.zeros((len(levels), len(fit.names)))
    for k, lv in enumerate(levels):
        total = sum(counts.get((g, lv), 0) for g, lv2, _ in cell_names if lv2 == lv)
        for g, lv2, name in cell_names:
            if lv2 == lv and total:
                weights[k, fit.index(name)] = counts[(g, lv)] / total
    se = np.sqrt(np.clip(np.diag(fit.vcov), 0, None))
    cohort_table = pd.DataFrame(
        [
            {
                "cohort": labels[g],
                "rel_time": lv,
                "estimate": fit.coef[fit.index(name)],
                "se": se[fit.index(name)],
                "n_obs": int(counts[(g, lv)]),
            }
            for g, lv, name in cell_names
        ]
    )
    return fit, weights, cohort_table, work, control


def _did2s(frame: pd.DataFrame, levels: list[int], xs: list[str], labels: np.ndarray) -> tuple[FeolsFit, np.ndarray]:
    import pyfixest as pf

    cols = {_name(lv): (frame["treated"] & (frame["rb"] == lv)).astype(float) for lv in levels}
    work = frame.assign(**cols, is_tr=(frame["treated"] & (frame["r"] >= 0)).astype(np.int64)).reset_index(drop=True)
    untreated = (work["is_tr"] == 0).groupby(work["t"]).any()
    missing_periods = untreated.index[~untreated.to_numpy()].tolist()
    if missing_periods:
        shown = ", ".join(_label(labels[t]) for t in missing_periods[:8])
        raise DataError(
            format_error(
                what="event-study periods (estimator='did2s')",
                expected="untreated observations in every period (the first stage estimates period effects from them)",
                found=f"{len(missing_periods)} period(s) in which every unit is treated: {shown}"
                + (", ..." if len(missing_periods) > 8 else ""),
                fix="drop the periods from the last adoption on (data[time] < last adoption), add never-treated "
                "units, or use estimator='sunab' (last-treated cohort as control)",
            )
        )
    n_units, n_periods = int(work["u"].nunique()), int(work["t"].nunique())
    need = _DID2S_COPIES * 8 * len(work) * (n_units + n_periods)
    if need > DID2S_MAX_BYTES:
        raise DataError(
            format_error(
                what="estimator='did2s'",
                expected=f"an estimated memory need below DID2S_MAX_BYTES = {DID2S_MAX_BYTES / 1024**3:.1f} GiB",
                found=f"about {need / 1024**3:.1f} GiB for {len(work):,} observations of {n_units:,} units (pyfixest's "
                "did2s covariance builds dense unit dummies: memory grows with observations x units)",
                fix="use estimator='sunab' (default; also robust to staggered adoption), or aggregate the units",
            )
        )
    names = [_name(lv) for lv in levels]
    first = f"~ {' + '.join(xs) if xs else '0'} | u + t"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.did2s(
            work, yname="y", first_stage=first, second_stage="~ " + " + ".join(names), treatment="is_tr", cluster="c"
        )
    fnames = tuple(str(n) for n in fit._coefnames)
    missing = [n for n in names if n not in fnames]
    if missing:
        raise DataError(
            format_error(
                what="event-study coefficients (estimator='did2s')",
                expected="identified leads and lags",
                found=f"{missing} collinear",
                fix="narrow the window or bin the endpoints",
            )
        )
    result = FeolsFit(
        names=fnames,
        coef=np.asarray(fit._beta_hat, dtype=float),
        vcov=np.asarray(fit._vcov, dtype=float),
        n=len(work),
        n_clusters=int(work["c"].nunique()),
    )
    weights = np.zeros((len(levels), len(fnames)))
    for k, name in enumerate(names):
        weights[k, fnames.index(name)] = 1.0
    return result, weights


def event_study(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treatment_time: str,
    ref: int = -1,
    window: tuple[int, int] | None = None,
    cluster: str | None = None,
    covariates: Sequence[str] | str | None = None,
    estimator: str = "sunab",
    endpoints: str = "bin",
    ssc: str = "nonnested",
    ci_level: float = config.CI_LEVEL,
) -> EventStudyResult:
    """Estimate an event study (leads and lags) with a cluster-robust joint pre-trend test.

    Parameters
    ----------
    data
        Long panel, one row per unit and period (not modified).
    outcome, unit, time
        Outcome (numeric), unit identifier and period columns.
    treatment_time
        Column with each unit's first treated period (a value of ``time``); missing
        (NaN/NaT), or 0 when 0 is not a period, for never-treated units.
    ref
        Reference relative period (normalised to 0); negative.
    window
        ``(lo, hi)`` relative periods shown, ``lo < 0 <= hi`` (default: all observed).
    cluster
        Cluster column (default ``unit``).
    covariates
        Time-varying covariates entered linearly.
    estimator
        ``"sunab"`` (default), ``"twfe"`` or ``"did2s"`` (see module notes).
    endpoints
        ``"bin"`` (default) or ``"drop"`` relative times outside the window.
    ssc
        Small-sample convention (``"nonnested"`` or ``"full"``; not used by ``did2s``).
    ci_level
        Interval level.

    Returns
    -------
    EventStudyResult

    Raises
    ------
    DataError
        Missing columns/values, duplicated unit-periods, adoption dates outside the
        observed periods, no treated units, no observations at ``ref``.
    SpecificationError
        Invalid ``window``, ``ref``, ``estimator``, ``endpoints`` or ``ssc``.
    """
    _checks.check_choice(estimator, ESTIMATORS, "estimator")
    _checks.check_choice(endpoints, ENDPOINTS, "endpoints")
    _checks.check_choice(ssc, SSC_OPTIONS, "ssc")
    ci_level = _validate.ci_level(ci_level)
    panel = _prepare(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        treatment_time=treatment_time,
        cluster=cluster,
        covariates=covariates,
    )
    frame, (lo, hi) = _window(panel, window, ref, endpoints)
    _, n_treated_clusters, coarser = _checks.cluster_structure(
        frame, "u", "c" if panel.cluster != unit else "u", frame["treated"].to_numpy()
    )
    _checks.warn_few_treated_clusters(panel.cluster, unit, n_treated_clusters, coarser)
    levels = [lv for lv in range(lo, hi + 1) if lv != ref]
    xs = [f"x{k}" for k in range(len(panel.covariates))]
    cohort_table = None
    control = "never-treated" if (~frame["treated"]).any() else "not-yet-treated"
    used = frame
    if estimator == "twfe":
        fit, weights, _ = _twfe(frame, levels, xs, ssc)
    elif estimator == "sunab":
        fit, weights, cohort_table, used, control = _sunab(frame, levels, ref, xs, ssc, panel.labels)
    else:
        fit, weights = _did2s(frame, levels, xs, panel.labels)
        control = "untreated observations (never- and not-yet-treated)"
    present = np.asarray(weights.any(axis=1), dtype=bool)
    levels = [lv for lv, keep in zip(levels, present.tolist(), strict=True) if keep]
    weights = weights[present]
    values = weights @ fit.coef
    vcov = weights @ fit.vcov @ weights.T
    se = np.sqrt(np.clip(np.diag(vcov), 0, None))
    z = _checks.z_value(ci_level)
    treated_rows = used[used["treated"]]
    n_at = treated_rows.groupby("rb").size()
    binned_at = treated_rows.groupby("rb")["binned"].any()
    rows = [
        {
            "rel_time": lv,
            "estimate": values[k],
            "se": se[k],
            "ci_low": values[k] - z * se[k],
            "ci_high": values[k] + z * se[k],
            "n_treated_obs": int(n_at.get(lv, 0)),
            "binned": bool(binned_at.get(lv, False)),
            "reference": False,
        }
        for k, lv in enumerate(levels)
    ]
    rows.append(
        {
            "rel_time": ref,
            "estimate": 0.0,
            "se": math.nan,
            "ci_low": math.nan,
            "ci_high": math.nan,
            "n_treated_obs": int(n_at.get(ref, 0)),
            "binned": bool(binned_at.get(ref, False)),
            "reference": True,
        }
    )
    table = pd.DataFrame(rows).sort_values("rel_time", ignore_index=True)
    leads = [k for k, lv in enumerate(levels) if lv < 0]
    if leads:
        restriction = np.zeros((len(leads), len(levels)))
        for row, k in enumerate(leads):
            restriction[row, k] = 1.0
        stat, df, p_value = chi2_wald(
            restriction @ values,
            restriction @ vcov @ restriction.T,
            n_clusters=fit.n_clusters,
            what="event_study pre-trend test",
        )
        pretrend = WaldTest(stat, df, p_value)
    else:
        pretrend = WaldTest(math.nan, 0, math.nan)
    post = [k for k, lv in enumerate(levels) if lv >= 0]
    counts = np.array([n_at.get(levels[k], 0) for k in post], dtype=float)
    agg = np.zeros(len(levels))
    agg[post] = counts / counts.sum()
    att_value = float(agg @ values)
    att_se = float(np.sqrt(max(float(agg @ vcov @ agg), 0.0)))
    att = Estimate.from_normal(
        att_value,
        att_se,
        n=int(treated_rows.loc[treated_rows["rb"] >= 0, "u"].nunique()),
        method=f"event-study-{estimator}",
        ci_level=ci_level,
        estimand=f"ATT[rel 0..{hi}]",
    )
    vcov = vcov.copy()
    vcov.setflags(write=False)
    cohorts = tuple(panel.labels[g] for g in sorted(frame.loc[frame["treated"], "g"].unique()))
    return EventStudyResult(
        coefficients=table,
        pretrend=pretrend,
        att=att,
        estimator=estimator,
        ref=int(ref),
        window=(lo, hi),
        endpoints=endpoints,
        cluster=panel.cluster,
        n=fit.n,
        n_units=int(used["u"].nunique()),
        n_treated_units=int(treated_rows["u"].nunique()),
        n_clusters=fit.n_clusters,
        cohorts=cohorts,
        control=control,
        vcov=vcov,
        cohort_effects=cohort_table,
        dropped_units=panel.dropped,
        ci_level=ci_level,
    )


__all__ = ["EventStudyResult", "WaldTest", "event_study"]

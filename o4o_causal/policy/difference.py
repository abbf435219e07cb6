"""Difference-in-differences: 2x2, two-way fixed effects, subgroup effects and triple differences.

Estimators
----------
``method="twfe"`` (default)
    ``y_it = a_i + l_t + b * D_i * Post_t (+ x_it' g) + e_it`` with unit and period fixed
    effects, fitted by pyfixest (``feols("y ~ treat_post | unit + time")``). Unbalanced
    panels: every available unit-period is used (the fixed effects absorb which units
    are observed when); ``result.incomplete_units`` counts the units not observed in
    every period, ``balance=True`` keeps only complete units and reports in
    ``result.dropped_units`` how many were dropped.
``method="2x2"``
    Each unit's outcome is averaged over its pre and its post periods, and the change
    ``dY_i = mean_post - mean_pre`` is regressed on ``D_i``:
    ``b = mean(dY | D=1) - mean(dY | D=0)``. In a balanced panel this is the difference of
    the four cell means ``(Y11 - Y10) - (Y01 - Y00)``. Units without both a pre and a post
    observation are dropped (with a warning giving the count, also in
    ``result.dropped_units``). Covariates enter as their pre-period unit means
    (regression adjustment for conditional parallel trends).

Inference
---------
CRV1 cluster-robust standard errors (pyfixest), clustered by default on ``unit``; the
small-sample factor is described in :mod:`o4o_causal.policy._engine` (``ssc``).
Intervals are normal (suite convention).

**Few treated clusters.** Bergen is *one* city. Clustering on city gives one treated
cluster, and cluster-robust standard errors are then invalid: the city's own shocks
are indistinguishable from the reform, and CR1 understates the uncertainty (Conley &
Taber 2011; MacKinnon & Webb 2017). The functions warn (:class:`O4OWarning`) when the
cluster is coarser than the unit and fewer than 2 clusters are treated (and, more
softly, fewer than 10). Two honest questions remain: the *person-level* question
(did Bergen's reform change the outcomes of its residents, relative to comparable
residents elsewhere, taking the city-level shocks as part of the estimand's noise that
is not modelled) -- cluster on persons, the units whose outcomes are repeated; and the
*city-level* question (is Bergen's post-2020 path unusual among cities) -- use
:func:`~o4o_causal.policy.synthetic_control` with placebo-in-space inference.

Heterogeneous effects
---------------------
:func:`did_by` fits one model with a treated-post indicator per subgroup, group-specific
period effects (``time x group`` fixed effects) and unit effects; its coefficients equal
separate regressions per group, and their joint cluster-robust covariance gives the
Wald test that all subgroup effects are equal. :func:`ddd` is the triple difference
``y_it = a_i + l_{t,D} + m_{t,G} + b * D_i * G_i * Post_t``: the difference between the
effect in group ``G`` and outside it within the treated units, net of the same
difference among the untreated; the ``time x treated`` effects absorb city-wide shocks
to the treated units, which makes it robust to a Bergen-specific common shock.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from o4o_causal import _validate, config
from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError, format_error
from o4o_causal.policy import _checks
from o4o_causal.policy._engine import SSC_OPTIONS, FeolsFit, feols
from o4o_causal.results import Estimate

METHODS = ("twfe", "2x2")


@dataclass(frozen=True, slots=True, repr=False)
class DidEstimate(Estimate):
    """An :class:`~o4o_causal.results.Estimate` with the design facts of a difference-in-differences fit.

    ``n`` is the number of observations (unit-periods for ``twfe``, units for ``2x2``).
    """

    n_units: int = 0
    n_clusters: int = 0
    n_treated_clusters: int = 0
    cluster: str = ""
    incomplete_units: int = 0
    dropped_units: int = 0
    formula: str = ""
    ssc: str = "nonnested"


@dataclass(frozen=True)
class SubgroupDid:
    """Subgroup difference-in-differences effects with a joint test of equality.

    Attributes
    ----------
    estimates
        Group label -> :class:`DidEstimate` (from the joint model).
    equality
        ``(statistic, df, p_value)`` of the cluster-robust Wald test that all subgroup
        effects are equal (chi-square).
    by
        The grouping column(s).
    vcov
        Joint covariance of the subgroup effects (read-only), in the order of ``estimates``.
    """

    estimates: Mapping[str, DidEstimate]
    equality: tuple[float, int, float]
    by: tuple[str, ...]
    vcov: np.ndarray = field(repr=False)

    def summary(self) -> pd.DataFrame:
        """Return one row per subgroup plus the equality test in ``attrs``."""
        rows = [{"group": label} | est.to_dict() | {"p_value": est.p_value} for label, est in self.estimates.items()]
        table = pd.DataFrame(rows)
        table.attrs["equality_test"] = {
            "statistic": self.equality[0],
            "df": self.equality[1],
            "p_value": self.equality[2],
        }
        return table

    def __repr__(self) -> str:
        """Readable multi-line representation."""
        lines = [f"SubgroupDid(by={list(self.by)}, equality p = {self.equality[2]:.3g}, df = {self.equality[1]})"]
        lines += [f"  {label}: {est!r}" for label, est in self.estimates.items()]
        return "\n".join(lines)


@dataclass(frozen=True)
class _Prepared:
    frame: pd.DataFrame  # internal columns: y, u, t, d, p, c, [w], x0.., [g]
    covariates: tuple[str, ...]
    cluster: str
    weights: bool
    incomplete: int
    dropped: int
    n_treated_clusters: int


def _prepare(
    data: object,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated: str,
    post: str,
    cluster: str | None,
    covariates: Sequence[str] | str | None,
    weights: str | None,
    balance: bool,
    group: Sequence[str] = (),
) -> _Prepared:
    names = {"outcome": outcome, "unit": unit, "time": time, "treated": treated, "post": post}
    for role, name in names.items():
        _checks.check_name(name, role)
    cluster_col = unit if cluster is None else _checks.check_name(cluster, "cluster")
    covs = _validate.column_names(covariates, "covariates")
    extra = [c for c in (cluster_col, weights) if c is not None]
    columns = list(dict.fromkeys([outcome, unit, time, treated, post, *extra, *covs, *group]))
    frame = _checks.require_panel(data, columns)
    _validate.require_numeric(frame, [outcome], "outcome")
    _validate.require_numeric(frame, covs, "covariate")
    _checks.require_unique_keys(frame, unit, time)
    d = _checks.binary(frame, treated, "treated")
    p = _checks.binary(frame, post, "post")
    _checks.constant_within(
        frame,
        treated,
        unit,
        "treated",
        "treated marks the treated group (e.g. bergen) and must not change over time; "
        "for treatment that switches on at different times use event_study(...)",
    )
    _checks.constant_within(frame, post, time, "post", "post must be a function of the period (e.g. month >= 2020-01)")
    cells = {(1, 0): "treated before", (1, 1): "treated after", (0, 0): "untreated before", (0, 1): "untreated after"}
    for (dv, pv), label in cells.items():
        if not np.any((d == dv) & (p == pv)):
            raise DataError(
                format_error(
                    what=f"cell {treated}={dv}, {post}={pv} ({label})",
                    expected="at least one observation in each of the four difference-in-differences cells",
                    found="none",
                    fix="check the sample selection and the post/treated coding",
                )
            )
    if weights is not None:
        _validate.require_numeric(frame, [weights], "weights")
        w = frame[weights].to_numpy(dtype=float)
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise DataError(
                format_error(
                    what=f"weights column {weights!r}",
                    expected="finite positive weights",
                    found=f"{int(np.sum(~np.isfinite(w) | (w <= 0)))} non-positive or non-finite values",
                    fix="drop those rows or pass weights=None",
                )
            )
    work = pd.DataFrame(
        {
            "y": frame[outcome].to_numpy(dtype=float),
            "u": _checks.codes(frame[unit])[0],
            "t": _checks.codes(frame[time])[0],
            "d": d.astype(float),
            "p": p.astype(float),
            "c": _checks.codes(frame[cluster_col])[0],
        }
    )
    if weights is not None:
        work["w"] = frame[weights].to_numpy(dtype=float)
    for k, cov in enumerate(covs):
        work[f"x{k}"] = frame[cov].to_numpy(dtype=float)
    for k, g in enumerate(group):
        work[f"g{k}"] = frame[g].to_numpy()
    dropped = 0
    if balance:
        work, dropped = _checks.balance_panel(work, "u", "t")
        work = work.reset_index(drop=True)
    incomplete = _checks.incomplete_units(work, "u", "t")
    _, n_treated_clusters, coarser = _checks.cluster_structure(
        work, "u", "c" if cluster_col != unit else "u", work["d"].to_numpy()
    )
    _checks.warn_few_treated_clusters(cluster_col, unit, n_treated_clusters, coarser)
    return _Prepared(work, tuple(covs), cluster_col, weights is not None, incomplete, dropped, n_treated_clusters)


def _unit_changes(prep: _Prepared, unit: str) -> tuple[pd.DataFrame, int]:
    """Collapse to one row per unit: pre/post means and their change (2x2)."""
    frame = prep.frame
    for col, role in (("c", f"cluster {prep.cluster!r}"), ("w", "weights")):
        if col in frame and not (frame.groupby("u")[col].nunique() <= 1).all():
            raise DataError(
                format_error(
                    what=f"{role} with method='2x2'",
                    expected=f"constant within each {unit!r} (the 2x2 estimator has one row per unit)",
                    found="values that vary within units",
                    fix="use method='twfe' or a unit-level cluster/weight",
                )
            )
    means = frame.groupby(["u", "p"], sort=True)["y"].mean().unstack("p")
    complete = means.notna().all(axis=1)
    dropped = int((~complete).sum())
    if dropped:
        warnings.warn(
            f"method='2x2': {dropped} of {len(means)} units lack a pre or a post observation and were dropped "
            "(use method='twfe' to keep all unit-periods)",
            O4OWarning,
            stacklevel=4,
        )
    means = means[complete]
    first = frame.groupby("u", sort=True).first()
    keep = [c for c in frame.columns if c in ("d", "c", "w") or c.startswith("g")]
    units = first.loc[means.index, keep].copy()
    units["dy"] = (means[1.0] - means[0.0]).to_numpy()
    for k in range(len(prep.covariates)):
        pre = frame[frame["p"] == 0].groupby("u")[f"x{k}"].mean()
        units[f"x{k}"] = pre.reindex(units.index).to_numpy()
    units = units.reset_index()
    if not (units["d"].nunique() == 2):
        raise DataError(
            format_error(
                what="method='2x2'",
                expected="treated and untreated units observed both before and after",
                found=f"only {sorted(units['d'].unique().tolist())} after dropping incomplete units",
                fix="use method='twfe' or check the panel",
            )
        )
    missing_cov = units[[f"x{k}" for k in range(len(prep.covariates))]].isna().any(axis=1)
    if missing_cov.any():
        raise DataError(
            format_error(
                what="covariates with method='2x2'",
                expected="pre-period values for every unit",
                found=f"{int(missing_cov.sum())} units without pre-period covariates",
                fix="drop those units or use method='twfe'",
            )
        )
    return units, dropped


def _make_estimate(
    fit: FeolsFit,
    weights: np.ndarray,
    *,
    prep: _Prepared,
    method: str,
    estimand: str,
    ci_level: float,
    n_units: int,
    dropped: int,
    formula: str,
    ssc: str,
) -> DidEstimate:
    value, se = fit.contrast(weights)
    z = _checks.z_value(ci_level)
    return DidEstimate(
        value=value,
        se=se,
        ci_low=value - z * se,
        ci_high=value + z * se,
        n=fit.n,
        method=method,
        ci_level=ci_level,
        estimand=estimand,
        n_units=n_units,
        n_clusters=fit.n_clusters,
        n_treated_clusters=prep.n_treated_clusters,
        cluster=prep.cluster,
        incomplete_units=prep.incomplete,
        dropped_units=prep.dropped + dropped,
        formula=formula,
        ssc=ssc,
    )


def did(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated: str,
    post: str,
    cluster: str | None = None,
    covariates: Sequence[str] | str | None = None,
    method: str = "twfe",
    weights: str | None = None,
    balance: bool = False,
    ssc: str = "nonnested",
    ci_level: float = config.CI_LEVEL,
) -> DidEstimate:
    """Estimate a difference-in-differences effect (2x2 or two-way fixed effects).

    Parameters
    ----------
    data
        Long panel, one row per unit and period (not modified).
    outcome
        Numeric outcome column.
    unit
        Unit identifier (e.g. ``person_id``); unit fixed effects in ``twfe``.
    time
        Period column (any sortable values); period fixed effects in ``twfe``.
    treated
        0/1 column marking the treated group; constant within unit.
    post
        0/1 column marking post-treatment periods; constant within period.
    cluster
        Cluster column for CRV1 standard errors (default: ``unit``). A cluster coarser
        than the unit with fewer than 2 treated clusters triggers a warning: see the
        module notes on Bergen as a single treated city.
    covariates
        Additional regressors: time-varying covariates (``twfe``; beware of covariates
        affected by the treatment) or pre-period unit means (``2x2``).
    method
        ``"twfe"`` or ``"2x2"`` (see the module notes, also on unbalanced panels).
    weights
        Optional column of positive analytic weights (constant within unit for ``2x2``).
    balance
        Keep only units observed in every period (count in ``dropped_units``).
    ssc
        Small-sample convention of the CRV1 covariance: ``"nonnested"`` (default) or
        ``"full"`` (counts all fixed effects; equals OLS with dummies).
    ci_level
        Interval level.

    Returns
    -------
    DidEstimate
        The effect (estimand ``"ATT"``) with design facts.

    Raises
    ------
    DataError
        Missing columns or values, non-binary ``treated``/``post``, ``treated`` varying
        within unit, duplicated unit-periods, an empty difference-in-differences cell.
    SpecificationError
        Unknown ``method`` or ``ssc``.
    """
    _checks.check_choice(method, METHODS, "method")
    _checks.check_choice(ssc, SSC_OPTIONS, "ssc")
    ci_level = _validate.ci_level(ci_level)
    prep = _prepare(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        treated=treated,
        post=post,
        cluster=cluster,
        covariates=covariates,
        weights=weights,
        balance=balance,
    )
    xs = [f"x{k}" for k in range(len(prep.covariates))]
    w = "w" if prep.weights else None
    if method == "twfe":
        frame = prep.frame.assign(dp=prep.frame["d"] * prep.frame["p"])
        fit = feols(frame, y="y", x=["dp", *xs], fe=["u", "t"], cluster="c", weights=w, ssc=ssc, required=["dp"])
        formula = f"{outcome} ~ {treated}:{post}{''.join(' + ' + c for c in prep.covariates)} | {unit} + {time}"
        n_units, dropped = int(frame["u"].nunique()), 0
    else:
        units, dropped = _unit_changes(prep, unit)
        fit = feols(units, y="dy", x=["d", *xs], fe=[], cluster="c", weights=w, ssc=ssc, required=["d"])
        formula = f"d({outcome}) ~ {treated}{''.join(' + ' + c for c in prep.covariates)}"
        n_units = len(units)
    contrast = np.zeros(len(fit.names))
    contrast[fit.index("dp" if method == "twfe" else "d")] = 1.0
    return _make_estimate(
        fit,
        contrast,
        prep=prep,
        method=f"did-{method}",
        estimand="ATT",
        ci_level=ci_level,
        n_units=n_units,
        dropped=dropped,
        formula=formula,
        ssc=ssc,
    )


def _group_labels(frame: pd.DataFrame, by: Sequence[str]) -> pd.Series:
    if len(by) == 1:
        return frame["g0"].astype(str)
    parts = [by[k] + "=" + frame[f"g{k}"].astype(str) for k in range(len(by))]
    out = parts[0]
    for part in parts[1:]:
        out = out + ", " + part
    return out


def did_by(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated: str,
    post: str,
    by: Sequence[str] | str,
    cluster: str | None = None,
    covariates: Sequence[str] | str | None = None,
    method: str = "twfe",
    weights: str | None = None,
    balance: bool = False,
    ssc: str = "nonnested",
    ci_level: float = config.CI_LEVEL,
) -> SubgroupDid:
    """Estimate difference-in-differences effects per subgroup with a joint equality test.

    One model: a treated-post indicator per group, unit effects and ``time x group``
    effects (``twfe``), or the change regression with group intercepts and a treated
    indicator per group (``2x2``). Without covariates the coefficients equal separate
    regressions per group; with covariates they do not (the covariate slopes are common
    to all groups). The joint CRV1 covariance gives the Wald test of equal effects.

    Parameters
    ----------
    data, outcome, unit, time, treated, post, cluster, covariates, method, weights, balance, ssc, ci_level
        As in :func:`did`.
    by
        Grouping column(s), constant within unit (define groups at baseline: group
        membership changed by the treatment would bias the comparison). Several columns
        give their combinations, labelled ``"col=value, col=value"``.

    Returns
    -------
    SubgroupDid
        Effects per group (estimand ``"ATT[<label>]"``) and the equality test.

    Raises
    ------
    DataError
        As :func:`did`; also a group varying within unit, or a group without treated or
        untreated units before and after.
    """
    _checks.check_choice(method, METHODS, "method")
    _checks.check_choice(ssc, SSC_OPTIONS, "ssc")
    ci_level = _validate.ci_level(ci_level)
    by_cols = _validate.column_names(by, "by")
    if not by_cols:
        raise SpecificationError(
            format_error(what="by", expected="at least one column", found="none", fix="pass by='children'")
        )
    prep = _prepare(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        treated=treated,
        post=post,
        cluster=cluster,
        covariates=covariates,
        weights=weights,
        balance=balance,
        group=by_cols,
    )
    frame = prep.frame.assign(label=_group_labels(prep.frame, by_cols))
    _checks.constant_within(
        frame, "label", "u", f"by {by_cols}", "define the groups at baseline (e.g. the value in the last pre-period)"
    )
    labels = sorted(frame["label"].unique().tolist())
    if len(labels) < 2:
        raise DataError(
            format_error(what=f"by {by_cols}", expected="at least 2 groups", found=f"{labels}", fix="use did(...)")
        )
    for label in labels:
        sub = frame[frame["label"] == label]
        for dv in (0.0, 1.0):
            for pv in (0.0, 1.0):
                if not ((sub["d"] == dv) & (sub["p"] == pv)).any():
                    raise DataError(
                        format_error(
                            what=f"group {label!r} of by {by_cols}",
                            expected="observations in all four cells (treated/untreated x before/after)",
                            found=f"none with {treated}={int(dv)}, {post}={int(pv)}",
                            fix="merge small groups or drop the group",
                        )
                    )
    gcode = frame["label"].map({lab: k for k, lab in enumerate(labels)}).to_numpy()
    xs = [f"x{k}" for k in range(len(prep.covariates))]
    w = "w" if prep.weights else None
    effect_cols = [f"dp{k}" for k in range(len(labels))]
    if method == "twfe":
        cols = {f"dp{k}": frame["d"] * frame["p"] * (gcode == k) for k in range(len(labels))}
        work = frame.assign(**cols, tg=frame["t"].to_numpy() * len(labels) + gcode)
        fit = feols(
            work, y="y", x=[*effect_cols, *xs], fe=["u", "tg"], cluster="c", weights=w, ssc=ssc, required=effect_cols
        )
        n_units = [int(work.loc[gcode == k, "u"].nunique()) for k in range(len(labels))]
        dropped = 0
    else:
        units, dropped = _unit_changes(prep, unit)
        ucode = units["u"].map(pd.Series(gcode, index=frame["u"].to_numpy()).groupby(level=0).first()).to_numpy()
        cols = {f"dp{k}": units["d"] * (ucode == k) for k in range(len(labels))}
        work = units.assign(**cols, grp=ucode)
        fit = feols(
            work, y="dy", x=[*effect_cols, *xs], fe=["grp"], cluster="c", weights=w, ssc=ssc, required=effect_cols
        )
        n_units = [int((ucode == k).sum()) for k in range(len(labels))]
    positions = [fit.index(c) for c in effect_cols]
    estimates: dict[str, DidEstimate] = {}
    for k, label in enumerate(labels):
        contrast = np.zeros(len(fit.names))
        contrast[positions[k]] = 1.0
        est = _make_estimate(
            fit,
            contrast,
            prep=prep,
            method=f"did-{method}",
            estimand=f"ATT[{label}]",
            ci_level=ci_level,
            n_units=n_units[k],
            dropped=dropped,
            formula=f"{outcome} ~ {treated}:{post}:{'^'.join(by_cols)} | {unit} + {time}^{'^'.join(by_cols)}",
            ssc=ssc,
        )
        estimates[label] = est
    restriction = np.zeros((len(labels) - 1, len(fit.names)))
    for k in range(1, len(labels)):
        restriction[k - 1, positions[k]] = 1.0
        restriction[k - 1, positions[0]] = -1.0
    equality = fit.wald(restriction, what="did_by equality test")
    vcov = fit.vcov[np.ix_(positions, positions)].copy()
    vcov.setflags(write=False)
    return SubgroupDid(estimates=MappingProxyType(estimates), equality=equality, by=tuple(by_cols), vcov=vcov)


def ddd(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated: str,
    post: str,
    group: str,
    cluster: str | None = None,
    covariates: Sequence[str] | str | None = None,
    weights: str | None = None,
    balance: bool = False,
    ssc: str = "nonnested",
    ci_level: float = config.CI_LEVEL,
) -> DidEstimate:
    """Estimate a triple difference: how much larger the effect is in ``group`` than outside it.

    ``y_it = a_i + l_{t,treated} + m_{t,group} + b * treated_i * group_i * post_t (+ x_it' g)``:
    ``b`` is the difference-in-differences in group 1 minus that in group 0, with the
    treated units' own period effects (``l_{t,treated}``) differencing out shocks common
    to all groups of the treated units (e.g. a Bergen-wide shock).

    Parameters
    ----------
    data, outcome, unit, time, treated, post, cluster, covariates, weights, balance, ssc, ci_level
        As in :func:`did` (two-way fixed effects only).
    group
        0/1 column of the subgroup (e.g. ``children``), constant within unit.

    Returns
    -------
    DidEstimate
        Estimand ``"DDD[<group>]"``.
    """
    _checks.check_choice(ssc, SSC_OPTIONS, "ssc")
    ci_level = _validate.ci_level(ci_level)
    _checks.check_name(group, "group")
    prep = _prepare(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        treated=treated,
        post=post,
        cluster=cluster,
        covariates=covariates,
        weights=weights,
        balance=balance,
        group=[group],
    )
    frame = prep.frame
    g = _checks.binary(frame, "g0", "group").astype(float)
    g_named = pd.Series(g, index=frame.index)
    _checks.constant_within(frame.assign(g0=g_named), "g0", "u", f"group {group!r}", "define the group at baseline")
    n_t = int(frame["t"].max()) + 1
    work = frame.assign(
        dpg=frame["d"] * frame["p"] * g,
        td=frame["t"] + n_t * frame["d"].astype(np.int64),
        tg=frame["t"] + n_t * g.astype(np.int64),
    )
    xs = [f"x{k}" for k in range(len(prep.covariates))]
    fit = feols(
        work,
        y="y",
        x=["dpg", *xs],
        fe=["u", "td", "tg"],
        cluster="c",
        weights="w" if prep.weights else None,
        ssc=ssc,
        required=["dpg"],
    )
    contrast = np.zeros(len(fit.names))
    contrast[fit.index("dpg")] = 1.0
    return _make_estimate(
        fit,
        contrast,
        prep=prep,
        method="ddd-twfe",
        estimand=f"DDD[{group}]",
        ci_level=ci_level,
        n_units=int(work["u"].nunique()),
        dropped=0,
        formula=f"{outcome} ~ {treated}:{group}:{post} | {unit} + {time}^{treated} + {time}^{group}",
        ssc=ssc,
    )


__all__ = ["DidEstimate", "SubgroupDid", "ddd", "did", "did_by"]

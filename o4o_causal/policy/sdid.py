"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021).

For one treated unit (the Bergen design), with ``N0`` donors, ``T0`` pre and ``T1`` post periods:

* noise level ``sigma`` = standard deviation (``ddof=1``) of the donors' first differences
  over the pre period; ``zeta = (N_tr * T1)^(1/4) * sigma``;
* unit weights: ``min_{w0, w in simplex} sum_{t <= T0} (w0 + sum_j w_j Y_jt - Y_tr,t)^2
  + zeta^2 T0 ||w||^2``;
* time weights: ``min_{l0, l in simplex} sum_j (l0 + sum_{t <= T0} l_t Y_jt - mean_post Y_j)^2
  + (1e-6 sigma)^2 N0 ||l||^2``;
* ``tau = (mean_post Y_tr - sum_t l_t Y_tr,t) - sum_j w_j (mean_post Y_j - sum_t l_t Y_jt)``.

Both weight problems are solved exactly (active-set QP of
:mod:`o4o_causal.policy._simplex`), not by the Frank-Wolfe iterations with
sparsification of the R package ``synthdid``: estimates agree with ``synthdid`` up to
its optimisation tolerance, not to machine precision. With uniform unit and time
weights ``tau`` is the difference-in-differences of means (``weights="uniform"``).

Standard error: the placebo variance of Algorithm 4 with every donor, in turn, as the
placebo treated unit among the remaining donors (exhaustive and therefore
deterministic instead of ``B`` random draws): ``V = mean_j (tau_j - mean tau)^2``.
Each placebo re-estimates its weights *and* its ``zeta`` (noise level of its own
donors), as in Algorithm 4 of the paper; the R package's ``synthdid::placebo_se``
keeps the original fit's ``zeta``, so its standard errors can differ slightly.
With few donors this variance is itself imprecise (nine cities: nine placebo
estimates), and it assumes homoskedasticity across units.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from o4o_causal import _validate, config
from o4o_causal.policy import _checks
from o4o_causal.policy._simplex import simplex_least_squares
from o4o_causal.results import Estimate

WEIGHTS = ("optimal", "uniform")


@dataclass(frozen=True)
class SdidResult:
    """Synthetic difference-in-differences (Arkhangelsky et al. 2021) for one treated unit.

    Attributes
    ----------
    estimate
        The ATT with its placebo standard error and normal interval.
    unit_weights
        Donor weights (simplex), indexed by donor.
    time_weights
        Pre-period weights (simplex), indexed by period.
    unit_intercept, time_intercept
        The free intercepts of the two weight problems.
    zeta
        Ridge regularisation of the unit weights, ``(N_tr T_post)^(1/4) sigma``.
    placebo_estimates
        Estimate with each donor as the (placebo) treated unit, indexed by donor.
    """

    estimate: Estimate
    unit_weights: pd.Series
    time_weights: pd.Series
    unit_intercept: float
    time_intercept: float
    zeta: float
    placebo_estimates: pd.Series = field(repr=False)


def _noise(y_donors_pre: np.ndarray) -> float:
    diffs = np.diff(y_donors_pre, axis=0)
    return float(np.std(diffs, ddof=1)) if diffs.size > 1 else 0.0


def _sdid_point(
    y: np.ndarray, treated: int, donors: np.ndarray, t0: int, weights: str
) -> tuple[float, np.ndarray, np.ndarray, float, float, float]:
    """Return tau, unit weights, time weights, intercepts and zeta for one treated column."""
    pre, post = y[:t0], y[t0:]
    n0, t1 = len(donors), post.shape[0]
    sigma = _noise(pre[:, donors])
    zeta = (1.0 * t1) ** 0.25 * sigma
    if weights == "uniform":
        omega, lam = np.full(n0, 1.0 / n0), np.full(t0, 1.0 / t0)
        w0 = float(np.mean(pre[:, treated]) - np.mean(pre[:, donors]))
        l0 = float(np.mean(post[:, donors]) - np.mean(pre[:, donors]))
    else:
        unit_fit = simplex_least_squares(pre[:, donors], pre[:, treated], ridge=zeta**2 * t0, intercept=True)
        time_fit = simplex_least_squares(
            pre[:, donors].T, post[:, donors].mean(axis=0), ridge=(1e-6 * sigma) ** 2 * n0, intercept=True
        )
        omega, lam = unit_fit.weights, time_fit.weights
        w0, l0 = unit_fit.intercept, time_fit.intercept
    treated_diff = post[:, treated].mean() - lam @ pre[:, treated]
    donor_diff = post[:, donors].mean(axis=0) - lam @ pre[:, donors]
    tau = float(treated_diff - omega @ donor_diff)
    return tau, omega, lam, w0, l0, zeta


def _sdid_matrix(
    y: np.ndarray,
    units: np.ndarray,
    periods: pd.Index,
    treated: int,
    donors: np.ndarray,
    t0: int,
    *,
    weights: str = "optimal",
    ci_level: float = config.CI_LEVEL,
) -> SdidResult:
    tau, omega, lam, w0, l0, zeta = _sdid_point(y, treated, donors, t0, weights)
    placebo = (
        np.array([_sdid_point(y, int(j), np.delete(donors, k), t0, weights)[0] for k, j in enumerate(donors)])
        if len(donors) >= 2
        else np.array([])
    )
    se = float(np.sqrt(np.mean((placebo - placebo.mean()) ** 2))) if placebo.size >= 2 else math.nan
    estimate = Estimate.from_normal(
        tau,
        se,
        n=1 + len(donors),
        method=f"sdid{'-uniform' if weights == 'uniform' else ''}",
        ci_level=ci_level,
        estimand="ATT[treated unit, post-period mean]",
    )
    return SdidResult(
        estimate=estimate,
        unit_weights=pd.Series(omega, index=pd.Index(units[donors]), name="unit_weight"),
        time_weights=pd.Series(lam, index=pd.Index(periods[:t0]), name="time_weight"),
        unit_intercept=w0,
        time_intercept=l0,
        zeta=zeta,
        placebo_estimates=pd.Series(placebo, index=pd.Index(units[donors][: placebo.size]), name="placebo_att"),
    )


def synthetic_did(
    data: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    treated_unit: object,
    treatment_time: object,
    donors: Sequence[object] | None = None,
    weights: str = "optimal",
    min_pre_periods: int = 3,
    ci_level: float = config.CI_LEVEL,
) -> SdidResult:
    """Estimate synthetic difference-in-differences for one treated unit.

    Parameters
    ----------
    data, outcome, unit, time, treated_unit, treatment_time, donors, min_pre_periods
        As in :func:`~o4o_causal.policy.synthetic_control` (balanced long panel).
    weights
        ``"optimal"`` (the SDID weights) or ``"uniform"`` (equal unit and time weights:
        the plain difference-in-differences of means, for comparison).
    ci_level
        Interval level.

    Returns
    -------
    SdidResult

    Raises
    ------
    DataError, SpecificationError
        As :func:`~o4o_causal.policy.synthetic_control` (including ``min_pre_periods``
        below :data:`~o4o_causal.policy.synthetic.MIN_PRE_PERIODS` or not an integer).
    """
    from o4o_causal.policy.synthetic import _wide, check_min_pre_periods

    _checks.check_choice(weights, WEIGHTS, "weights")
    min_pre_periods = check_min_pre_periods(min_pre_periods)
    ci_level = _validate.ci_level(ci_level)
    wide = _wide(
        data,
        outcome=outcome,
        unit=unit,
        time=time,
        treated_unit=treated_unit,
        treatment_time=treatment_time,
        donors=donors,
        covariates=[],
        min_pre_periods=min_pre_periods,
    )
    return _sdid_matrix(
        wide.y, wide.units, wide.periods, wide.treated, wide.donors, wide.t0, weights=weights, ci_level=ci_level
    )


__all__ = ["SdidResult", "synthetic_did"]

"""E-values (VanderWeele & Ding 2017): confounding strength needed to explain an effect away.

The E-value is the minimum strength of association, on the risk-ratio scale, that an
unmeasured confounder would need with both the treatment and the outcome (given the
measured covariates) to fully explain away an observed risk ratio ``RR``:
``E = RR + sqrt(RR (RR - 1))`` (with ``1/RR`` when ``RR < 1``). Effects on other scales are
converted first: a risk difference with the untreated (baseline) risk ``p0`` to
``RR = (p0 + RD) / p0``; a mean difference on a continuous outcome to the standardised
difference ``d = ATE / sd`` and ``RR ~ exp(0.91 d)``. The E-value of the interval is that
of the limit closer to the null (1 when the interval contains the null).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.results import Estimate

OutcomeType = Literal["binary", "continuous"]
#: Risk-ratio approximation of a standardised mean difference d: RR ~ exp(0.91 d).
SMD_TO_LOG_RR = 0.91


@dataclass(frozen=True)
class EValue:
    """E-value of a point estimate and of the interval limit closer to the null."""

    point: float
    ci: float  # 1 when the interval contains the null, NaN without an interval
    rr: float  # risk ratio of the point estimate
    rr_ci: float  # risk ratio of the limit closer to the null (1 when the interval contains it)
    outcome_type: str


def e_value_rr(rr: float) -> float:
    """Return the E-value of a risk ratio: ``RR + sqrt(RR (RR - 1))`` (``1/RR`` first when ``RR < 1``)."""
    if not rr > 0:
        raise DataError(format_error(what="risk ratio", expected="> 0", found=repr(rr), fix="check the estimate"))
    r = rr if rr >= 1.0 else 1.0 / rr
    return r + math.sqrt(r * (r - 1.0))


def _to_rr(value: float, outcome_type: str, baseline_risk: float | None, sd_outcome: float | None) -> float:
    if outcome_type == "binary":
        if baseline_risk is None or not 0.0 < baseline_risk < 1.0:
            raise SpecificationError(
                format_error(
                    what="baseline_risk",
                    expected="the untreated risk in (0, 1) for a binary outcome",
                    found=repr(baseline_risk),
                    fix="pass baseline_risk=mean outcome among the untreated",
                )
            )
        treated_risk = baseline_risk + value
        if not 0.0 < treated_risk <= 1.0:
            raise DataError(
                format_error(
                    what="risk difference",
                    expected="baseline_risk + effect in (0, 1]",
                    found=f"{baseline_risk:.4g} + {value:.4g}",
                    fix="check baseline_risk (the untreated risk) and the effect scale",
                )
            )
        return treated_risk / baseline_risk
    if outcome_type == "continuous":
        if sd_outcome is None or not sd_outcome > 0:
            raise SpecificationError(
                format_error(
                    what="sd_outcome",
                    expected="a positive outcome standard deviation for a continuous outcome",
                    found=repr(sd_outcome),
                    fix="pass sd_outcome=data[outcome].std()",
                )
            )
        return math.exp(SMD_TO_LOG_RR * value / sd_outcome)
    raise SpecificationError(
        format_error(
            what="outcome_type", expected="'binary' or 'continuous'", found=repr(outcome_type), fix="choose one"
        )
    )


def e_value(
    estimate: Estimate | float,
    *,
    outcome_type: OutcomeType,
    baseline_risk: float | None = None,
    sd_outcome: float | None = None,
) -> EValue:
    """Return the E-value of an average treatment effect (VanderWeele & Ding 2017).

    Parameters
    ----------
    estimate
        The ATE (an :class:`Estimate` also gives the interval, or a plain number).
    outcome_type
        ``"binary"``: the ATE is a risk difference, converted to a risk ratio
        ``(p0 + ATE) / p0`` with ``p0 = baseline_risk``. ``"continuous"``: standardised
        difference ``d = ATE / sd_outcome`` and ``RR ~ exp(0.91 d)``.
    baseline_risk, sd_outcome
        Untreated risk (binary) or outcome standard deviation (continuous).

    Returns
    -------
    EValue
        E-values of the point estimate and of the interval limit closer to the null.
    """
    value = float(estimate.value if isinstance(estimate, Estimate) else estimate)
    rr = _to_rr(value, outcome_type, baseline_risk, sd_outcome)
    lo, hi = (estimate.ci_low, estimate.ci_high) if isinstance(estimate, Estimate) else (math.nan, math.nan)
    if math.isnan(lo) or math.isnan(hi):
        rr_ci, e_ci = math.nan, math.nan
    elif lo <= 0.0 <= hi:
        rr_ci, e_ci = 1.0, 1.0
    else:
        rr_ci = _to_rr(lo if value > 0 else hi, outcome_type, baseline_risk, sd_outcome)
        e_ci = e_value_rr(rr_ci)
    return EValue(point=e_value_rr(rr), ci=e_ci, rr=rr, rr_ci=rr_ci, outcome_type=outcome_type)

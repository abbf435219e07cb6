"""The shared, immutable :class:`Estimate` result type.

Every module that returns a single effect estimate (DAG models, double ML, Bayesian
models, difference-in-differences, ...) returns an :class:`Estimate`, so results can
be tabulated, compared with ground truth and recorded in a run in one way.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
from scipy import stats

from o4o_causal import config
from o4o_causal.exceptions import DataError, format_error


def _check_finite_or_nan(name: str, value: float) -> None:
    if math.isinf(value):
        raise DataError(
            format_error(
                what=f"Estimate.{name}",
                expected="a finite number (or NaN when not available)",
                found=repr(value),
                fix="check the estimator output; infinite values mean a failed fit",
            )
        )


@dataclass(frozen=True, slots=True)
class Estimate:
    """A point estimate with its uncertainty.

    Parameters
    ----------
    value
        Point estimate (for example an average treatment effect).
    se
        Standard error (posterior standard deviation for Bayesian estimates); NaN
        when the method gives none.
    ci_low, ci_high
        Interval bounds at level ``ci_level``.
    n
        Number of observations (persons, or units for aggregate designs) used.
    method
        Short name of the method, e.g. ``"ipw"`` or ``"dml-clustered"``.
    ci_level
        Level of the interval.
    estimand
        What is estimated, e.g. ``"ATE"``, ``"ATT"``, ``"GATE[country=NO]"``.
    """

    value: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    method: str
    ci_level: float = config.CI_LEVEL
    estimand: str = "ATE"

    def __post_init__(self) -> None:
        for name in ("value", "se", "ci_low", "ci_high", "ci_level"):
            object.__setattr__(self, name, float(getattr(self, name)))
            _check_finite_or_nan(name, getattr(self, name))
        object.__setattr__(self, "n", int(self.n))
        if self.se < 0:
            raise DataError(
                format_error(
                    what="Estimate.se",
                    expected="a non-negative standard error",
                    found=repr(self.se),
                    fix="pass the standard error, not a signed quantity",
                )
            )
        if self.n < 0:
            raise DataError(format_error(what="Estimate.n", expected="n >= 0", found=repr(self.n), fix="pass a count"))
        if not 0.0 < self.ci_level < 1.0:
            raise DataError(
                format_error(
                    what="Estimate.ci_level",
                    expected="a level strictly between 0 and 1",
                    found=repr(self.ci_level),
                    fix="use e.g. 0.95",
                )
            )
        bounds = (self.ci_low, self.value, self.ci_high)
        if not any(math.isnan(b) for b in bounds) and not self.ci_low <= self.value <= self.ci_high:
            raise DataError(
                format_error(
                    what="Estimate interval",
                    expected="ci_low <= value <= ci_high",
                    found=f"ci_low={self.ci_low!r}, value={self.value!r}, ci_high={self.ci_high!r}",
                    fix="check the order of the interval bounds",
                )
            )

    @classmethod
    def from_normal(
        cls,
        value: float,
        se: float,
        *,
        n: int,
        method: str,
        ci_level: float = config.CI_LEVEL,
        estimand: str = "ATE",
    ) -> Estimate:
        """Build an estimate with a normal (Wald) interval ``value ± z·se``.

        Parameters
        ----------
        value, se
            Point estimate and standard error.
        n
            Number of observations.
        method
            Method name.
        ci_level
            Interval level.
        estimand
            What is estimated.

        Returns
        -------
        Estimate
            The estimate with a symmetric normal interval.
        """
        z = float(stats.norm.ppf(0.5 + ci_level / 2.0))
        return cls(
            value=value,
            se=se,
            ci_low=value - z * se,
            ci_high=value + z * se,
            n=n,
            method=method,
            ci_level=ci_level,
            estimand=estimand,
        )

    @property
    def p_value(self) -> float:
        """Two-sided normal p-value of ``value = 0`` (NaN without a standard error)."""
        if math.isnan(self.se) or self.se == 0.0:
            return math.nan
        return float(2.0 * stats.norm.sf(abs(self.value / self.se)))

    def covers(self, truth: float) -> bool:
        """Return whether the interval contains ``truth``."""
        return bool(self.ci_low <= truth <= self.ci_high)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain, JSON-serialisable dictionary."""
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """Return a one-row DataFrame with the fields and the p-value."""
        row = self.to_dict() | {"p_value": self.p_value}
        return pd.DataFrame([row])

    def summary(self) -> pd.DataFrame:
        """Return the same table as :meth:`to_frame` (suite convention)."""
        return self.to_frame()

    def __repr__(self) -> str:
        """Readable one-line representation."""
        pct = round(100 * self.ci_level)
        return (
            f"Estimate({self.estimand} = {self.value:.4g}, se = {self.se:.3g}, "
            f"{pct}% CI [{self.ci_low:.4g}, {self.ci_high:.4g}], n = {self.n}, method = {self.method!r})"
        )

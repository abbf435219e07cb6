import dataclasses
import math

import numpy as np
import pytest
from scipy import stats

from o4o_causal import DataError, Estimate


def test_from_normal_interval_matches_scipy() -> None:
    est = Estimate.from_normal(1.3, 0.4, n=100, method="m", ci_level=0.9)
    lo, hi = stats.norm.interval(0.9, loc=1.3, scale=0.4)
    np.testing.assert_allclose([est.ci_low, est.ci_high], [lo, hi], rtol=1e-12)
    np.testing.assert_allclose(est.p_value, 2 * stats.norm.sf(1.3 / 0.4), rtol=1e-10)


def test_estimate_is_immutable() -> None:
    est = Estimate.from_normal(0.0, 1.0, n=1, method="m")
    with pytest.raises(dataclasses.FrozenInstanceError):
        est.value = 3.0  # type: ignore[misc]


def test_to_frame_has_contract_columns() -> None:
    est = Estimate(value=0.1, se=0.02, ci_low=0.06, ci_high=0.14, n=500, method="ipw", estimand="ATT")
    frame = est.to_frame()
    assert list(frame.columns[:6]) == ["value", "se", "ci_low", "ci_high", "n", "method"]
    assert frame.shape == (1, 9)
    assert frame.loc[0, "estimand"] == "ATT"
    assert est.summary().equals(frame)
    assert "ATT = 0.1" in repr(est) and "95% CI [0.06, 0.14]" in repr(est)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"se": -1.0}, "Estimate.se: expected a non-negative"),
        ({"ci_low": 0.5, "ci_high": 0.2}, "ci_low <= value <= ci_high"),
        ({"value": math.inf}, "Estimate.value: expected a finite number"),
        ({"ci_level": 95}, "Estimate.ci_level"),
        ({"n": -3}, "Estimate.n"),
    ],
)
def test_invalid_estimates_are_refused(kwargs: dict[str, float], match: str) -> None:
    base = {"value": 0.3, "se": 0.1, "ci_low": 0.1, "ci_high": 0.5, "n": 10, "method": "m"}
    with pytest.raises(DataError, match=match):
        Estimate(**(base | kwargs))  # type: ignore[arg-type]


def test_nan_fields_allowed_for_methods_without_se() -> None:
    est = Estimate(value=0.3, se=math.nan, ci_low=math.nan, ci_high=math.nan, n=10, method="point")
    assert math.isnan(est.p_value)
    assert not est.covers(0.3)


def test_covers() -> None:
    est = Estimate.from_normal(0.0, 1.0, n=1, method="m")
    assert est.covers(1.9) and not est.covers(2.0)

"""Safe descriptives: no min/max, DST-style percentiles, merged histogram bins, suppressed binned counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from o4o_causal.exceptions import DataError, SpecificationError
from o4o_causal.sdc.descriptives import binned_counts, histogram_table, safe_describe, safe_percentiles


@pytest.fixture
def data() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame(
        {
            "age": rng.normal(40, 10, n).round(),
            "income": rng.lognormal(10, 1, n),
            "group": rng.choice(["a", "b", "c"], n, p=[0.5, 0.48, 0.02]),
        }
    )


def test_percentile_is_mean_of_threshold_nearest_ranks() -> None:
    values = pd.Series(np.arange(1.0, 21.0))  # 1..20
    out = safe_percentiles(values, [0.5, 0.25, 0.1], threshold=5)
    # median rank 9.5 -> ranks 7..11 (values 8..12), mean 10
    assert out[0.5] == pytest.approx(10.0)
    # p25 rank 4.75: 5 at or below, 15 above -> ranks 3..7 (values 4..8), mean 6
    assert out[0.25] == pytest.approx(6.0)
    # p10 rank 1.9: only 2 persons at or below -> not reported
    assert np.isnan(out[0.1])
    assert safe_percentiles(values, 0.5, threshold=3).iloc[0] == pytest.approx(np.mean([9.0, 10.0, 11.0]))
    assert values.iloc[0] == 1.0  # input untouched


def test_percentiles_never_a_single_value_and_presets() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0, 100.0, 200.0, 300.0, 400.0, 500.0, 1000.0, 2000.0])
    assert safe_percentiles(values, 0.5, threshold="ssb").iloc[0] == pytest.approx((100 + 200 + 300) / 3)
    assert np.isnan(safe_percentiles(values, 0.5, threshold="acro").iloc[0])


def test_safe_describe_has_no_min_max_and_suppresses_small_groups(data: pd.DataFrame) -> None:
    out = safe_describe(data)
    assert list(out.columns) == ["count", "mean", "sd", "p10", "p25", "p50", "p75", "p90"]
    assert "min" not in out.columns and "max" not in out.columns
    assert list(out.index) == ["age", "income"]
    assert out.loc["age", "count"] == 200
    assert out.loc["age", "mean"] == pytest.approx(data["age"].mean())
    assert out.loc["age", "sd"] == pytest.approx(data["age"].std())
    assert data["age"].min() < out.loc["age", "p10"] < out.loc["age", "p90"] < data["age"].max()
    grouped = safe_describe(data, ["age"], by="group")
    assert grouped.index.names == ["group", "variable"]
    small = grouped.loc[("c", "age")]
    assert (data["group"] == "c").sum() < 5 and small.isna().all()
    assert grouped.loc[("a", "age"), "count"] == (data["group"] == "a").sum()


def test_safe_describe_bad_input(data: pd.DataFrame) -> None:
    with pytest.raises(DataError, match="'nope'"):
        safe_describe(data, ["nope"])
    with pytest.raises(DataError, match="'group'"):
        safe_describe(data, ["group"])
    with pytest.raises(DataError, match="DataFrame"):
        safe_describe(data["age"])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="'grp'"):
        safe_describe(data, by="grp")
    with pytest.raises(SpecificationError, match="threshold"):
        safe_describe(data, threshold=-1)


@pytest.mark.parametrize("q", [0.0, 1.0, 1.5, [], "0.5", True])
def test_safe_percentiles_bad_q(q: object) -> None:
    with pytest.raises(SpecificationError, match="q"):
        safe_percentiles([1.0, 2.0], q)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("values", "match"),
    [(pd.DataFrame({"a": [1]}), "1-D"), (["a", "b"], "numeric"), ([1.0, np.inf], "finite"), ("abc", "1-D")],
)
def test_values_bad_input(values: object, match: str) -> None:
    with pytest.raises(DataError, match=match):
        safe_percentiles(values, 0.5)


def test_histogram_bins_merged_to_threshold_and_edges_not_min_max(data: pd.DataFrame) -> None:
    out = histogram_table(data["age"], 20)
    assert list(out.columns) == ["left", "right", "count"]
    assert (out["count"] >= 5).all() and out["count"].sum() == 200
    assert out["left"].iloc[0] <= data["age"].min() and out["right"].iloc[-1] >= data["age"].max()
    assert out["left"].iloc[0] != data["age"].min() or data["age"].min() % 2.5 == 0  # a grid point
    assert (out["left"].iloc[1:].to_numpy() == out["right"].iloc[:-1].to_numpy()).all()


def test_histogram_hand_case() -> None:
    values = [0.5] * 2 + [1.5] * 6 + [2.5] * 7 + [4.5] * 3
    out = histogram_table(values, [0, 1, 2, 3, 4, 5], threshold=5)
    # bins 2 | 6 | 7 | 0 | 3 -> [0,2) 8, [2,5) 10 (the short tail joins across the empty bin)
    assert out[["left", "right"]].to_numpy().tolist() == [[0, 2], [2, 5]]
    assert out["count"].tolist() == [8, 10]
    tiny = histogram_table([1.0, 2.0, 3.0], 3, threshold=5)
    assert len(tiny) == 1 and tiny["count"].isna().all()
    with pytest.raises(DataError, match="outside"):
        histogram_table(values, [1, 2, 3])
    with pytest.raises(SpecificationError, match="bins"):
        histogram_table(values, [3, 2, 1])
    with pytest.raises(SpecificationError, match="bins"):
        histogram_table(values, 0)
    with pytest.raises(DataError, match="at least one"):
        histogram_table([np.nan])


def test_histogram_of_too_few_persons_shows_no_edges() -> None:
    # two incomes: the merged bin's edges would bound both persons' values
    out = histogram_table(pd.Series([312000.0, 455000.0]), 10, threshold=5)
    assert out[["left", "right"]].isna().all().all() and out["count"].isna().all()


def test_histogram_constant_values() -> None:
    out = histogram_table(np.full(10, 7.0), 5)
    assert out["count"].tolist() == [10] and out["left"].iloc[0] <= 7 <= out["right"].iloc[0]


def test_binned_counts_hides_small_cells() -> None:
    x = pd.Series([0.5] * 10 + [1.5] * 2 + [0.5] * 6, name="x")
    y = pd.Series([0.5] * 10 + [0.5] * 2 + [1.5] * 6, name="y")
    out = binned_counts(x, y, bins=([0, 1, 2], [0, 1, 2]), threshold=5)
    assert out.shape == (2, 2) and out.index.name == "x" and out.columns.name == "y"
    assert out.iloc[0, 0] == 10 and out.iloc[0, 1] == 6 and pd.isna(out.iloc[1, 0]) and out.iloc[1, 1] == 0
    protected = binned_counts(x, y, bins=([0, 1, 2], [0, 1, 2]), threshold=5, margins="known")
    assert protected.isna().to_numpy().sum() >= 2
    assert binned_counts(x, y, bins=2).sum().sum() >= 10
    with pytest.raises(DataError, match="equal length"):
        binned_counts(x, y[:-1])
    with pytest.raises(DataError, match="complete pairs"):
        binned_counts([np.nan], [1.0])

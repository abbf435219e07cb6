import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from o4o_causal import DataError, describe, plotting
from o4o_causal.synth import generate_world


@pytest.fixture(scope="module")
def world():  # type: ignore[no-untyped-def]
    return generate_world("small", seed=2)


def test_configuration_shares_by_country(world) -> None:  # type: ignore[no-untyped-def]
    shares = describe.configuration_shares(world.municipalities)
    assert list(shares.columns) == ["NO", "SE", "DK"]
    assert shares.loc["municipalities"].tolist() == [356, 290, 98]
    assert shares.loc["rehabilitation_team", "DK"] == 1.0 and shares.loc["rehabilitation_team", "NO"] == 0.0
    # the systems differ as planted: NAV co-location vs Swedish fragmentation
    assert shares.loc["co_location", "NO"] > 0.8 > 0.4 > shares.loc["co_location", "SE"]
    expected = world.municipalities.loc[world.municipalities["country"] == "SE", "shared_it"].mean()
    assert shares.loc["shared_it", "SE"] == pytest.approx(expected, rel=1e-12)
    ax = plotting.configuration_heatmap(shares)
    assert len(ax.texts) == 9 * 3
    plt.close("all")


def test_cohort_sizes_suppress_small_counts() -> None:
    persons = pd.DataFrame({"cohort": ["a"] * 7 + ["b"] * 2, "country": ["NO"] * 7 + ["SE"] * 2})
    table = describe.cohort_sizes(persons, min_count=5)
    assert table.loc["a", "NO"] == 7 and pd.isna(table.loc["b", "SE"])


def test_state_distribution_hand_computed() -> None:
    seq = pd.DataFrame({"m01": ["WAA", "WAA", "EMP", "WAA"], "m02": ["WAA", "EMP", "EMP", None]})
    dist = describe.state_distribution(seq, min_count=1)
    assert dist.loc[1, "WAA"] == 0.75 and dist.loc[1, "EMP"] == 0.25 and dist.loc[1, "n"] == 4
    assert dist.loc[2, "EMP"] == pytest.approx(2 / 3) and dist.loc[2, "n"] == 3
    np.testing.assert_allclose(dist.drop(columns="n").sum(axis=1), 1.0)
    assert list(describe.state_distribution(seq, min_count=4).index) == [1]
    with pytest.raises(DataError, match="month columns"):
        describe.state_distribution(pd.DataFrame({"x": [1]}))
    ax = plotting.chronogram(dist)
    assert len(ax.collections) == 2
    plt.close("all")


def test_calibration_plot(world) -> None:  # type: ignore[no-untyped-def]
    ax = plotting.calibration_plot(world.calibration())
    assert len(ax.get_yticks()) == (world.calibration()["band_high"] > world.calibration()["band_low"]).sum()
    plt.close("all")

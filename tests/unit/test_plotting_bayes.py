import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection

from o4o_causal import config, plotting
from o4o_causal.exceptions import DataError, SpecificationError

T = config.DISCLOSURE.threshold


@pytest.fixture(autouse=True)
def _close():  # type: ignore[no-untyped-def]
    yield
    plt.close("all")


def _by_gid(ax, gid: str):  # type: ignore[no-untyped-def]
    found = [c for c in ax.collections if c.get_gid() == gid]
    assert len(found) == 1, f"{gid}: {len(found)} collections"
    return found[0]


def _segments(ax, gid: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    coll = _by_gid(ax, gid)
    assert isinstance(coll, LineCollection)
    return np.array([np.asarray(s, dtype=float) for s in coll.get_segments()]).reshape(-1, 2, 2)


def _offsets(ax, gid: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    coll = _by_gid(ax, gid)
    assert isinstance(coll, PathCollection)
    return np.asarray(coll.get_offsets(), dtype=float).reshape(-1, 2)


def _municipalities() -> pd.DataFrame:
    """A group_effects('municipality') table: 2 countries, 2 small municipalities (one per country)."""
    rows = [
        # group, country, persons, mean
        ("A1", "A", 50, 0.30),
        ("A2", "A", 20, -0.10),
        ("A3", "A", T - 1, 0.90),  # small
        ("A4", "A", 100, 0.05),
        ("B1", "B", 40, 0.20),
        ("B2", "B", 1, -0.70),  # small
        ("B3", "B", 60, 0.00),
    ]
    table = pd.DataFrame(rows, columns=["group", "country", "persons", "mean"])
    table["sd"] = 0.05
    table["ci_low"] = table["mean"] - 0.1
    table["ci_high"] = table["mean"] + 0.15
    table["p_positive"] = 0.5
    table["small"] = table["persons"] < T
    return table[["group", "country", "persons", "mean", "sd", "ci_low", "ci_high", "p_positive", "small"]]


# ---------------------------------------------------------------- caterpillar


def test_caterpillar_draws_non_small_groups_sorted_within_country() -> None:
    table = _municipalities()
    ax = plotting.caterpillar(table)
    seg = _segments(ax, "intervals")
    means = _offsets(ax, "means")
    # A sorted by mean (A2, A4, A1), then B (B3, B1); small A3 and B2 are left out
    order = ["A2", "A4", "A1", "B3", "B1"]
    expected = table.set_index("group").loc[order]
    assert seg.shape[0] == len(order) == means.shape[0]
    np.testing.assert_allclose(seg[:, 0, 1], expected["ci_low"])
    np.testing.assert_allclose(seg[:, 1, 1], expected["ci_high"])
    np.testing.assert_allclose(means[:, 1], expected["mean"])
    # the bars stand at the points and increase left to right; country B starts after a gap
    np.testing.assert_allclose(seg[:, 0, 0], means[:, 0])
    assert np.all(np.diff(means[:, 0]) > 0)
    assert means[3, 0] - means[2, 0] > 1
    for small in (0.90, -0.70):
        assert not np.isclose(means[:, 1], small).any()
    assert "2 with fewer than" in ax.get_title()
    # no tick label per municipality: one per country
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["A", "B"]


def test_caterpillar_country_means_are_persons_weighted_over_all_municipalities() -> None:
    table = _municipalities()
    data = plotting.caterpillar_data(table)
    a = table[table["country"] == "A"]
    expected_a = float((a["mean"] * a["persons"]).sum() / a["persons"].sum())  # small A3 included
    assert data.attrs["means"]["A"] == pytest.approx(expected_a)
    ax = plotting.caterpillar(table)
    hlines = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_gid() is None]
    levels = sorted(float(np.asarray(c.get_segments()[0])[0, 1]) for c in hlines)
    b = table[table["country"] == "B"]
    expected_b = float((b["mean"] * b["persons"]).sum() / b["persons"].sum())
    np.testing.assert_allclose(levels, sorted([expected_a, expected_b]))


def test_caterpillar_truth_marks_and_single_block() -> None:
    table = _municipalities()
    truth = {"A1": 0.25, "B3": -0.05, "A3": 0.0}  # A3 is small: not drawn
    ax = plotting.caterpillar(table, truth=truth, by_country=False)
    means = _offsets(ax, "means")
    marks = _offsets(ax, "truth")
    # without country blocks: one row sorted by mean, positions 0..4
    np.testing.assert_allclose(means[:, 1], sorted(table.loc[~table["small"], "mean"]))
    np.testing.assert_allclose(means[:, 0], np.arange(5))
    x_of = dict(zip(np.round(means[:, 1], 6), means[:, 0], strict=True))
    assert sorted(map(tuple, marks.tolist())) == sorted([(x_of[0.30], 0.25), (x_of[0.0], -0.05)])
    assert ax.get_xticks().size == 0


def test_caterpillar_small_flag_and_persons_both_exclude() -> None:
    table = _municipalities()
    table.loc[table["group"] == "A1", "small"] = True  # flagged although large
    data = plotting.caterpillar_data(table.drop(columns="small").assign(small=table["small"]))
    assert "A1" not in set(data["group"]) and data.attrs["small"] == 3
    data = plotting.caterpillar_data(_municipalities().drop(columns="small"))  # no flag: persons decide
    assert set(data["group"]) == {"A1", "A2", "A4", "B1", "B3"}


def test_caterpillar_max_groups_keeps_largest() -> None:
    data = plotting.caterpillar_data(_municipalities(), max_groups=3)
    assert set(data["group"]) == {"A4", "B3", "A1"}
    assert data.attrs["not_shown"] == 2
    ax = plotting.caterpillar(_municipalities(), max_groups=3)
    assert _segments(ax, "intervals").shape[0] == 3
    assert "2 smaller ones not shown" in ax.get_title()
    with pytest.raises(SpecificationError):
        plotting.caterpillar_data(_municipalities(), max_groups=0)


def test_caterpillar_stays_readable_for_many_groups() -> None:
    rng = np.random.default_rng(0)
    n = 700
    table = pd.DataFrame(
        {
            "group": [f"m{i}" for i in range(n)],
            "country": np.repeat(["NO", "SE", "DK"], [350, 250, 100]),
            "persons": rng.integers(1, 400, n),
            "mean": rng.normal(0.05, 0.03, n),
        }
    )
    table["ci_low"], table["ci_high"] = table["mean"] - 0.05, table["mean"] + 0.05
    ax = plotting.caterpillar(table)
    coll = _by_gid(ax, "intervals")
    assert len(coll.get_segments()) == int((table["persons"] >= T).sum())
    assert float(np.max(coll.get_linewidths())) <= 0.5
    assert len(ax.get_xticklabels()) == 3


def test_caterpillar_accepts_a_result_and_checks_columns() -> None:
    class Fake:
        def group_effects(self, level: str) -> pd.DataFrame:
            assert level == "municipality"
            return _municipalities()

    data = plotting.caterpillar_data(Fake())  # type: ignore[arg-type]
    assert len(data) == 5
    with pytest.raises(SpecificationError, match="country"):
        plotting.caterpillar(_municipalities().drop(columns="country"))
    with pytest.raises(SpecificationError, match="missing"):
        plotting.caterpillar(_municipalities().drop(columns="ci_low"))
    with pytest.raises(DataError):
        plotting.caterpillar(_municipalities().iloc[:0])


# ---------------------------------------------------------------- shrinkage


def _shrinkage() -> pd.DataFrame:
    rows = [
        # group, country, treated, untreated, raw, pooled
        ("A1", "A", 30, 40, 0.40, 0.20),
        ("A2", "A", T, T, -0.30, -0.05),  # exactly at the threshold: kept
        ("A3", "A", T - 1, 80, 0.90, 0.15),  # too few treated
        ("B1", "B", 50, T - 1, -0.50, 0.00),  # too few untreated
        ("B2", "B", 25, 25, 0.10, 0.08),
        ("B3", "B", 0, 12, np.nan, 0.05),  # one arm only
    ]
    table = pd.DataFrame(rows, columns=["group", "country", "treated", "untreated", "raw", "pooled"])
    table.insert(2, "persons", table["treated"] + table["untreated"])
    table["ci_low"], table["ci_high"] = table["pooled"] - 0.1, table["pooled"] + 0.1
    table["pull"] = 0.5
    return table


def test_shrinkage_data_drops_municipalities_with_a_small_arm() -> None:
    table = _shrinkage()
    data = plotting.shrinkage_data(table)
    assert data["group"].tolist() == ["A1", "A2", "B2"]
    assert data.attrs["left_out"] == 3 and data.attrs["threshold"] == T
    np.testing.assert_allclose(data["raw"], [0.40, -0.30, 0.10])
    np.testing.assert_allclose(data["pooled"], [0.20, -0.05, 0.08])
    # country means: persons-weighted pooled effects over all municipalities (left-out ones included)
    a = table[table["country"] == "A"]
    assert data.attrs["means"]["A"] == pytest.approx(float((a["pooled"] * a["persons"]).sum() / a["persons"].sum()))
    # a stricter threshold drops more
    assert plotting.shrinkage_data(table, threshold=30)["group"].tolist() == ["A1"]


def test_shrinkage_plot_draws_what_the_data_keeps() -> None:
    table = _shrinkage()
    ax = plotting.shrinkage_plot(table)
    points = _offsets(ax, "municipalities")
    np.testing.assert_allclose(points, [[0.40, 0.20], [-0.30, -0.05], [0.10, 0.08]])
    sizes = _by_gid(ax, "municipalities").get_sizes()
    assert sizes[0] > sizes[2] > sizes[1]  # size by persons: 70 > 50 > 2T
    means = plotting.shrinkage_data(table).attrs["means"]
    levels = sorted(float(np.asarray(line.get_ydata())[0]) for line in ax.lines if line.get_linestyle() == "--")
    np.testing.assert_allclose(levels, sorted(means.values()))
    assert "3 with fewer than" in ax.get_title()
    with pytest.raises(SpecificationError):
        plotting.shrinkage_data(table.drop(columns="untreated"))


# ---------------------------------------------------------------- countries


def _countries() -> tuple[pd.DataFrame, pd.DataFrame]:
    effects = pd.DataFrame(
        {
            "group": ["DK", "NO", "SE"],
            "persons": [1000, 3000, 2000],
            "mean": [0.02, 0.06, 0.01],
            "sd": [0.01, 0.01, 0.01],
            "ci_low": [0.00, 0.04, -0.01],
            "ci_high": [0.05, 0.08, 0.03],
            "p_positive": [0.97, 1.0, 0.8],
        }
    )
    contrasts = pd.DataFrame(
        {
            "contrast": ["DK - NO", "DK - SE", "NO - SE"],
            "mean": [-0.04, 0.01, 0.05],
            "sd": [0.014, 0.014, 0.014],
            "ci_low": [-0.07, -0.02, 0.02],
            "ci_high": [-0.01, 0.04, 0.08],
            "p_positive": [0.01, 0.7, 0.999],
        }
    )
    return effects, contrasts


def test_country_contrasts_positions_equal_the_tables() -> None:
    effects, contrasts = _countries()
    truth = {"DK": 0.03, "NO": 0.05, "SE": 0.0}
    ax = plotting.country_contrasts_plot(effects, contrasts, truth=truth)
    values = np.concatenate([effects["mean"], contrasts["mean"]])
    low = np.concatenate([effects["ci_low"], contrasts["ci_low"]])
    high = np.concatenate([effects["ci_high"], contrasts["ci_high"]])
    y = np.arange(6)[::-1]
    point = ax.lines[0]
    np.testing.assert_allclose(np.asarray(point.get_xdata(), dtype=float), values)
    np.testing.assert_allclose(np.asarray(point.get_ydata(), dtype=float), y)
    bars = next(c for c in ax.collections if isinstance(c, LineCollection))
    seg = np.array([np.asarray(s, dtype=float) for s in bars.get_segments()])
    np.testing.assert_allclose(seg[:, 0, 0], low)
    np.testing.assert_allclose(seg[:, 1, 0], high)
    # true effects and true differences as diamonds on the rows
    diamonds = next(c for c in ax.collections if isinstance(c, PathCollection))
    expected = [0.03, 0.05, 0.0, 0.03 - 0.05, 0.03 - 0.0, 0.05 - 0.0]
    np.testing.assert_allclose(np.asarray(diamonds.get_offsets()), np.column_stack([expected, y]))
    at = {t.get_text(): float(t.get_position()[1]) for t in ax.get_yticklabels()}
    assert at["DK (n=1,000)"] == 5 and at["SE (n=2,000)"] == 3 and at["NO - SE (P>0 = 1.00)"] == 0
    # a line separates the countries from the contrasts
    assert 2.5 in [float(np.asarray(line.get_ydata())[0]) for line in ax.lines[1:]]


def test_country_contrasts_without_contrasts_or_truth() -> None:
    effects, _ = _countries()
    ax = plotting.country_contrasts_plot(effects.iloc[:1], pd.DataFrame())
    np.testing.assert_allclose(np.asarray(ax.lines[0].get_xdata(), dtype=float), [0.02])
    assert not any(isinstance(c, PathCollection) for c in ax.collections)

    class Fake:
        def group_effects(self, level: str) -> pd.DataFrame:
            assert level == "country"
            return effects

        def country_contrasts(self) -> pd.DataFrame:
            return _countries()[1]

    ax = plotting.country_contrasts_plot(Fake())  # type: ignore[arg-type]
    assert len(ax.lines[0].get_xdata()) == 6


# ---------------------------------------------------------------- posterior predictive check


def _ppc() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": ["DK", "DK", "NO", "NO", "SE", "SE"],
            "treated": [0, 1, 0, 1, 0, 1],
            "persons": [100, 80, 300, T - 1, 200, 150],
            "observed": [0.40, 0.55, 0.50, 0.90, 0.45, 0.70],
            "replicated_mean": [0.41, 0.52, 0.50, 0.60, 0.46, 0.58],
            "ci_low": [0.35, 0.48, 0.46, 0.30, 0.42, 0.53],
            "ci_high": [0.47, 0.57, 0.54, 0.90, 0.50, 0.63],
            "inside": [True, True, True, True, True, False],
        }
    )


def test_ppc_points_equal_observed() -> None:
    ax = plotting.ppc_plot(_ppc())
    kept = _ppc().drop(index=3)
    obs = _offsets(ax, "observed")
    np.testing.assert_allclose(obs[:, 1], kept["observed"])
    group_x = {"DK": 0, "NO": 1, "SE": 2}
    x = [group_x[g] + (0.2 if t else -0.2) for g, t in zip(kept["group"], kept["treated"], strict=True)]
    np.testing.assert_allclose(obs[:, 0], x)
    seg = _segments(ax, "replicated")
    np.testing.assert_allclose(seg[:, 0, 1], kept["ci_low"])
    np.testing.assert_allclose(seg[:, 1, 1], kept["ci_high"])
    np.testing.assert_allclose(_offsets(ax, "replicated_mean")[:, 1], kept["replicated_mean"])
    # SE treated lies outside: red; the others black
    colours = _by_gid(ax, "observed").get_facecolors()
    red = [bool(c[0] > 0.5 and c[1] < 0.5) for c in colours]
    assert red == [False, False, False, False, True]
    assert "4 of 5 observed means inside" in ax.get_title()
    assert "1 with fewer than" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["DK", "NO", "SE"]


def test_ppc_requires_columns() -> None:
    with pytest.raises(SpecificationError):
        plotting.ppc_plot(_ppc().drop(columns="observed"))

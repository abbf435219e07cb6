import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import StepPatch

from o4o_causal import config, plotting
from o4o_causal.dml import estimate_cate
from o4o_causal.exceptions import DisclosureError, SpecificationError
from o4o_causal.plotting import dml as pdml
from o4o_causal.synth.designs import cate_design


@pytest.fixture(scope="module")
def fit():  # type: ignore[no-untyped-def]
    des = cate_design(4000, n_clusters=40, seed=1)
    r = estimate_cate(
        des.data,
        outcome="employed",
        treatment="treated",
        effect_modifiers=list(des.effect_modifiers),
        controls=list(des.controls),
        cluster="municipality",
        seed=0,
        progress=False,
        learner="linear",
        forest_options={"n_estimators": 40},
    )
    return des, r


@pytest.fixture(scope="module")
def policy(fit):  # type: ignore[no-untyped-def]
    return fit[1].policy_tree(2)


@pytest.fixture(autouse=True)
def _close():  # type: ignore[no-untyped-def]
    yield
    plt.close("all")


def _vlines(ax) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for line in ax.lines:
        x = np.asarray(line.get_xdata(), dtype=float)
        if x.size == 2 and x[0] == x[1]:
            out.append(float(x[0]))
    return out


def _hlines(ax) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for line in ax.lines:
        y = np.asarray(line.get_ydata(), dtype=float)
        if y.size == 2 and y[0] == y[1]:
            out.append(float(y[0]))
    return out


# ---------------------------------------------------------------- CATE distribution


def test_cate_histogram_bins_are_safe_and_complete(fit) -> None:  # type: ignore[no-untyped-def]
    _, r = fit
    tau = r.cate(interval=False)["cate"].to_numpy()
    table = plotting.cate_distribution_data(r)
    assert list(table.columns) == ["left", "right", "count", "density", "merged", "n_bins"]
    assert table.attrs["threshold"] == config.DISCLOSURE.threshold
    assert (table["count"] >= config.DISCLOSURE.threshold).all()
    assert table["count"].sum() == r.n == table.attrs["n"]
    assert table["n_bins"].sum() == table.attrs["bins"]
    np.testing.assert_allclose(table["left"].to_numpy()[1:], table["right"].to_numpy()[:-1])
    np.testing.assert_allclose((table["density"] * (table["right"] - table["left"])).sum(), 1.0)
    # the counts are those of the data in the reported bins
    edges = np.append(table["left"].to_numpy(), table["right"].iloc[-1])
    np.testing.assert_array_equal(np.histogram(tau, edges)[0], table["count"].to_numpy())
    # outer edges lie on a rounded grid, not at the smallest / largest person's value
    assert table["left"].iloc[0] < tau.min() and table["right"].iloc[-1] > tau.max()
    assert (table["merged"] == (table["n_bins"] > 1)).all()


def test_cate_histogram_large_threshold_merges_tails(fit) -> None:  # type: ignore[no-untyped-def]
    _, r = fit
    plain = plotting.cate_distribution_data(r, threshold=1)
    strict = plotting.cate_distribution_data(r, threshold=400)
    assert (strict["count"] >= 400).all() and strict["count"].sum() == r.n
    assert len(strict) < len(plain)
    assert bool(strict["merged"].iloc[0]) and bool(strict["merged"].iloc[-1])
    assert strict["left"].iloc[0] == plain["left"].iloc[0] and strict["right"].iloc[-1] == plain["right"].iloc[-1]


def test_cate_histogram_merge_rule_by_hand() -> None:
    # tails inward: 2 persons in the left bin join the next, 1 in the right bin joins its neighbour
    values = np.repeat([0.05, 0.15, 0.25, 0.35], [2, 10, 10, 1])
    table = plotting.cate_distribution_data(values, bins=[0.0, 0.1, 0.2, 0.3, 0.4], threshold=5)
    assert table[["left", "right"]].to_numpy().tolist() == [[0.0, 0.2], [0.2, 0.4]]
    assert table["count"].tolist() == [12, 11] and table["merged"].tolist() == [True, True]
    # an interior sparse bin joins its smaller neighbour
    values = np.repeat([0.5, 1.5, 2.5], [20, 2, 10])
    table = plotting.cate_distribution_data(values, bins=[0.0, 1.0, 2.0, 3.0], threshold=5)
    assert table["count"].tolist() == [20, 12] and table["left"].tolist() == [0.0, 1.0]
    values = np.repeat([0.5, 1.5, 2.5], [10, 2, 20])
    table = plotting.cate_distribution_data(values, bins=[0.0, 1.0, 2.0, 3.0], threshold=5)
    assert table["count"].tolist() == [12, 20] and table["right"].tolist() == [2.0, 3.0]
    # values outside explicit edges are counted in the outer bins
    table = plotting.cate_distribution_data(np.array([-9.0, 0.5, 0.5, 9.0]), bins=[0.0, 1.0], threshold=1)
    assert table["count"].tolist() == [4]
    with pytest.raises(DisclosureError):
        plotting.cate_distribution_data(np.arange(4.0), threshold=5)
    with pytest.raises(SpecificationError):
        plotting.cate_distribution_data(np.arange(10.0), threshold=0)


def test_cate_distribution_draws_only_safe_bins(fit) -> None:  # type: ignore[no-untyped-def]
    des, r = fit
    truth = des.truth["cate"].to_numpy()
    ax = plotting.cate_distribution(r, truth=truth, threshold=50)
    stairs = [p for p in ax.patches if isinstance(p, StepPatch)]
    assert len(stairs) == 2
    for patch, values in zip(stairs, [r.cate(interval=False)["cate"].to_numpy(), truth], strict=True):
        edges = np.asarray(patch.get_data().edges)
        counts = np.histogram(np.clip(values, edges[0], edges[-1]), edges)[0]
        assert (counts >= 50).all() and counts.sum() == values.size
        np.testing.assert_allclose(patch.get_data().values, counts / (values.size * np.diff(edges)))
    # nothing but the ATE line: no rug, no per-person marks
    assert all(len(line.get_xdata()) == 2 for line in ax.lines if isinstance(line, Line2D))
    assert _vlines(ax) == [pytest.approx(r.ate().value)]
    assert len(ax.collections) == 0 and len(ax.texts) == 0


# ---------------------------------------------------------------- GATE forest


def test_gate_forest_points_labels_reference_and_ate(fit) -> None:  # type: ignore[no-untyped-def]
    des, r = fit
    table = r.gate("integrated")
    truth = des.truth["cate"].groupby(des.data["integrated"]).mean()
    reference = {str(k): float(v) for k, v in truth.items()}
    ate = r.ate()
    ax = plotting.gate_forest(table, reference=reference, ate=ate)
    points = ax.containers[0].lines[0]
    np.testing.assert_allclose(np.asarray(points.get_xdata(), dtype=float), table["estimate"].to_numpy())
    assert len(points.get_xdata()) == len(table) == 2
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [f"{g} (n={n:,})" for g, n in zip(table["group"], table["n"], strict=True)]
    assert all("(n=" in label for label in labels) and f"{table['n'].iloc[0]:,}" in labels[0]
    diamonds = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(np.asarray(diamonds)[:, 0], [reference[g] for g in table["group"]])
    assert _vlines(ax) == [0.0, pytest.approx(ate.value)]


def test_gate_forest_ate_from_attrs_and_binned_groups(fit) -> None:  # type: ignore[no-untyped-def]
    _, r = fit
    table = r.gate("x2", bins=4)
    ax = plotting.gate_forest(table, null=None)
    assert len(ax.containers[0].lines[0].get_xdata()) == 4 and _vlines(ax) == []
    table.attrs["ate"] = r.ate()
    ax = plotting.gate_forest(table, null=None)
    assert _vlines(ax) == [pytest.approx(r.ate().value)]
    with pytest.raises(SpecificationError):
        plotting.gate_forest(table.drop(columns="n"))


# ---------------------------------------------------------------- sorted effects


def test_sorted_effects_data_matches_table(fit) -> None:  # type: ignore[no-untyped-def]
    _, r = fit
    table = r.sorted_effects(4)
    data = plotting.sorted_effects_data(table)
    assert data["group"].tolist() == ["Q1", "Q2", "Q3", "Q4"] and data["x"].tolist() == [0, 1, 2, 3]
    for col in ["n", "mean_predicted", "estimate", "se", "ci_low", "ci_high"]:
        np.testing.assert_allclose(data[col].to_numpy(), table[col].to_numpy())
    assert data.attrs["top_minus_bottom"] == table.attrs["top_minus_bottom"]
    with pytest.raises(SpecificationError):
        plotting.sorted_effects_data(table.drop(columns="mean_predicted"))


def test_sorted_effects_plot(fit) -> None:  # type: ignore[no-untyped-def]
    _, r = fit
    table = r.sorted_effects(4)
    ate = r.ate()
    ax = plotting.sorted_effects_plot(table, ate=ate)
    points = ax.containers[0].lines[0]
    np.testing.assert_allclose(np.asarray(points.get_xdata(), dtype=float), [0, 1, 2, 3])
    np.testing.assert_allclose(np.asarray(points.get_ydata(), dtype=float), table["estimate"].to_numpy())
    hollow = ax.collections[-1]
    np.testing.assert_allclose(np.asarray(hollow.get_offsets())[:, 1], table["mean_predicted"].to_numpy())
    assert len(hollow.get_facecolors()) == 0
    assert pytest.approx(ate.value) in _hlines(ax)
    band = [p for p in ax.patches if not isinstance(p, StepPatch)]
    assert len(band) == 1
    np.testing.assert_allclose([band[0].get_y(), band[0].get_y() + band[0].get_height()], [ate.ci_low, ate.ci_high])
    tmb = table.attrs["top_minus_bottom"]
    assert f"Q4 - Q1: {tmb['estimate']:.3f}" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Q1", "Q2", "Q3", "Q4"]


# ---------------------------------------------------------------- policy tree


def test_policy_tree_plot_nodes_and_leaves(policy) -> None:  # type: ignore[no-untyped-def]
    tree = policy.tree.tree_
    ax = plotting.policy_tree_plot(policy)
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == tree.node_count
    is_leaf = np.asarray(tree.children_left) == -1
    splits = [t for t in texts if " <= " in t]
    assert len(splits) == int((~is_leaf).sum())
    expected_splits = {
        f"{policy.features[int(tree.feature[k])]} <= {tree.threshold[k]:.3g}" for k in np.flatnonzero(~is_leaf)
    }
    assert set(splits) == expected_splits
    by_first_line = {t.get_text(): t for t in ax.texts}
    for row in policy.leaves.itertuples():
        matches = [t for t in texts if f"n = {row.n:,} ({row.share:.1%})" in t]
        assert len(matches) == 1
        lines = matches[0].split("\n")
        assert lines[0] == ("treat" if row.treat else "do not treat")
        assert f"{row.effect_minus_cost:.3f}" in lines[2]
        assert lines[3] == f"[{row.ci_low:.3f}, {row.ci_high:.3f}]"
        face = by_first_line[matches[0]].get_bbox_patch().get_facecolor()
        assert face == pytest.approx(to_rgba(pdml._TREAT if row.treat else pdml._NO_TREAT))
    gain = policy.value.set_index("policy").loc["learned tree vs treat everybody", "estimate"]
    assert f"{gain:+.4f}" in ax.get_title()


def test_policy_tree_plot_layout_in_given_axes(policy) -> None:  # type: ignore[no-untyped-def]
    _, ax = plt.subplots()
    out = plotting.policy_tree_plot(policy, ax=ax)
    assert out is ax
    tree = policy.tree.tree_
    # one connecting line per edge of the tree; the root sits above the middle of its children
    assert len(ax.lines) == tree.node_count - 1
    pos = {t.get_text(): t.get_position() for t in ax.texts}
    root = f"{policy.features[int(tree.feature[0])]} <= {tree.threshold[0]:.3g}"
    assert pos[root][1] == 0 and min(y for _, y in pos.values()) == -policy.depth

"""Trajectories on the synthetic world: planted types recovered, headline, tables, countries, plots.

Measured ARI against the planted types (k = 4, ``recode={"WAA_M": "WAA"}``):
OMspell + Ward 0.999 (small world, seed 1) and 0.9992 (default world, 27,500 persons,
seed 1); OM (TRATE) + Ward 0.945 (small). The thresholds below (0.95, 0.85) leave
room for seed-to-seed variation while failing if a type is lost (losing one type of
four gives ARI < 0.8).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from o4o_causal.plotting import trajectories as P
from o4o_causal.registers import open_store
from o4o_causal.synth import generate_world
from o4o_causal.trajectories import MERGE_MEASURES, om_distances, quality, sequences, share_throughout, typology
from o4o_causal.trajectories.countries import match_types, typology_by_country


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    w = generate_world("small", seed=1)
    root = Path(tmp_path_factory.mktemp("traj_world"))
    w.write(root)
    store = open_store(root)
    return store.cohort("waa"), w.truth.waa_types.set_index("person_id"), store.municipalities()


@pytest.fixture(scope="module")
def fitted(world: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]):  # type: ignore[no-untyped-def]
    frame, _, _ = world
    seqs = sequences(frame, recode=MERGE_MEASURES)
    dist = om_distances(seqs, method="OMspell")
    return seqs, dist, typology(dist, k=4, method="ward")


@pytest.fixture(scope="module")
def by_country(fitted):  # type: ignore[no-untyped-def]
    seqs, _, _ = fitted
    return typology_by_country(seqs, k=4, method="ward", distance_options={"method": "OMspell"})


def test_planted_types_recovered(world, fitted) -> None:  # type: ignore[no-untyped-def]
    _, truth, _ = world
    seqs, dist, res = fitted
    y = truth.loc[seqs.ids, "trajectory_type"].to_numpy()
    assert adjusted_rand_score(y, res.labels) >= 0.95
    om = typology(seqs, k=4, method="ward", distance_options={"method": "OM", "substitution": "TRATE"})
    assert adjusted_rand_score(y, om.labels) >= 0.85
    assert set(res.names) == {"WAA throughout", "WAA → DP", "WAA → EMP_LOW/EMP", "churning WAA/SA/JOBSEEK/EMP_LOW"}
    assert dist.n_distinct < seqs.n / 3  # collapse: the stable majority is one sequence
    assert res.quality["asw"] > 0.5


def test_headline_share_on_waa_throughout(world) -> None:  # type: ignore[no-untyped-def]
    frame, truth, _ = world
    seqs = sequences(frame)
    est = share_throughout(seqs, {"WAA", "WAA_M"}, cluster="municipality_id")
    expected = np.isin(frame[[f"m{t:02d}" for t in range(1, 49)]].to_numpy(), ["WAA", "WAA_M"]).all(axis=1)
    assert est.value == pytest.approx(expected.sum() / seqs.n)
    assert est.ci_low > 0.5
    stable = (truth.loc[seqs.ids, "trajectory_type"] == "stable_waa").mean()
    assert est.ci_low <= stable <= est.ci_high
    # the same share from recoded sequences
    assert share_throughout(sequences(frame, recode=MERGE_MEASURES), "WAA").value == pytest.approx(est.value)


def test_shares_by_group_and_association(world, fitted) -> None:  # type: ignore[no-untyped-def]
    _, _, munis = world
    seqs, _, res = fitted
    shares = res.shares(cluster="municipality_id")
    assert shares["share"].sum() == pytest.approx(1.0)
    assert (shares["ci_low"] <= shares["share"]).all() and (shares["share"] <= shares["ci_high"]).all()
    naive = res.shares()
    assert (shares["se"] >= 0).all() and naive["n"].sum() == seqs.n
    by = res.by("country")
    assert set(by["country"]) == {"NO", "SE", "DK"}
    assert by.groupby("country")["share"].sum().round(6).eq(1.0).all()
    ame = res.association(["health_problem", "low_education", "female", "country"], cluster="municipality_id")
    assert {"type", "term", "estimate", "se", "ci_low", "ci_high"} <= set(ame.columns)
    # AMEs over all types sum to zero for each covariate
    assert ame.groupby("term")["estimate"].sum().abs().max() < 1e-6
    # planted: health problems raise the disability type's probability
    dp = ame[(ame["type"] == "WAA → DP") & (ame["term"] == "health_problem")].iloc[0]
    assert dp["ci_low"] > 0
    condition = next(c for c in munis.columns if munis[c].dropna().isin([0, 1, True, False]).all() and c != "country")
    rrr = res.association(["health_problem", condition], data=munis, scale="rrr")
    assert (rrr["estimate"] > 0).all() and rrr["clusters"].iloc[0] > 10
    typical = res.typical()
    assert typical.loc[0, "modal"] == "WAA/48" and typical.loc[0, "most_frequent"] == "WAA/48"


def test_by_country_and_quality(fitted, by_country) -> None:  # type: ignore[no-untyped-def]
    _, dist, _ = fitted
    by = by_country
    table = by.shares()
    assert set(table["country"]) == {"NO", "SE", "DK"}
    # every country's four types map one-to-one onto the reference's
    assert by.matching.groupby("country")["common_type"].nunique().eq(4).all()
    assert (by.matching["label"] == by.matching["common_label"]).mean() >= 0.75
    profiles = {c: r.profiles() for c, r in by.results.items()}
    assert match_types(profiles, reference=by.reference).equals(by.matching)
    q = quality(dist, k_range=range(2, 7))
    assert list(q["k"]) == [2, 3, 4, 5, 6]
    assert q.loc[q["k"] == 4, "asw"].iloc[0] > q.loc[q["k"] == 2, "asw"].iloc[0]


def test_plots_and_data(fitted, by_country) -> None:  # type: ignore[no-untyped-def]
    seqs, dist, res = fitted
    data = P.type_chronogram_data(res)
    cells = data.drop(columns="n")
    sums = cells.fillna(0).sum(axis=1)
    complete = cells.notna().all(axis=1)
    assert (sums <= 1 + 1e-9).all() and np.allclose(sums[complete], 1.0) and complete.mean() > 0.5
    assert not (cells.isna().sum(axis=1) == 1).any()  # secondary suppression: never one hidden cell alone
    fig = P.type_chronograms(res)
    assert len(fig.axes) == 4
    ax = P.transition_heatmap(seqs)
    assert P.transition_heatmap_data(seqs).shape == (len(seqs.alphabet), len(seqs.alphabet))
    mt = P.mean_time_data(res)
    months = mt[list(seqs.alphabet)]
    full = months.notna().all(axis=1)
    assert months[full].sum(axis=1).round(6).eq(48).all() and (months.sum(axis=1) <= 48 + 1e-9).all()
    P.mean_time_plot(res)
    q = quality(dist, k_range=[2, 3, 4])
    assert P.quality_plot(q).get_xlabel() == "number of types k"
    ax = P.country_shares_plot(by_country)
    assert len(ax.get_yticklabels()) == 4
    plt.close("all")

"""Trajectories: disclosure control, inference against statsmodels, and edge cases.

References are independent of the package: statsmodels' cluster-robust OLS and
``cov_cluster`` sandwich, statsmodels' own marginal effects, predictions at 0 and 1 with
statsmodels' numerical derivative for discrete changes, and counts made by hand.
"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.sandwich_covariance import cov_cluster
from statsmodels.tools.numdiff import approx_fprime

from o4o_causal import config
from o4o_causal.exceptions import ConvergenceError, DataError, DisclosureError, O4OWarning, SpecificationError
from o4o_causal.plotting import trajectories as P
from o4o_causal.trajectories import MERGE_MEASURES, inference, measures, om_distances, quality, sequences, typology
from o4o_causal.trajectories import describe as D
from o4o_causal.trajectories.countries import typology_by_country

T = config.DISCLOSURE.threshold
UNUSUAL = ["SA", "SA", "DP", "DP", "EDU", "EDU", "EDU", "JOBSEEK", "SICK", "SICK", "SICK", "SICK"]


def _with_one_unusual_person() -> pd.DataFrame:
    rows = [["WAA"] * 12] * 30 + [["WAA"] * 6 + ["EMP"] * 6] * 20
    rows += [["WAA"] * 3 + ["EMP"] * (3 + i % 3) + ["WAA"] * (6 - i % 3) for i in range(15)]
    rows.append(UNUSUAL)
    frame = pd.DataFrame(rows, columns=[f"m{t + 1:02d}" for t in range(12)])
    frame.insert(0, "person_id", range(len(frame)))
    frame["municipality_id"] = np.arange(len(frame)) % 7
    return frame


@pytest.fixture(scope="module")
def one_person_type():  # type: ignore[no-untyped-def]
    seqs = sequences(_with_one_unusual_person())
    res = typology(om_distances(seqs, substitution="CONSTANT"), k=4, method="ward")
    return seqs, res


# ---------------------------------------------------------------- finding 1, 2: small types
def test_one_person_type_is_not_disclosed(one_person_type) -> None:  # type: ignore[no-untyped-def]
    seqs, res = one_person_type
    sizes = np.bincount(res.labels)
    small = int(np.flatnonzero(sizes == 1)[0])
    assert res.names[small] == f"small type (n < {T})"  # no state names of that person
    person = D.spell_string(seqs.codes[-1], seqs.alphabet)
    for table in (res.summary(), res.typical(), res.shares()):
        text = table.to_string()
        assert person not in text and "SICK" not in text and "JOBSEEK" not in text
    assert D.modal_sequence(seqs.select(np.arange(seqs.n) == seqs.n - 1)) is None
    # no subtraction attack: total minus the shown sizes is at least the threshold
    for table in (res.shares(), res.summary(), res.typical()):
        shown = table["n"].dropna().astype(int)
        assert seqs.n - shown.sum() >= T
    shares = res.shares()
    assert 1 - shares["share"].dropna().sum() >= T / seqs.n - 1e-12
    # every table that shows a type size shows the same (suppressed) sizes
    np.testing.assert_array_equal(shares["n"].isna(), res.typical()["n"].isna())
    assert res.mean_time()["n"].isna().sum() == shares["n"].isna().sum() - 1  # the 1-person type has no row
    dist_n = res.state_distribution().groupby(level="type")["n"].first()
    assert dist_n.isna().sum() == 1
    assert set(res.profiles()["type"]) == set(range(4)) - {small}
    fig = P.type_chronograms(res)
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "suppressed" in titles and f"n = {int(sizes[small])}" not in titles.replace(",", "")
    plt.close("all")


def test_by_group_suppression_and_all_small_groups(one_person_type) -> None:  # type: ignore[no-untyped-def]
    _, res = one_person_type
    by = res.by("municipality_id")
    for _, group in by.groupby("municipality_id"):
        hidden = (
            group.loc[group["n"].isna(), "total"].iloc[0] - group["n"].dropna().sum() if group["n"].isna().any() else 0
        )
        assert hidden == 0 or hidden >= T
    frame = pd.DataFrame({"person_id": range(8), "g": range(8), "m01": ["WAA", "EMP"] * 4, "m02": ["WAA"] * 8})
    seqs = sequences(frame)
    res_small = typology(seqs.select(np.ones(8, dtype=bool)), k=2, method="pam")
    empty = res_small.by("g")
    assert empty.empty and {"g", "type", "share"} <= set(empty.columns)


def test_suppress_cells_secondary() -> None:
    counts = np.array([[30, 20, 15, 1], [30, 20, 3, 3], [30, 20, 0, 0], [10, 3, 0, 9]])
    mask = D.suppress_cells(counts, 5)
    np.testing.assert_array_equal(mask[0], [False, False, True, True])  # 1 alone -> + next smallest (15)
    np.testing.assert_array_equal(mask[1], [False, False, True, True])  # 3 + 3 >= 5: no more
    assert not mask[2].any()  # zeros are kept
    np.testing.assert_array_equal(mask[3], [False, True, False, True])  # 3 -> + 9 (zero skipped)


def test_state_distribution_transitions_and_mean_time_count_persons() -> None:
    alternating = ["WAA", "SA"] * 6
    seqs = sequences([["WAA"] * 12] * 9 + [alternating] + [["EMP"] * 12] * 6)
    rates = D.transition_rates(seqs)
    # WAA -> SA and SA -> WAA are made by one person (30+ transitions, but one person)
    assert np.isnan(rates.loc["WAA", "SA"]) and np.isnan(rates.loc["WAA", "WAA"])  # + secondary
    assert rates.loc["SA"].isna().all()  # left by one person
    assert rates.loc["EMP", "EMP"] == 1.0 and rates.loc["EMP", "n"] == 6 * 11
    mt = D.mean_time(seqs)
    assert np.isnan(mt.loc["all", "SA"])  # one person was ever in SA
    assert mt[list(seqs.alphabet)].isna().sum(axis=1).iloc[0] >= 2  # not recoverable as 12 - others
    dist = D.state_distribution(seqs)
    assert dist.loc[2, ["WAA", "SA", "EMP"]].isna().sum() >= 2
    # one suppressed cell per month is never alone
    cells = dist.drop(columns="n")
    assert not (cells.isna().sum(axis=1) == 1).any()


def test_modal_sequence_months_with_small_modal_counts() -> None:
    rows = [["A", "B"]] * 3 + [["B", "B"]] * 2 + [["C", "B"]] * 1
    seqs = sequences(rows, alphabet=("A", "B", "C"))
    assert D.modal_sequence(seqs) == "?/1-B/1"  # month 1's mode holds 3 < 5 persons
    assert D.modal_sequence(seqs, min_count=1) == "A/1-B/1"


# ---------------------------------------------------------------- finding 7: share_throughout
def test_share_throughout_recoded_state_and_small_counts() -> None:
    merged = sequences([["WAA_M"] * 4] * 10 + [["WAA"] * 4] * 5 + [["EMP"] * 4] * 10, recode=MERGE_MEASURES)
    with pytest.raises(SpecificationError, match="'WAA_M' was recoded into 'WAA'"):
        D.share_throughout(merged, "WAA_M")
    assert D.share_throughout(merged, {"WAA", "WAA_M"}).value == pytest.approx(15 / 25)
    small = sequences([["WAA"] * 4] * 2 + [["EMP"] * 4] * 50)
    est = D.share_throughout(small, "WAA")
    assert np.isnan(est.value) and np.isnan(est.ci_low) and est.n == 52
    assert np.isnan(D.share_throughout(small, "EMP").value)  # 2 persons are not in EMP throughout
    none = D.share_throughout(small, "SA")  # zero discloses nothing
    assert none.value == 0.0 and none.ci_low == 0.0 and none.ci_high > 0


# ---------------------------------------------------------------- finding 8: missing clusters
def test_missing_cluster_values() -> None:
    frame = _with_one_unusual_person().iloc[:65].copy()
    frame["municipality_id"] = frame["municipality_id"].astype(float)
    frame.loc[frame.index[:5], "municipality_id"] = np.nan
    frame["x"] = np.random.default_rng(0).normal(size=len(frame))
    seqs = sequences(frame)
    res = typology(om_distances(seqs, substitution="CONSTANT"), k=2, method="pam")
    with pytest.raises(DataError, match="'municipality_id'.*missing"):
        res.shares(cluster="municipality_id")
    with pytest.raises(DataError, match="missing"):
        D.share_throughout(seqs, "WAA", cluster="municipality_id")
    table = res.association(["x"], cluster="municipality_id")
    assert (table["dropped_missing"] == 5).all() and (table["n"] == 60).all()


# ---------------------------------------------------------------- findings 4, 9, 11: inference
def _clustered_data(seed: int = 1) -> tuple[np.ndarray, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, g = 600, 30
    groups = rng.integers(0, g, n)
    u = rng.normal(size=g)[groups]
    x1 = rng.normal(size=n)
    x2 = (rng.random(n) < 0.4).astype(float)
    c = rng.choice(["a", "b", "c"], n)
    eta = np.column_stack([np.zeros(n), 0.5 * x1 + u + 0.4 * (c == "b"), -0.3 * x1 + 0.8 * x2 - 0.3 * (c == "c")])
    pr = np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    labels = (pr.cumsum(axis=1) > rng.random(n)[:, None]).argmax(axis=1)
    return labels, pd.DataFrame({"x1": x1, "x2": x2, "c": c}), groups


def test_share_se_equals_statsmodels_cluster_ols() -> None:
    labels, _, groups = _clustered_data()
    y = (labels == 1).astype(float)
    _, se, _, _ = inference.share_interval(y, groups=groups)
    ols = sm.OLS(y, np.ones_like(y)).fit(cov_type="cluster", cov_kwds={"groups": groups})
    assert se == pytest.approx(float(ols.bse[0]), rel=1e-10)
    _, se_iid, _, _ = inference.share_interval(y)
    assert se_iid == pytest.approx(np.sqrt(y.mean() * (1 - y.mean()) / y.size))


def test_mnlogit_rrr_and_ame_against_statsmodels() -> None:
    labels, frame, groups = _clustered_data()
    names = ["a", "b", "c"]
    x = sm.add_constant(
        pd.concat([frame[["x1", "x2"]], pd.get_dummies(frame["c"], prefix="c", drop_first=True, dtype=float)], axis=1)
    )
    plain = sm.MNLogit(labels, x).fit(disp=False)
    v = cov_cluster(plain, groups)  # statsmodels' sandwich, independent of the fit's cov_type
    se_ref = np.sqrt(np.diag(v)).reshape(plain.params.shape, order="F")
    rrr = inference.multinomial_association(labels, frame, ["x1", "x2", "c"], names=names, cluster=groups, scale="rrr")
    for j, t in enumerate(names[1:]):
        for i, term in enumerate(x.columns[1:], start=1):
            row = rrr[(rrr["type"] == t) & (rrr["term"] == term)].iloc[0]
            assert row["estimate"] == pytest.approx(np.exp(plain.params.iloc[i, j]), rel=1e-6)
            assert row["se"] / row["estimate"] == pytest.approx(se_ref[i, j], rel=1e-6)
    ame = inference.multinomial_association(labels, frame, ["x1", "x2", "c"], names=names, cluster=groups)
    clustered = sm.MNLogit(labels, x).fit(disp=False, cov_type="cluster", cov_kwds={"groups": groups})
    marg = clustered.get_margeff(at="overall", method="dydx")
    for j, t in enumerate(names):  # continuous x1: statsmodels' derivative AME and its SE
        row = ame[(ame["type"] == t) & (ame["term"] == "x1")].iloc[0]
        assert row["estimate"] == pytest.approx(np.asarray(marg.margeff)[0, j], rel=1e-6)
        assert row["se"] == pytest.approx(np.asarray(marg.margeff_se)[0, j], rel=1e-4)
    theta = clustered.params.to_numpy().ravel(order="F")
    cov = clustered.cov_params().to_numpy()

    def change(th: np.ndarray, set1: dict[str, float], set0: dict[str, float]) -> np.ndarray:
        params = th.reshape(clustered.params.shape, order="F")
        x1, x0 = x.copy(), x.copy()
        for col, val in set1.items():
            x1[col] = val
        for col, val in set0.items():
            x0[col] = val
        p1, p0 = clustered.model.predict(params, x1), clustered.model.predict(params, x0)
        return np.asarray(p1 - p0).mean(axis=0)

    cases = {"x2": ({"x2": 1.0}, {"x2": 0.0}), "c_b": ({"c_b": 1.0, "c_c": 0.0}, {"c_b": 0.0, "c_c": 0.0})}
    for term, (set1, set0) in cases.items():
        ref = change(theta, set1, set0)
        jac = approx_fprime(theta, lambda th, s1=set1, s0=set0: change(th, s1, s0), centered=True)
        ref_se = np.sqrt(np.diag(jac @ cov @ jac.T))
        sub = ame[ame["term"] == term].set_index("type").loc[names]
        np.testing.assert_allclose(sub["estimate"].to_numpy(), ref, rtol=1e-6)
        np.testing.assert_allclose(sub["se"].to_numpy(), ref_se, rtol=1e-4)
        assert abs(sub["estimate"].sum()) < 1e-10


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.ConvergenceWarning")
def test_mnlogit_refuses_separation_and_small_types() -> None:
    rng = np.random.default_rng(0)
    n = 300
    x = (rng.random(n) < 0.5).astype(float)
    frame = pd.DataFrame({"x": x, "z": rng.normal(size=n)})
    labels = rng.integers(0, 3, n)
    labels[(x == 1) & (labels == 2)] = 1  # type 2 never occurs with x = 1
    groups = rng.integers(0, 20, n)
    with pytest.raises(ConvergenceError, match=r"type 'c', term 'x'.*separation"):
        inference.multinomial_association(labels, frame, ["x", "z"], names=["a", "b", "c"], cluster=groups, scale="rrr")
    labels = rng.integers(0, 2, n)
    labels[:2] = 2
    with pytest.raises(DisclosureError, match="'c'"):
        inference.multinomial_association(labels, frame, ["x", "z"], names=["a", "b", "c"], cluster=groups)
    frame["x_copy"] = frame["x"]
    with pytest.raises(DataError, match="collinear"):
        inference.multinomial_association(
            rng.integers(0, 3, n), frame, ["x", "x_copy"], names=["a", "b", "c"], cluster=groups
        )


# ---------------------------------------------------------------- finding 10 and nits
def test_country_shares_plot_with_different_k() -> None:
    rng = np.random.default_rng(0)
    patterns = [["WAA"] * 12, ["WAA"] * 6 + ["EMP"] * 6, ["WAA"] * 4 + ["DP"] * 8]
    rows, country = [], []
    for c in ("NO", "SE"):
        for i in range(60):
            p = list(patterns[i % 3])
            p[int(rng.integers(0, 12))] = "SA" if rng.random() < 0.5 else p[0]
            rows.append(p)
            country.append(c)
    frame = pd.DataFrame(rows, columns=[f"m{t + 1:02d}" for t in range(12)])
    frame.insert(0, "person_id", range(len(frame)))
    frame["country"] = country
    ct = typology_by_country(sequences(frame), k={"NO": 3, "SE": 2}, reference="SE",
                             distance_options={"substitution": "CONSTANT"})  # fmt: skip
    assert ct.matching["common_type"].isna().sum() == 1
    ax = P.country_shares_plot(ct)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 3 and any("(unmatched)" in lab for lab in labels)
    plt.close("all")


def test_nits_recode_select_entropy_and_hc_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SpecificationError, match="recode.*'A' -> 'B' -> 'C'"):
        sequences([["A", "B", "C"]] * 2, alphabet=("A", "B", "C"), recode={"A": "B", "B": "C"})
    seqs = sequences([["A", "A", "A"]] * 6 + [["A", "B", "B"]] * 6, alphabet=("A", "B"))
    sub = seqs.select(np.arange(seqs.n) < 6)
    assert sub.report.n_selected == 6 and seqs.report.n_selected is None
    assert "persons selected" in sub.report.to_frame()["item"].iloc[-1]
    entropy = D.entropy_by_month(seqs)["entropy"]
    assert not np.signbit(entropy.iloc[0]) and entropy.iloc[0] == 0.0
    assert not np.signbit(D.indicators(seqs)["entropy"].to_numpy()).any()
    monkeypatch.setattr(measures, "HC_MAX_PAIRS", 0)
    with pytest.warns(O4OWarning, match="Hubert's C not computed"):
        table = quality(om_distances(seqs), k_range=[2])
    assert np.isnan(table["hc"].iloc[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monkeypatch.setattr(measures, "HC_MAX_PAIRS", 10**9)
        assert {"r2", "ch", "r2sq", "chsq"} <= set(quality(om_distances(seqs), k_range=[2]).columns)


def test_ward_aliases_select_the_variant() -> None:
    rng = np.random.default_rng(2)
    codes = rng.integers(0, 3, (40, 6))
    codes[:, 1:] = np.where(rng.random((40, 5)) < 0.7, codes[:, :-1], codes[:, 1:])
    seqs = sequences([[("A", "B", "C")[c] for c in r] for r in codes], alphabet=("A", "B", "C"))
    d = om_distances(seqs)
    for alias, variant in (("ward.D", "D"), ("ward.D2", "D2")):
        res = typology(d, k=3, method=alias)
        np.testing.assert_array_equal(res.labels, typology(d, k=3, method="ward", ward=variant).labels)
        assert res.method == alias and quality(d, k_range=[2], method=alias).attrs["method"] == alias

"""Trajectories: sequences, distances against independent DPs, clustering, quality, errors.

The distance tests compare sequenzo (and the suite's DHD) with small pure-Python
dynamic programmes written here independently of the package.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist, squareform
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, silhouette_score

from o4o_causal.exceptions import DataError, SpecificationError
from o4o_causal.plotting.world import STATE_COLOURS as WORLD_COLOURS
from o4o_causal.trajectories import (
    ALPHABET,
    CENSORED,
    STATE_COLOURS,
    om_distances,
    sequences,
    typology,
)
from o4o_causal.trajectories import describe as D
from o4o_causal.trajectories.cluster import pam, ward_tree
from o4o_causal.trajectories.measures import cluster_quality

ABC = ("A", "B", "C", "D")


# ---------------------------------------------------------------- independent references
def om_reference(x: np.ndarray, y: np.ndarray, sm: np.ndarray, indel: float) -> float:
    """Needleman-Wunsch edit distance with indel and substitution matrix."""
    m, n = len(x), len(y)
    f = np.zeros((m + 1, n + 1))
    f[:, 0] = np.arange(m + 1) * indel
    f[0, :] = np.arange(n + 1) * indel
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            sub = 0.0 if x[i - 1] == y[j - 1] else sm[x[i - 1], y[j - 1]]
            f[i, j] = min(f[i - 1, j] + indel, f[i, j - 1] + indel, f[i - 1, j - 1] + sub)
    return float(f[m, n])


def _spells(x: np.ndarray) -> list[tuple[int, int]]:
    out: list[list[int]] = []
    for v in x:
        if out and out[-1][0] == v:
            out[-1][1] += 1
        else:
            out.append([int(v), 1])
    return [(a, b) for a, b in out]


def omspell_reference(x: np.ndarray, y: np.ndarray, sm: np.ndarray, indel: float, e: float) -> float:
    """OMspell (Studer & Ritschard 2016, tpow = 1) on spells."""
    a, b = _spells(x), _spells(y)

    def ind(sp: tuple[int, int]) -> float:
        return indel + e * (sp[1] - 1)

    f = np.zeros((len(a) + 1, len(b) + 1))
    for i in range(1, len(a) + 1):
        f[i, 0] = f[i - 1, 0] + ind(a[i - 1])
    for j in range(1, len(b) + 1):
        f[0, j] = f[0, j - 1] + ind(b[j - 1])
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            si, sj = a[i - 1], b[j - 1]
            same = si[0] == sj[0]
            sub = e * abs(si[1] - sj[1]) if same else sm[si[0], sj[0]] + e * (si[1] - 1) + e * (sj[1] - 1)
            f[i, j] = min(f[i - 1, j] + ind(si), f[i, j - 1] + ind(sj), f[i - 1, j - 1] + sub)
    return float(f[-1, -1])


def trate_reference(seqs: list[list[int]], a: int) -> np.ndarray:
    """2 - p(i->j) - p(j->i) by counting in loops."""
    counts = np.zeros((a, a))
    for s in seqs:
        for u, v in itertools.pairwise(s):
            counts[u, v] += 1
    p = np.zeros((a, a))
    for i in range(a):
        if counts[i].sum():
            p[i] = counts[i] / counts[i].sum()
    cost = 2 - p - p.T
    np.fill_diagonal(cost, 0)
    return cost


def _random_seqs(seed: int, n: int = 30, t: int = 8) -> tuple[list[list[str]], np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 4, (n, t))
    codes[:, 1:] = np.where(rng.random((n, t - 1)) < 0.5, codes[:, :-1], codes[:, 1:])  # spells
    codes[3] = codes[0]  # duplicates
    codes[7] = codes[0]
    return [[ABC[c] for c in row] for row in codes], codes


# ---------------------------------------------------------------- distances vs references
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("substitution", ["TRATE", "CONSTANT", "user"])
@pytest.mark.parametrize("method", ["OM", "OMspell", "DHD"])
def test_distances_equal_independent_dp(seed: int, substitution: str, method: str) -> None:
    lists, codes = _random_seqs(seed)
    seqs = sequences(lists, alphabet=ABC)
    user = np.array([[0, 1, 2, 3], [1, 0, 1.5, 2], [2, 1.5, 0, 1], [3, 2, 1, 0]], dtype=float)
    sub = user if substitution == "user" else substitution
    d = om_distances(seqs, substitution=sub, indel=0.9, method=method)
    if substitution == "TRATE" and method != "DHD":
        np.testing.assert_allclose(d.spec.costs, trate_reference(codes.tolist(), 4), atol=1e-12)
    sm = d.spec.costs
    u = d.distinct
    for i in range(len(u)):
        for j in range(len(u)):
            if method == "OM":
                ref = om_reference(u[i], u[j], sm, 0.9)
            elif method == "OMspell":
                ref = omspell_reference(u[i], u[j], sm, 0.9, 0.5)
            else:
                ref = sum(sm[t, u[i][t], u[j][t]] for t in range(u.shape[1]))
            assert d.matrix[i, j] == pytest.approx(ref, abs=1e-9)


def test_trate_and_om_by_hand() -> None:
    # transitions: AA, AB, BA | AB, BB, BB -> from A: A 1, B 2; from B: A 1, B 2
    seqs = sequences([["A", "A", "B", "A"], ["A", "B", "B", "B"], ["A", "C", "C", "C"]], alphabet=("A", "B", "C"))
    d = om_distances(seqs, substitution="TRATE", indel=0.75)
    # from A: A 1, B 2, C 1 -> p(A->B) = 1/2, p(A->C) = 1/4; from B: p(B->A) = 1/3; C never left
    assert d.spec.costs[0, 1] == pytest.approx(2 - 1 / 2 - 1 / 3)
    assert d.spec.costs[0, 2] == pytest.approx(2 - 1 / 4)
    assert d.spec.costs[1, 2] == pytest.approx(2.0)
    # AABA vs ABBB: two substitutions A/B (2 x 7/6 = 2.33) or indels: delete A(2) and A(4),
    # insert B, B (4 x 0.75 = 3) -> 2.33; AABA vs ACCC: substitute positions 2-4 or shift
    assert d.matrix[0, 1] == pytest.approx(2 * (2 - 1 / 2 - 1 / 3))
    # DHD is position-wise: first/last month doubled one-sided costs
    dhd = om_distances(seqs, method="DHD")
    assert dhd.spec.costs.shape == (4, 3, 3)
    # month 1 -> 2: A->A, A->B, A->C, so p_1(A->B) = 1/3 and B is never left at month 1
    assert dhd.spec.costs[0, 0, 1] == pytest.approx(2 * (2 - 1 / 3))
    # month 2: p_1(A->B) = 1/3 and p_2(A->B) = 1/1 (the one A at month 2 goes to B)
    assert dhd.spec.costs[1, 0, 1] == pytest.approx(4 - 1 / 3 - 0 - 1 - 0)


def test_collapse_weights_and_full_expansion() -> None:
    lists, codes = _random_seqs(3, n=25)
    seqs = sequences(lists, alphabet=ABC)
    d = om_distances(seqs, substitution="CONSTANT", indel=1.0)
    assert d.weights.sum() == seqs.n
    assert d.n_distinct == len({tuple(r) for r in codes.tolist()}) < seqs.n
    np.testing.assert_array_equal(d.distinct[d.index], seqs.codes)
    full = d.full()
    for i, j in [(0, 3), (0, 7), (1, 2), (5, 9)]:
        assert full[i, j] == pytest.approx(om_reference(codes[i], codes[j], d.spec.costs, 1.0))
    assert full[0, 3] == 0.0
    with pytest.raises(SpecificationError, match="max_persons"):
        d.full(max_persons=10)


# ---------------------------------------------------------------- clustering and quality
def _blobs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    pts = np.vstack([rng.normal(c, 1.0, (15, 2)) for c in ([0, 0], [5, 0], [0, 6])])
    return pts, rng.integers(1, 4, len(pts))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_weighted_ward_equals_ward_on_expanded_data(k: int) -> None:
    pts, w = _blobs()
    expanded = np.repeat(pts, w, axis=0)
    tree = ward_tree(squareform(pdist(pts)), w)
    z = linkage(pdist(expanded), method="ward")
    assert adjusted_rand_score(np.repeat(tree.cut(k), w), fcluster(z, k, "maxclust")) == 1.0
    # heights of the non-trivial merges agree (the first ones merge copies at 0)
    np.testing.assert_allclose(np.sort(tree.linkage[:, 2]), np.sort(z[:, 2])[len(expanded) - len(pts) :])


def test_quality_measures_equal_person_level_values() -> None:
    pts, w = _blobs()
    d = squareform(pdist(pts))
    labels = ward_tree(d, w).cut(3)
    q = cluster_quality(d, w, labels)
    expanded, lab = np.repeat(pts, w, axis=0), np.repeat(labels, w)
    full = squareform(pdist(expanded))
    assert q["asw"] == pytest.approx(silhouette_score(full, lab, metric="precomputed"))
    # squared-distance pseudo-F is the Calinski-Harabasz score on Euclidean data
    assert q["chsq"] == pytest.approx(calinski_harabasz_score(expanded, lab))
    # PBC and HC over all ordered person pairs including self-pairs (WeightedCluster)
    n = len(expanded)
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    dist, different = full.ravel(), (lab[ii] != lab[jj]).ravel().astype(float)
    assert q["pbc"] == pytest.approx(np.corrcoef(dist, different)[0, 1])
    n_w = int((different == 0).sum())
    s = np.sort(dist)
    assert q["hc"] == pytest.approx((dist[different == 0].sum() - s[:n_w].sum()) / (s[-n_w:].sum() - s[:n_w].sum()))


@pytest.mark.parametrize("k", [2, 3, 5])
def test_quality_equals_weightedcluster_reference(k: int) -> None:
    """All measures against sequenzo's port of WeightedCluster (wcClusterQuality), OM distances."""
    from sequenzo.clustering.validation.partition_quality import compute_partition_quality

    rng = np.random.default_rng(0)
    codes = rng.integers(0, 4, (120, 6))
    codes[:, 1:] = np.where(rng.random((120, 5)) < 0.8, codes[:, :-1], codes[:, 1:])
    seqs = sequences([[ABC[c] for c in r] for r in codes], alphabet=ABC)
    d = om_distances(seqs, method="OM")
    labels = ward_tree(d.matrix, d.weights).cut(k)
    q = cluster_quality(d.matrix, d.weights, labels)
    names = {"asw": "ASW", "pbc": "PBC", "hc": "HC", "r2": "R2", "ch": "CH", "r2sq": "R2sq", "chsq": "CHsq"}
    for full in (False, True):
        ref = (
            compute_partition_quality(d.full(), labels[d.index], None)
            if full
            else compute_partition_quality(np.array(d.matrix), labels, d.weights.astype(float))
        )
        for ours, theirs in names.items():
            assert q[ours] == pytest.approx(ref[theirs], rel=1e-9), ours
    assert q["r2"] < q["r2sq"]  # the two are different measures (the mislabel of r2sq as r2)


def test_ward_on_om_distances_and_variant_d_equal_scipy_on_expanded() -> None:
    """Weighted Ward on non-Euclidean OM distances vs scipy on persons; ward.D via scipy on sqrt(d)."""
    rng = np.random.default_rng(5)
    codes = rng.integers(0, 4, (60, 10))
    codes[:, 1:] = np.where(rng.random((60, 9)) < 0.7, codes[:, :-1], codes[:, 1:])
    seqs = sequences([[ABC[c] for c in r] for r in codes], alphabet=ABC)
    d = om_distances(seqs, substitution="TRATE", indel=1.3)
    m = np.array(d.matrix)
    noise = rng.random(m.shape) * 1e-6  # break the many ties of OM distances
    m = m + noise + noise.T
    np.fill_diagonal(m, 0.0)
    full = m[np.ix_(d.index, d.index)]
    n, n_distinct = len(full), len(m)
    for variant, ref_d in (("D2", full), ("D", np.sqrt(full))):
        tree = ward_tree(m, d.weights, variant=variant)
        z = linkage(squareform(ref_d, checks=False), method="ward")
        for k in (2, 3, 4, 6):
            assert adjusted_rand_score(tree.cut(k)[d.index], fcluster(z, k, "maxclust")) == 1.0, (variant, k)
        heights = np.sort(z[:, 2])[n - n_distinct :]
        expected = heights if variant == "D2" else heights**2  # scipy works on sqrt(d): its heights are sqrt
        np.testing.assert_allclose(np.sort(tree.linkage[:, 2]), expected, rtol=1e-7, atol=1e-9)


def test_weighted_pam_finds_the_optimum_on_a_small_case() -> None:
    rng = np.random.default_rng(5)
    pts = rng.normal(size=(12, 2))
    w = rng.integers(1, 5, 12)
    d = squareform(pdist(pts))
    res = pam(d, w, 3)
    best = min(float(w @ d[:, list(c)].min(axis=1)) for c in itertools.combinations(range(12), 3))
    assert res.objective * w.sum() == pytest.approx(best)


# ---------------------------------------------------------------- sequences: rules and errors
def test_gaps_censoring_and_recode() -> None:
    frame = pd.DataFrame(
        {
            "person_id": [1, 2, 3, 4, 5],
            "country": ["NO"] * 5,
            "m01": ["WAA", None, "WAA", "WAA", "WAA_M"],
            "m02": [None, "WAA", None, "WAA", "WAA"],
            "m03": ["EMP", "EMP", None, None, "WAA"],
            "m04": ["EMP", "EMP", "EMP", None, "WAA"],
        }
    )
    before = frame.copy()
    s = sequences(frame, recode={"WAA_M": "WAA"})
    pd.testing.assert_frame_equal(frame, before)  # input untouched
    assert list(s.ids) == [1, 2, 5]
    assert "WAA_M" not in s.alphabet
    np.testing.assert_array_equal(s.codes[0], [s.code(x) for x in ("WAA", "WAA", "EMP", "EMP")])
    np.testing.assert_array_equal(s.codes[1], [s.code(x) for x in ("WAA", "WAA", "EMP", "EMP")])  # leading gap
    r = s.report
    assert (r.dropped_censored, r.short_gaps_filled, r.long_gaps, r.recoded_months) == (2, 2, 1, 1)
    kept = sequences(frame, censoring="state")
    assert kept.n == 5 and kept.alphabet[-1] == CENSORED
    cens = kept.code(CENSORED)
    np.testing.assert_array_equal(kept.codes[2], [kept.code("WAA"), cens, cens, cens])  # long gap censors from gap
    np.testing.assert_array_equal(kept.codes[3], [kept.code("WAA"), kept.code("WAA"), cens, cens])
    assert kept.report.censored_persons == 2
    assert not s.codes.flags.writeable
    assert "covariates" not in repr(s) and "WAA" in repr(s)


def test_alphabet_colours_match_world_plots() -> None:
    assert all(STATE_COLOURS[s] == WORLD_COLOURS[s] for s in ALPHABET)
    assert CENSORED in STATE_COLOURS


def test_bad_input_errors() -> None:
    with pytest.raises(DataError, match=r"'m02'.*unknown state.*XX"):
        sequences(pd.DataFrame({"person_id": [1, 2], "m01": ["WAA", "WAA"], "m02": ["WAA", "XX"]}))
    with pytest.raises(DataError, match="equal length"):
        sequences([["WAA", "WAA"], ["WAA"]])
    with pytest.raises(DataError, match="state_columns"):
        sequences(pd.DataFrame({"person_id": [1], "m01": ["WAA"], "m02": ["WAA"]}), state_columns=["m01", "m03"])
    with pytest.raises(DataError, match="duplicated"):
        sequences(pd.DataFrame({"person_id": [1, 1], "m01": ["WAA"] * 2, "m02": ["WAA"] * 2}))
    same = sequences([["WAA", "EMP"]] * 6)
    with pytest.raises(DataError, match="identical"):
        typology(same, k=2)
    lists, _ = _random_seqs(0, n=10)
    s = sequences(lists, alphabet=ABC)
    with pytest.raises(SpecificationError, match=r"k: expected an integer >= 2"):
        typology(s, k=1)
    with pytest.raises(SpecificationError, match="at most the number of distinct sequences"):
        typology(s, k=50)
    with pytest.raises(SpecificationError, match="substitution: expected one of"):
        om_distances(s, substitution="TRATES")
    with pytest.raises(SpecificationError, match="indel: expected a positive"):
        om_distances(s, indel=-1.0)
    with pytest.raises(SpecificationError, match="method"):
        om_distances(s, method="LCS")
    with pytest.raises(SpecificationError, match="symmetric"):
        om_distances(s, substitution=np.ones((3, 3)))
    with pytest.raises(SpecificationError, match="method"):
        typology(s, k=2, method="kmeans")


def test_determinism_pam_and_clara() -> None:
    lists, _ = _random_seqs(4, n=80, t=10)
    s = sequences(lists, alphabet=ABC)
    a = typology(s, k=3, method="clara", seed=7, sample_size=40, samples=3)
    b = typology(s, k=3, method="clara", seed=7, sample_size=40, samples=3)
    np.testing.assert_array_equal(a.labels, b.labels)
    p1, p2 = typology(s, k=3, method="pam"), typology(s, k=3, method="pam")
    np.testing.assert_array_equal(p1.labels, p2.labels)
    # CLARA with the whole cohort as its sample is PAM
    full = typology(s, k=3, method="clara", seed=1, sample_size=80, samples=1)
    assert adjusted_rand_score(full.labels, p1.labels) == 1.0


# ---------------------------------------------------------------- descriptives
def test_turbulence_entropy_and_suppression() -> None:
    s = sequences(
        [["A", "A", "A", "A"]] * 6 + [["A", "A", "B", "B"]] * 5 + [["A", "B", "A", "B"]] * 2, alphabet=("A", "B")
    )
    ind = D.indicators(s)
    assert ind["turbulence"].iloc[0] == pytest.approx(1.0)  # constant sequence
    # A/2-B/2: phi(AB) = 4, durations (2, 2) -> variance 0, s2max = 1 x (1 - 2)^2 = 1
    assert ind["turbulence"].iloc[6] == pytest.approx(np.log2(4 * 2))
    assert ind["entropy"].iloc[6] == pytest.approx(1.0)
    assert ind["transitions"].iloc[-1] == 3
    dist = D.state_distribution(s)
    assert dist.loc[4, "B"] == pytest.approx(7 / 13)
    assert np.isnan(dist.loc[2, "B"])  # 2 persons in B at month 2 < threshold 5
    assert (dist["n"] == 13).all()
    freq = D.frequent_sequences(s)
    assert freq["sequence"].tolist() == ["A/4", "A/2-B/2"]  # the 2-person sequence is not shown
    summary = D.indicator_summary(s)
    assert set(summary["indicator"]) == {"transitions", "spells", "entropy", "turbulence"}
    assert D.mean_time(s).loc["all", "A"] == pytest.approx((6 * 4 + 5 * 2 + 2 * 2) / 13)
    rates = D.transition_rates(s, min_count=1)
    # from A: 6 x 3 + 5 x 1 = 23 to A; 5 x 1 + 2 x 2 = 9 to B
    assert rates.loc["A", "B"] == pytest.approx(9 / 32)

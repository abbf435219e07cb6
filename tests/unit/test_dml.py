"""Heterogeneous effects by DML: recovery of planted truth, EconML equivalence, inference, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from o4o_causal.dml import estimate_cate
from o4o_causal.dml import forest as dml_forest
from o4o_causal.dml.heterogeneity import linear_dml
from o4o_causal.dml.nuisance import fold_ids
from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError
from o4o_causal.synth.designs import cate_design

FAST = {"n_estimators": 40}


@pytest.fixture(scope="module")
def design():
    return cate_design(12_000, n_clusters=120, cluster_sd=0.8, seed=11)


@pytest.fixture(scope="module")
def fit(design):
    return estimate_cate(
        design.data,
        outcome="employed",
        treatment="treated",
        effect_modifiers=list(design.effect_modifiers),
        controls=list(design.controls),
        cluster="municipality",
        seed=3,
        progress=False,
    )


def _kwargs(design, **extra):
    base = {
        "outcome": "employed",
        "treatment": "treated",
        "effect_modifiers": list(design.effect_modifiers),
        "controls": list(design.controls),
        "cluster": "municipality",
        "progress": False,
        "forest_options": FAST,
    }
    return {**base, **extra}


def test_ate_att_and_gates_cover_planted_truth(fit, design) -> None:
    ate = fit.ate()
    assert ate.covers(design.ate), (ate, design.ate)
    truth = design.truth.assign(integrated=design.data["integrated"].to_numpy())
    true_gate = truth.groupby("integrated")["cate"].mean()
    gates = fit.gate("integrated")
    for row in gates.itertuples():
        assert row.ci_low <= true_gate[int(row.group)] <= row.ci_high, row
    treated = design.data["treated"].to_numpy() == 1
    assert fit.att().covers(float(design.truth["cate"][treated].mean()))
    assert gates["n"].sum() == fit.n
    # the integrated municipalities benefit more (planted)
    assert true_gate[1] > true_gate[0] and gates["estimate"].iloc[1] > gates["estimate"].iloc[0]
    assert gates["clusters"].sum() >= fit.n_clusters and not gates["suppressed"].any()


def test_cate_accuracy_and_heterogeneity_detected(fit, design) -> None:
    true = design.truth["cate"].to_numpy()
    full = fit.cate(interval=False)["cate"].to_numpy()
    rmse = float(np.sqrt(np.mean((full - true) ** 2)))
    assert rmse < 0.8 * true.std(), (rmse, true.std())
    assert np.corrcoef(full, true)[0, 1] > 0.65, np.corrcoef(full, true)[0, 1]
    # the cross-fitted predictions (half the municipalities each) are noisier but informative
    assert np.corrcoef(fit.tau, true)[0, 1] > 0.5
    tests = fit.heterogeneity_test()
    assert (tests["p_value"] < 0.01).all()
    b2 = fit.calibration().set_index("term").loc["heterogeneity loading (b2)"]
    assert b2["ci_low"] > 0.2 and b2["estimate"] < 3, b2
    sorted_ = fit.sorted_effects(q=4)
    assert sorted_["mean_predicted"].is_monotonic_increasing
    assert sorted_["estimate"].iloc[-1] > sorted_["estimate"].iloc[0] + 0.1
    clan = fit.clan(q=4).set_index("characteristic")
    # x3 raises the effect, x2 lowers it (planted)
    assert clan.loc["x3", "difference"] > 0 and clan.loc["x3", "p_value"] < 0.01
    assert clan.loc["x2", "difference"] < 0 and clan.loc["x2", "p_value"] < 0.01
    blp = fit.blp().set_index("term")
    assert blp.loc["x3", "ci_low"] > 0 and blp.loc["x2", "ci_high"] < 0
    assert np.isclose(blp.loc["(ATE)", "estimate"], fit.ate().value)


def test_clustered_se_larger_than_naive_when_outcomes_correlate(fit) -> None:
    clustered, naive = fit.ate(), fit.ate(clustered=False)
    assert clustered.value == naive.value
    assert clustered.se > 1.2 * naive.se, (clustered.se, naive.se)
    assert "cluster=municipality" in clustered.method and "unclustered" in naive.method


def test_nuisance_report_and_policy_tree(fit) -> None:
    report = fit.nuisance_report().set_index("measure")
    assert 0.55 < report.loc["AUC out-of-fold", "value"] < 0.9
    assert report.loc["R² out-of-fold (marginal)", "value"] > 0.02
    policy = fit.policy_tree(depth=2, cost=0.12)
    leaves = policy.leaves
    assert leaves["n"].sum() == fit.n and (leaves["n"] >= 0.02 * fit.n - 1).all()
    value = policy.value.set_index("policy")
    # with a cost, treating everybody is worse than a targeted policy (planted heterogeneity)
    gain = value.loc["learned tree vs treat everybody"]
    assert gain["estimate"] > 0 and gain["ci_low"] > 0, gain
    assert 0 < policy.value.attrs["share_treated"] < 1
    assert len(policy.rules()) == len(leaves) and all("->" in r for r in policy.rules())


def test_cate_for_new_data_with_intervals(fit, design) -> None:
    new = design.data.head(50)
    out = fit.cate(new)
    assert list(out.columns) == ["cate", "ci_low", "ci_high"]
    assert (out["ci_low"] <= out["cate"]).all() and (out["cate"] <= out["ci_high"]).all()
    np.testing.assert_allclose(fit.cate(new, interval=False)["cate"], out["cate"], rtol=1e-12)
    own = fit.cate(interval=False)
    assert len(own) == fit.n and not np.allclose(own["cate"], fit.tau)  # full forest vs cross-fitted
    with pytest.raises(DataError, match="finite"):
        fit.cate(new.assign(x2=np.nan))


def test_deterministic_and_input_untouched(design) -> None:
    data = design.data.head(3000)
    before = data.copy()
    a = estimate_cate(data, **_kwargs(design, seed=5, learner="linear"))
    b = estimate_cate(data, **_kwargs(design, seed=5, learner="linear"))
    c = estimate_cate(data, **_kwargs(design, seed=6, learner="linear"))
    pd.testing.assert_frame_equal(data, before)
    np.testing.assert_array_equal(a.psi, b.psi)
    np.testing.assert_array_equal(a.tau, b.tau)
    assert not np.array_equal(a.tau, c.tau)
    with pytest.raises(ValueError):
        a.psi[0] = 1.0  # read-only results


def test_lightgbm_nuisances_are_seeded(design) -> None:
    data = design.data.head(3000)
    a = estimate_cate(data, **_kwargs(design, seed=9))
    b = estimate_cate(data, **_kwargs(design, seed=9))
    np.testing.assert_array_equal(a.nuisance.m, b.nuisance.m)
    np.testing.assert_array_equal(a.nuisance.g1, b.nuisance.g1)


def test_folds_keep_clusters_whole_and_balanced() -> None:
    rng = np.random.default_rng(0)
    clusters = pd.factorize(rng.integers(0, 60, 5000))[0]
    fold = fold_ids(5000, clusters, 5, seed=1)
    per_cluster = pd.Series(fold).groupby(clusters).nunique()
    assert (per_cluster == 1).all()
    sizes = np.bincount(fold)
    assert sizes.max() - sizes.min() < 0.1 * sizes.mean()
    np.testing.assert_array_equal(fold, fold_ids(5000, clusters, 5, seed=1))


def _econml_setup(seed: int = 3):
    des = cate_design(3000, n_clusters=30, seed=seed)
    df = des.data
    x = df[["x2", "x3", "integrated"]].to_numpy(float)
    w = df[["x1", "x4", "resources"]].to_numpy(float)
    y, d = df["employed"].to_numpy(float), df["treated"].to_numpy(int)
    fold = np.arange(len(y)) % 3
    splits = [(np.flatnonzero(fold != k), np.flatnonzero(fold == k)) for k in range(3)]
    z = np.column_stack([x, w])
    y_res, t_res = np.empty(len(y)), np.empty(len(y))
    for train, test in splits:
        y_res[test] = y[test] - LinearRegression().fit(z[train], y[train]).predict(z[test])
        prop = LogisticRegression(C=1e6, max_iter=2000).fit(z[train], d[train])
        t_res[test] = d[test] - prop.predict_proba(z[test])[:, 1]
    return x, w, y, d, splits, y_res, t_res


def test_forest_on_residuals_equals_econml_causal_forest_dml() -> None:
    from econml.dml import CausalForestDML

    x, w, y, d, splits, y_res, t_res = _econml_setup()
    est = CausalForestDML(
        model_y=LinearRegression(),
        model_t=LogisticRegression(C=1e6, max_iter=2000),
        discrete_treatment=True,
        cv=splits,
        n_estimators=40,
        min_samples_leaf=10,
        max_samples=0.45,
        random_state=5,
        drate=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(y, d, X=x, W=w)
    forest, _ = dml_forest.fit(x, t_res, y_res, seed=5, options={"n_estimators": 40, "min_samples_leaf": 10})
    np.testing.assert_allclose(dml_forest.predict(forest, x), est.effect(x), rtol=1e-8, atol=1e-12)


def test_linear_dml_final_stage_equals_econml() -> None:
    from econml.dml import LinearDML

    x, w, y, d, splits, y_res, t_res = _econml_setup(4)
    lin = LinearDML(
        model_y=LinearRegression(), model_t=LogisticRegression(C=1e6, max_iter=2000), discrete_treatment=True, cv=splits
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lin.fit(y, d, X=x, W=w)
    table = linear_dml(y_res, t_res, x, ["a", "b", "c"], None, 0.95)
    np.testing.assert_allclose(table["estimate"], [lin.intercept_, *lin.coef_], rtol=1e-8)
    # unclustered (HC1) standard errors equal EconML's; clustered ones are ours
    np.testing.assert_allclose(
        table["se"], [lin.intercept__inference().stderr, *lin.coef__inference().stderr], rtol=1e-6
    )


def test_gate_by_array_crossing_and_continuous(fit, design) -> None:
    by_array = fit.gate(design.data["integrated"].to_numpy())
    np.testing.assert_allclose(by_array["estimate"], fit.gate("integrated")["estimate"])
    crossed = fit.gate(["integrated", "x3"])
    assert len(crossed) == 4 and crossed["n"].sum() == fit.n
    with pytest.raises(SpecificationError, match="bins"):
        fit.gate("x2")
    assert len(fit.gate("x2", bins=4)) == 4
    with pytest.raises(DataError, match="keep="):
        fit.gate("treated")
    assert len(fit.gate("treated", data=design.data)) == 2


# ---------------------------------------------------------------- bad input


def test_non_binary_treatment_is_refused(design) -> None:
    data = design.data.head(2000).assign(treated=lambda f: f["treated"] * 2)
    with pytest.raises(DataError, match="treatment column 'treated'.*binary"):
        estimate_cate(data, **_kwargs(design))


def test_too_few_clusters(design) -> None:
    data = design.data.head(2000).assign(municipality="m1")
    with pytest.raises(DataError, match="at least 5 clusters"):
        estimate_cate(data, **_kwargs(design))
    two = design.data.head(2000).assign(municipality=np.arange(2000) % 2)
    with pytest.raises(DataError, match="fewer folds"):
        estimate_cate(two, **_kwargs(design))


def test_cluster_with_one_arm_warns(design) -> None:
    data = design.data.head(3000).copy()
    first = data["municipality"] == data["municipality"].iloc[0]
    data.loc[first, "treated"] = 0
    with pytest.warns(O4OWarning, match="only one treatment arm"):
        estimate_cate(data, **_kwargs(design, learner="linear"))


def test_missing_values_in_controls(design) -> None:
    data = design.data.head(2000).copy()
    data.loc[data.index[:7], "resources"] = np.nan
    with pytest.raises(DataError, match="'resources'.*7 missing"):
        estimate_cate(data, **_kwargs(design))


def test_non_numeric_effect_modifier_needs_encoding(design) -> None:
    data = design.data.head(2000).assign(region=lambda f: np.where(f["x1"] > 0, "north", "south"))
    with pytest.raises(DataError, match="'region'.*get_dummies"):
        estimate_cate(data, **_kwargs(design, effect_modifiers=["x2", "region"]))
    # as a control, text is dummy-coded
    res = estimate_cate(data, **_kwargs(design, controls=["region", "resources"], learner="linear"))
    assert "region_south" in res.controls


def test_bad_specifications(design) -> None:
    data = design.data.head(2000)
    with pytest.raises(SpecificationError, match="learner"):
        estimate_cate(data, **_kwargs(design, learner="xgboost"))
    with pytest.raises(SpecificationError, match="folds"):
        estimate_cate(data, **_kwargs(design, folds=1))
    with pytest.raises(SpecificationError, match="effect_modifiers"):
        estimate_cate(data, **_kwargs(design, effect_modifiers=[]))
    with pytest.raises(SpecificationError, match="neither the outcome"):
        estimate_cate(data, **_kwargs(design, controls=["treated"]))
    with pytest.raises(DataError, match="'nope'"):
        estimate_cate(data, **_kwargs(design, controls=["nope"]))


# ---------------------------------------------------------------- repeated sampling


def test_clustered_intervals_are_not_too_narrow_in_repeated_samples() -> None:
    """50 worlds with strong municipality correlation: clustered intervals keep their level.

    The naive (i.i.d.) intervals under-cover in the same worlds, which is what makes the
    check able to fail: with too-narrow clustered SEs coverage falls like the naive one.
    """
    covered = {True: 0, False: 0}
    ratio = []
    reps = 50
    for rep in range(reps):
        des = cate_design(3000, n_clusters=60, cluster_sd=1.2, confounding=0.4, seed=1000 + rep)
        res = estimate_cate(
            des.data,
            **{**_kwargs(des, learner="linear", seed=rep, forest_options={"n_estimators": 8, "max_rows": 1000})},
        )
        for clustered in (True, False):
            covered[clustered] += res.ate(clustered=clustered).covers(des.ate)
        ratio.append(res.ate().se / res.ate(clustered=False).se)
    assert covered[True] / reps >= 0.88, covered
    assert covered[False] < covered[True], covered
    assert np.mean(ratio) > 1.1


def test_few_clusters_warn(design) -> None:
    data = design.data.head(3000).assign(municipality=lambda f: np.arange(len(f)) % 12)
    with pytest.warns(O4OWarning, match="only 12 clusters"):
        estimate_cate(data, **_kwargs(design, learner="linear"))


def _no_heterogeneity(seed: int, n: int = 4000, g: int = 80) -> pd.DataFrame:
    """Constant effect 0.5; municipality shocks in treatment (v) and outcome (u) the models cannot see."""
    from scipy.special import expit

    rng = np.random.default_rng(seed)
    c = rng.integers(0, g, n)
    u, v, s = rng.normal(0, 1.5, g), rng.normal(0, 1.0, g), rng.normal(0, 1, g)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    d = (rng.random(n) < expit(0.3 * x1 + v[c])).astype(int)
    y = x1 + 0.5 * x2 + u[c] + 0.5 * d + rng.normal(size=n)
    return pd.DataFrame({"m": c, "x1": x1, "x2": x2, "s": s[c], "d": d, "y": y})


def test_heterogeneity_tests_keep_their_size_under_municipality_shocks() -> None:
    """No heterogeneity, but municipality shocks in treatment and outcome, and a municipality-level modifier.

    Out-of-bag CATE predictions rejected in 100% of these worlds (the forest learns each
    municipality's shocks from the other persons of the same municipality); predictions
    cross-fitted over whole municipalities keep the nominal 5% (one-sided) rate.
    """
    reps, rejections = 15, {"b2": 0, "top_bottom": 0}
    for rep in range(reps):
        data = _no_heterogeneity(rep)
        res = estimate_cate(
            data,
            outcome="y",
            treatment="d",
            effect_modifiers=["x1", "x2", "s"],
            cluster="m",
            learner="linear",
            seed=rep,
            progress=False,
            forest_options={"n_estimators": 40},
        )
        b2 = res.calibration().iloc[1]
        rejections["b2"] += b2["estimate"] / b2["se"] > 1.645
        tb = res.sorted_effects(q=5).attrs["top_minus_bottom"]
        rejections["top_bottom"] += tb["estimate"] / tb["se"] > 1.645
    assert rejections["b2"] <= 3 and rejections["top_bottom"] <= 3, rejections


def test_gate_alignment_missing_values_and_small_groups(design) -> None:
    data = design.data.head(3000).copy()
    data["region"] = np.where(data["x1"] > 0, "north", None)
    with pytest.warns(O4OWarning, match="missing values"):
        res = estimate_cate(data, **_kwargs(design, learner="linear", keep=["region"]))
    with pytest.raises(DataError, match="missing"):
        res.gate("region")
    shuffled = data.sample(frac=1.0, random_state=1)
    with pytest.raises(DataError, match="same index"):
        res.gate("treated", data=shuffled)
    with pytest.raises(DataError, match="index"):
        res.gate(pd.Series(data["x3"].to_numpy(), index=shuffled.index))
    # one municipality as a group: no cluster-robust SE from one cluster; a tiny group is suppressed
    first = (data["municipality"] == data["municipality"].iloc[0]).to_numpy()
    one = res.gate(first.astype(int))
    row = one.set_index("group").loc["1"]
    assert row["clusters"] == 1 and np.isnan(row["se"]) and np.isfinite(row["estimate"])
    tiny = np.zeros(len(data), dtype=int)
    tiny[:3] = 1
    small = res.gate(tiny).set_index("group")
    assert small.loc["1", "suppressed"] and np.isnan(small.loc["1", "estimate"])
    assert np.isnan(small.attrs["equality"]["p_value"])
    # numeric groups are ordered by value, not as text
    many = res.gate(np.arange(len(data)) % 12)
    assert many["group"].tolist() == [str(i) for i in range(12)]


def test_quantile_ties_are_broken_at_random_not_by_row_order() -> None:
    from o4o_causal.dml.heterogeneity import quantile_groups

    groups = quantile_groups(np.zeros(1000), 5, seed=1)
    assert np.bincount(groups).tolist() == [200] * 5
    assert abs(np.corrcoef(groups, np.arange(1000))[0, 1]) < 0.1
    np.testing.assert_array_equal(groups, quantile_groups(np.zeros(1000), 5, seed=1))


def test_custom_pipeline_learners_are_seeded(design) -> None:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    learner = {
        "outcome": make_pipeline(StandardScaler(), RandomForestRegressor(n_estimators=20, min_samples_leaf=20)),
        "propensity": make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=20, min_samples_leaf=20)),
    }
    data = design.data.head(2000)
    a = estimate_cate(data, **_kwargs(design, learner=learner, seed=2))
    b = estimate_cate(data, **_kwargs(design, learner=learner, seed=2))
    np.testing.assert_array_equal(a.psi, b.psi)
    assert a.learner == "custom"


def test_policy_tree_leaves_are_honest_and_disclosure_safe(fit) -> None:
    policy = fit.policy_tree(depth=2, cost=0.12, min_leaf=1)
    leaves = policy.leaves
    assert (leaves["n"] >= 5).all()  # floored at the disclosure threshold
    assert (leaves["n_estimation"] < leaves["n"]).all()  # effects from the held-out half only
    with pytest.raises(SpecificationError, match="depth"):
        fit.policy_tree(depth=0)

"""Difference-in-differences against independent computations, and its input checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError
from o4o_causal.policy import ddd, did, did_by


def panel(seed: int = 0, n: int = 90, periods: int = 6, drop: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"id": np.repeat(np.arange(n), periods), "t": np.tile(np.arange(periods), n) + 2016})
    frame["tr"] = (frame["id"] < n // 3).astype(int)
    frame["post"] = (frame["t"] >= 2016 + periods // 2).astype(int)
    frame["grp"] = np.where(frame["id"] % 3 == 0, "a", np.where(frame["id"] % 3 == 1, "b", "c"))
    frame["kids"] = (frame["id"] % 2).astype(int)
    frame["city"] = frame["id"] % 6
    frame["x"] = rng.normal(size=len(frame))
    effect = 0.4 + 0.3 * (frame["grp"] == "b") + 0.2 * frame["kids"]
    frame["y"] = (
        rng.normal(size=n)[frame["id"]] + 0.1 * frame["t"] + effect * frame["tr"] * frame["post"] + 0.3 * frame["x"]
    ) + rng.normal(size=len(frame))
    if drop:
        frame = frame.sample(frac=1 - drop, random_state=seed).sort_values(["id", "t"], ignore_index=True)
    return frame


def dummies_ols(
    frame: pd.DataFrame, regressors: list[str], fe: list[str], cluster: str
) -> sm.regression.linear_model.RegressionResultsWrapper:
    x = frame[regressors].astype(float)
    for col in fe:
        x = x.join(pd.get_dummies(frame[col].astype(str), prefix=col, drop_first=True, dtype=float))
    x = sm.add_constant(x)
    return sm.OLS(frame["y"].to_numpy(), x).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(frame[cluster])[0]}
    )


def test_twfe_equals_ols_with_dummies_unbalanced() -> None:
    frame = panel(drop=0.15).assign(dp=lambda d: d["tr"] * d["post"])
    ref = dummies_ols(frame, ["dp", "x"], ["id", "t"], "id")
    est = did(frame, outcome="y", unit="id", time="t", treated="tr", post="post", covariates="x", ssc="full")
    np.testing.assert_allclose(est.value, ref.params["dp"], rtol=1e-8)
    np.testing.assert_allclose(est.se, ref.bse["dp"], rtol=1e-8)
    assert est.incomplete_units > 0 and est.n == len(frame) and est.n_clusters == frame["id"].nunique()
    # default (fixest) convention: the person effects, nested in the person clusters, are not counted in K
    default = did(frame, outcome="y", unit="id", time="t", treated="tr", post="post", covariates="x")
    n, k_full = len(frame), ref.df_model + 1
    k_nonnested = 2 + frame["t"].nunique() - 1 + 1  # dp, x, time effects, one for the nested unit effects
    np.testing.assert_allclose((default.se / est.se) ** 2, (n - k_full) / (n - k_nonnested), rtol=1e-8)


@pytest.mark.filterwarnings("ignore::o4o_causal.exceptions.O4OWarning")
def test_twfe_city_cluster_and_weights_equal_wls() -> None:
    frame = panel(seed=1).assign(dp=lambda d: d["tr"] * d["post"], w=lambda d: 1.0 + (d["id"] % 4))
    x = frame[["dp"]].astype(float)
    for col in ("id", "t"):
        x = x.join(pd.get_dummies(frame[col].astype(str), prefix=col, drop_first=True, dtype=float))
    ref = sm.WLS(frame["y"], sm.add_constant(x), weights=frame["w"]).fit(
        cov_type="cluster", cov_kwds={"groups": frame["city"].to_numpy()}
    )
    est = did(
        frame, outcome="y", unit="id", time="t", treated="tr", post="post", weights="w", cluster="city", ssc="full"
    )
    np.testing.assert_allclose(est.value, ref.params["dp"], rtol=1e-8)
    np.testing.assert_allclose(est.se, ref.bse["dp"], rtol=1e-8)


def test_2x2_equals_difference_of_four_means() -> None:
    frame = panel(seed=2)
    cell = frame.groupby(["tr", "post"])["y"].mean()
    by_hand = (cell[(1, 1)] - cell[(1, 0)]) - (cell[(0, 1)] - cell[(0, 0)])
    est = did(frame, outcome="y", unit="id", time="t", treated="tr", post="post", method="2x2")
    np.testing.assert_allclose(est.value, by_hand, rtol=1e-10)
    means = frame.groupby(["id", "post"])["y"].mean().unstack()
    units = frame.groupby("id")["tr"].first()
    ref = sm.OLS((means[1] - means[0]).to_numpy(), sm.add_constant(units.to_numpy().astype(float))).fit(
        cov_type="cluster", cov_kwds={"groups": np.arange(len(units))}
    )
    np.testing.assert_allclose(est.se, ref.bse[1], rtol=1e-8)
    assert est.n == frame["id"].nunique() and est.method == "did-2x2"
    # balanced panel without covariates: TWFE gives the same point estimate
    twfe = did(frame, outcome="y", unit="id", time="t", treated="tr", post="post")
    np.testing.assert_allclose(twfe.value, by_hand, rtol=1e-8)


def test_unbalanced_2x2_warns_and_balance_reports_dropped() -> None:
    frame = panel(seed=3)
    gone = frame[(frame["id"] < 5) & (frame["post"] == 1)].index
    frame = frame.drop(gone)
    with pytest.warns(O4OWarning, match="5 of 90 units"):
        est = did(frame, outcome="y", unit="id", time="t", treated="tr", post="post", method="2x2")
    assert est.dropped_units == 5 and est.n == 85
    balanced = did(frame, outcome="y", unit="id", time="t", treated="tr", post="post", balance=True)
    assert balanced.dropped_units == 5 and balanced.n_units == 85 and balanced.incomplete_units == 0


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.SingularMatrixWarning")
def test_subgroups_equal_separate_regressions_and_equality_test() -> None:
    frame = panel(seed=4, n=150)
    res = did_by(frame, outcome="y", unit="id", time="t", treated="tr", post="post", by="grp", ssc="full")
    assert list(res.estimates) == ["a", "b", "c"]
    for label, est in res.estimates.items():
        alone = did(frame[frame["grp"] == label], outcome="y", unit="id", time="t", treated="tr", post="post")
        np.testing.assert_allclose(est.value, alone.value, rtol=1e-8)
    # the joint model with statsmodels: unit dummies, time x group dummies, one treated-post column per group
    work = frame.assign(tg=frame["t"].astype(str) + frame["grp"])
    cols = []
    for g in ("a", "b", "c"):
        work[f"dp_{g}"] = work["tr"] * work["post"] * (work["grp"] == g)
        cols.append(f"dp_{g}")
    ref = dummies_ols(work, cols, ["id", "tg"], "id")
    np.testing.assert_allclose([e.se for e in res.estimates.values()], ref.bse[cols].to_numpy(), rtol=1e-8)
    r = np.zeros((2, len(ref.params)))
    r[0, 1], r[0, 0 + 1 + 1] = -1, 1
    r[1, 1], r[1, 3] = -1, 1
    wald = ref.wald_test(r, use_f=False, scalar=True)
    np.testing.assert_allclose(res.equality[0], float(wald.statistic), rtol=1e-7)
    assert res.equality[1] == 2
    table = res.summary()
    assert table["group"].tolist() == ["a", "b", "c"] and "equality_test" in table.attrs


@pytest.mark.filterwarnings("ignore::statsmodels.tools.sm_exceptions.SingularMatrixWarning", "ignore::RuntimeWarning")
def test_ddd_equals_ols_and_two_period_contrast() -> None:
    frame = panel(seed=5, n=120)
    work = frame.assign(
        dpg=frame["tr"] * frame["post"] * frame["kids"],
        td=frame["t"].astype(str) + frame["tr"].astype(str),
        tg=frame["t"].astype(str) + frame["kids"].astype(str),
    )
    ref = dummies_ols(work, ["dpg"], ["id", "td", "tg"], "id")
    est = ddd(frame, outcome="y", unit="id", time="t", treated="tr", post="post", group="kids", ssc="full")
    np.testing.assert_allclose(est.value, ref.params["dpg"], rtol=1e-8)
    np.testing.assert_allclose(est.se, ref.bse["dpg"], rtol=1e-8)
    two = frame[frame["t"].isin([2016, 2021])]
    m = two.groupby(["tr", "kids", "post"])["y"].mean()
    change = {(d, g): m[(d, g, 1)] - m[(d, g, 0)] for d in (0, 1) for g in (0, 1)}
    contrast = (change[(1, 1)] - change[(0, 1)]) - (change[(1, 0)] - change[(0, 0)])
    est2 = ddd(two, outcome="y", unit="id", time="t", treated="tr", post="post", group="kids")
    np.testing.assert_allclose(est2.value, contrast, rtol=1e-8)


def test_single_treated_cluster_warns_and_does_not_mutate() -> None:
    frame = panel(seed=6).assign(
        region=lambda d: np.where(d["tr"] == 1, "bergen", np.where(d["id"] % 2, "oslo", "bodo"))
    )
    before = frame.copy()
    with pytest.warns(O4OWarning, match="invalid.*synthetic_control"):
        est = did(frame, outcome="y", unit="id", time="t", treated="tr", post="post", cluster="region")
    assert est.n_treated_clusters == 1 and est.cluster == "region"
    pd.testing.assert_frame_equal(frame, before)


@pytest.mark.parametrize(
    ("change", "kwargs", "error", "match"),
    [
        (lambda d: d.drop(columns="post"), {}, DataError, "'post'.*missing"),
        (lambda d: d.assign(tr=d["tr"] * 2), {}, DataError, "treated column 'tr'.*binary"),
        (
            lambda d: d.assign(post=np.where(d["post"] == 1, "after", "before")),
            {},
            DataError,
            "post column 'post'.*binary",
        ),
        (lambda d: d.assign(tr=(d["t"] > 2018).astype(int)), {}, DataError, "constant within each 'id'.*event_study"),
        (lambda d: d.assign(post=(d["id"] % 2)), {}, DataError, "post column.*constant within each 't'"),
        (lambda d: pd.concat([d, d.iloc[:1]]), {}, DataError, "one row per unit and period"),
        (lambda d: d[~((d["tr"] == 1) & (d["post"] == 1))], {}, DataError, "treated after"),
        (lambda d: d.assign(y=np.where(d.index == 3, np.nan, d["y"])), {}, DataError, "'y'.*missing values"),
        (lambda d: d, {"method": "ols"}, SpecificationError, "method.*'twfe', '2x2'"),
        (lambda d: d, {"ssc": "min"}, SpecificationError, "ssc"),
        (lambda d: d, {"ci_level": 95}, SpecificationError, "ci_level"),
    ],
)
def test_bad_input(change: object, kwargs: dict[str, object], error: type[Exception], match: str) -> None:
    frame = change(panel())  # type: ignore[operator]
    with pytest.raises(error, match=match):
        did(frame, outcome="y", unit="id", time="t", treated="tr", post="post", **kwargs)  # type: ignore[arg-type]


def test_subgroup_checks() -> None:
    frame = panel()
    with pytest.raises(DataError, match="constant within each"):
        did_by(frame.assign(g=frame["t"] % 2), outcome="y", unit="id", time="t", treated="tr", post="post", by="g")
    lonely = frame.assign(g=np.where(frame["tr"] == 1, "t", np.where(frame["id"] % 2, "a", "t")))
    lonely.loc[lonely["tr"] == 1, "g"] = "t"
    with pytest.raises(DataError, match="group 'a'.*tr=1"):
        did_by(lonely, outcome="y", unit="id", time="t", treated="tr", post="post", by="g")

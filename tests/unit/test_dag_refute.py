"""Refutation table: placebo near zero, cluster-aware resampling, SE check, determinism, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from o4o_causal.dag import methods
from o4o_causal.dag.estimate import DagEstimate, estimate_effect, estimate_with_spec, respec
from o4o_causal.dag.graph import CausalDAG
from o4o_causal.dag.refutation import CHECKS, COLUMNS, DEFAULTS, refute
from o4o_causal.dag.resample import Draws, placebo_treatment
from o4o_causal.exceptions import DataError, SpecificationError
from o4o_causal.results import Estimate

DAG = CausalDAG.from_dot(
    "digraph { x1 -> d; x2 -> d; m -> d; v -> d; x1 -> y; x2 -> y; m -> y; d -> y; m [level=municipality]; }"
)
EFFECT = 1.0
FEW = {"placebo": 10, "random_common_cause": 4, "subset": 4, "bootstrap": 20}


def simulate(n: int = 2000, clusters: int = 30, seed: int = 7, omitted: float = 0.0) -> pd.DataFrame:
    """Binary treatment whose share varies strongly by cluster; ``u`` is an omitted confounder.

    ``m`` (municipality level) confounds; ``v`` (municipality level) drives the treatment share only.
    """
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, clusters, n)
    m, v = rng.normal(size=(2, clusters))[:, cluster]
    x1, x2, u = rng.normal(size=(3, n))
    d = (rng.random(n) < 1 / (1 + np.exp(-(0.6 * x1 - 0.5 * x2 + 0.8 * m + 1.5 * v + omitted * u)))).astype(int)
    y = EFFECT * d + 0.8 * x1 + 0.4 * x2 + 0.6 * m + omitted * u + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "m": m, "v": v, "u": u, "d": d, "y": y, "cluster": cluster})


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return simulate()


def fit(data: pd.DataFrame, method: str = "regression", **kwargs: object) -> DagEstimate:
    return estimate_effect(data, DAG, treatment="d", outcome="y", method=method, cluster="cluster", **kwargs)  # type: ignore[arg-type]


def test_table_has_one_row_per_check_and_all_pass(data: pd.DataFrame) -> None:
    est = fit(data)
    table = refute(data, DAG, est, n_simulations=FEW, n_jobs=1, progress=False)
    assert list(table.columns) == list(COLUMNS)
    assert list(table["check"][:4]) == ["placebo", "random_common_cause", "subset", "bootstrap"]
    assert table["check"].str.startswith("sensitivity").sum() == 5
    assert (table["estimate"] == est.value).all()
    assert table["passed"].dtype == bool
    # all pass except the extreme scenario (a confounder explaining all outcome variance), which
    # fails here: the municipality-level m explains more of the treatment than d of the outcome
    judged = table[table["check"] != "sensitivity: partial R2"]
    assert judged["passed"].all(), judged[["check", "detail"]]
    sims = table.set_index("check")["n_simulations"]
    assert sims[["placebo", "random_common_cause", "subset", "bootstrap"]].tolist() == [10, 4, 4, 20]
    assert "clusters" in table.set_index("check").loc["subset", "detail"]


@pytest.mark.parametrize(
    ("method", "fixed_effects"), [("regression", None), ("ipw", None), ("regression", "cluster"), ("ipw", "cluster")]
)
def test_placebo_effect_is_near_zero_when_the_real_effect_is_not(
    data: pd.DataFrame, method: str, fixed_effects: str | None
) -> None:
    if not hasattr(methods, method):
        pytest.skip(f"method {method} not implemented")
    # with fixed effects the municipality-level m is absorbed (and would duplicate its own cluster mean)
    adjustment = ["x1", "x2"] if fixed_effects else None
    est = fit(data, method, fixed_effects=fixed_effects, adjustment=adjustment)
    assert est.ci_low > 0.5 * EFFECT  # the real effect is clearly non-zero
    row = refute(data, DAG, est, checks=["placebo"], n_simulations=20, progress=False, n_jobs=1).iloc[0]
    assert row["passed"]
    assert abs(row["new_effect"]) < 0.1 * est.value
    assert abs(row["new_effect"]) < 3 * row["se"] / math.sqrt(20)
    assert row["se"] == pytest.approx(est.se, rel=0.5)  # placebo spread ~ the estimator's SE
    assert row["p_value"] >= DEFAULTS.placebo_p_min


def test_permuting_only_within_clusters_would_leak_the_real_effect(data: pd.DataFrame) -> None:
    """Why cluster shares are permuted: the naive within-cluster placebo is biased without fixed effects."""
    est = fit(data)
    spec = respec(est)
    rng = np.random.default_rng(0)
    naive = []
    for _ in range(10):
        fake = data["d"].to_numpy().copy()
        for c in np.unique(data["cluster"]):
            idx = np.flatnonzero(data["cluster"].to_numpy() == c)
            fake[idx] = rng.permutation(fake[idx])
        naive.append(estimate_with_spec(data.assign(d=fake), spec).value)
    ours = refute(data, DAG, est, checks=["placebo"], n_simulations=10, progress=False, n_jobs=1).iloc[0]
    assert np.mean(naive) > 3 * est.se  # leaks part of the real effect through the cluster share
    assert abs(ours["new_effect"]) < abs(np.mean(naive)) / 3


def test_placebo_treatment_keeps_the_cluster_structure() -> None:
    rng = np.random.default_rng(1)
    codes = np.repeat(np.arange(20), 50)
    shares = rng.uniform(0.05, 0.95, 20)
    d = (rng.random(codes.size) < shares[codes]).astype(np.int64)
    fake = placebo_treatment(d, codes, np.random.default_rng(2))
    assert fake.dtype == d.dtype and set(np.unique(fake)) <= {0, 1}
    counts = np.bincount(codes, weights=d)
    fake_counts = np.bincount(codes, weights=fake)
    assert sorted(fake_counts) == sorted(counts)  # same distribution of cluster shares ...
    assert not np.array_equal(fake_counts, counts)  # ... moved to other clusters
    plain = placebo_treatment(d, None, np.random.default_rng(2))
    assert plain.sum() == d.sum() and not np.array_equal(plain, d)


def test_bootstrap_flags_a_wrong_standard_error(data: pd.DataFrame) -> None:
    est = fit(data)
    se = est.se / 3
    wrong = DagEstimate(
        value=est.value,
        se=se,
        ci_low=est.value - 2 * se,
        ci_high=est.value + 2 * se,
        n=est.n,
        method="x",
        spec=est.spec,
    )
    rows = refute(data, DAG, wrong, checks=["bootstrap"], n_simulations=20, progress=False, n_jobs=1).iloc[0]
    assert not rows["passed"]
    assert rows["statistic"] == pytest.approx(3.0, rel=0.35)
    good = refute(data, DAG, est, checks=["bootstrap"], n_simulations=20, progress=False, n_jobs=1).iloc[0]
    assert good["passed"] and good["ci_low"] < est.value < good["ci_high"]


def test_sensitivity_rows_flag_a_planted_omitted_confounder() -> None:
    fragile = simulate(3000, omitted=0.5, seed=3).assign(y=lambda f: f["y"] - EFFECT * f["d"])  # no true effect
    est = fit(fragile)
    table = refute(fragile, DAG, est, checks=["sensitivity"], progress=False, n_jobs=1).set_index("check")
    assert est.ci_low > 0  # confounding alone creates a "significant" effect
    assert not table.loc["sensitivity: robustness value", "passed"]
    assert not table.loc["sensitivity: robustness value (alpha=0.05)", "passed"]
    assert table.loc["sensitivity: robustness value", "statistic"] < 0.2
    robust = refute(simulate(), DAG, fit(simulate()), checks=["sensitivity"], progress=False, n_jobs=1).set_index(
        "check"
    )
    assert robust.loc["sensitivity: robustness value", "passed"]
    assert robust.drop(index="sensitivity: partial R2")["passed"].all()


def test_same_seed_same_table_for_any_n_jobs(data: pd.DataFrame) -> None:
    est = fit(data, "ipw")  # ipw: workers start faster than with pyfixest's first call
    kwargs = {"checks": ("placebo", "subset", "bootstrap"), "n_simulations": 4, "progress": False, "seed": 3}
    one = refute(data, DAG, est, n_jobs=1, **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(one, refute(data, DAG, est, n_jobs=1, **kwargs))  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(one, refute(data, DAG, est, n_jobs=2, **kwargs))  # type: ignore[arg-type]
    other = refute(data, DAG, est, n_jobs=1, **(kwargs | {"seed": 4}))  # type: ignore[arg-type]
    assert not np.allclose(one["new_effect"], other["new_effect"])
    # a check's draws do not depend on which other checks run
    alone = refute(data, DAG, est, n_jobs=1, **(kwargs | {"checks": ["bootstrap"]}))  # type: ignore[arg-type]
    assert alone["new_effect"].iloc[0] == one.set_index("check").loc["bootstrap", "new_effect"]


def test_caller_data_is_not_modified(data: pd.DataFrame, capsys: pytest.CaptureFixture[str]) -> None:
    before = data.copy()
    refute(data, DAG, fit(data), checks=CHECKS, n_simulations=2, progress=True, n_jobs=1)
    pd.testing.assert_frame_equal(data, before)
    assert "refute: placebo" in capsys.readouterr().err


def test_errors(data: pd.DataFrame) -> None:
    est = fit(data)
    with pytest.raises(SpecificationError, match=r"placeb0.*placebo.*random_common_cause"):
        refute(data, DAG, est, checks=["placeb0"])
    plain = Estimate(value=1.0, se=0.1, ci_low=0.8, ci_high=1.2, n=10, method="x")
    with pytest.raises(SpecificationError, match="DagEstimate"):
        refute(data, DAG, plain)
    with pytest.raises(SpecificationError, match="n_simulations"):
        refute(data, DAG, est, n_simulations=1)
    with pytest.raises(SpecificationError, match="n_simulations"):
        refute(data, DAG, est, n_simulations={"bootstrapp": 5})
    with pytest.raises(SpecificationError, match="subset_fraction"):
        refute(data, DAG, est, subset_fraction=1.0)
    with pytest.raises(DataError):
        refute(data.drop(columns="x1"), DAG, est)


def test_failed_draws_are_counted() -> None:
    draws = Draws.of([(1.0, ""), (math.nan, "treatment column: expected both arms"), (3.0, "")])
    assert draws.values.tolist() == [1.0, 3.0]
    assert "1 of 3 draws failed (treatment column" in draws.failed()
    assert draws.base(0.95)["n_simulations"] == 2

"""Estimators against planted truth and against published NHEFS results."""

import numpy as np
import pandas as pd
import pytest

from o4o_causal import datasets
from o4o_causal.baselines import difference_in_means
from o4o_causal.dag import CausalDAG, estimate_effect, overlap_diagnostics
from o4o_causal.registers import open_store
from o4o_causal.synth import generate_world
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow
METHODS = ["regression", "ipw", "matching", "dml"]
CLUSTER_DAG = CausalDAG.from_dot(
    'digraph { x1 -> d; x1 -> y; x2 -> d; x2 -> y; d -> y; r [observed="no", level="municipality"]; r -> d; r -> y; }'
)


def clustered_data(seed: int, n_clusters: int = 150, size: int = 40, confounded: bool = True) -> pd.DataFrame:
    """Binary treatment, ATE 1.0, latent municipality effect r on take-up and outcome."""
    rng = np.random.default_rng(seed)
    m = np.repeat(np.arange(n_clusters), size)
    r = rng.normal(size=n_clusters)[m]
    x1, x2 = rng.normal(size=m.size), rng.binomial(1, 0.4, m.size)
    d = rng.binomial(1, 1 / (1 + np.exp(-(0.5 * x1 - 0.4 * x2 + (0.8 * r if confounded else 0)))))
    v = rng.normal(size=n_clusters)[m]  # cluster-level take-up that does not affect the outcome
    d = np.where(confounded, d, rng.binomial(1, 1 / (1 + np.exp(-(0.5 * x1 + 1.2 * v)))))
    u = rng.normal(size=n_clusters)[m]  # cluster shock in the outcome: correlated errors
    y = 1.0 * d + 0.8 * x1 + 0.5 * x2 + (1.0 * r if confounded else 0) + u + rng.normal(size=m.size)
    return pd.DataFrame({"d": d, "y": y, "x1": x1, "x2": x2, "m": m})


@pytest.mark.parametrize("method", METHODS)
def test_fixed_effects_absorb_latent_municipal_confounding(method: str) -> None:
    data = clustered_data(1)
    fe = estimate_effect(data, CLUSTER_DAG, treatment="d", outcome="y", method=method, cluster="m", fixed_effects="m")
    naive = estimate_effect(
        data, CLUSTER_DAG, treatment="d", outcome="y", method=method, cluster="m", adjustment=["x1", "x2"]
    )
    assert naive.value - 1.0 > 2 * naive.se, naive  # ignoring the municipality level is biased upwards
    if method == "regression":
        assert fe.covers(1.0), fe
    else:  # Mundlak features only reduce latent cluster confounding (documented)
        assert abs(fe.value - 1.0) < 0.6 * abs(naive.value - 1.0), (fe, naive)


def test_clustered_se_larger_and_ipw_intervals_not_too_narrow() -> None:
    data = clustered_data(2, confounded=False)
    dag = CausalDAG.from_dot("digraph { x1 -> d; x1 -> y; x2 -> d; x2 -> y; d -> y; }")
    for method in ["regression", "ipw"]:
        plain = estimate_effect(data, dag, treatment="d", outcome="y", method=method)
        clustered = estimate_effect(data, dag, treatment="d", outcome="y", method=method, cluster="m")
        assert clustered.value == pytest.approx(plain.value)
        assert clustered.se > 1.1 * plain.se
    covered = [
        estimate_effect(
            clustered_data(100 + k, n_clusters=60, size=20, confounded=False),
            dag,
            treatment="d",
            outcome="y",
            method="ipw",
            cluster="m",
        ).covers(1.0)
        for k in range(40)
    ]
    assert np.mean(covered) >= 0.85  # 95% intervals; 40 replications


def test_nhefs_reproduces_what_if() -> None:
    dag = CausalDAG.from_file(REPO_ROOT / "dags" / "nhefs-smoking-weight.dot")
    data = datasets.load_nhefs()
    ipw = estimate_effect(data, dag, treatment="trt", outcome="outcome", method="ipw")
    published = datasets.PUBLISHED["nhefs", "ipw"]
    assert ipw.value == pytest.approx(published["value"], abs=0.1)  # What If 12.2: 3.4 (2.4, 4.5)
    assert ipw.ci_low == pytest.approx(published["ci_low"], abs=0.15)
    assert ipw.ci_high == pytest.approx(published["ci_high"], abs=0.15)
    reg = estimate_effect(data, dag, treatment="trt", outcome="outcome", method="regression")
    assert reg.value == pytest.approx(datasets.PUBLISHED["nhefs", "regression"]["value"], abs=0.1)
    naive = difference_in_means(data, outcome="outcome", treatment="trt")
    assert ipw.value - naive.value > 0.8  # confounding: naive 2.5 kg vs 3.4 kg


def test_synthetic_world_core_question(tmp_path) -> None:  # type: ignore[no-untyped-def]
    world = generate_world("small", seed=20261130)
    world.write(tmp_path)
    core = open_store(tmp_path).cohort("core")
    truth = world.truth.core_effects.query("estimand == 'ATE' and outcome == 'employed_24'")["value"].iloc[0]
    dag = CausalDAG.from_file(REPO_ROOT / "dags" / "core-integrated-followup.dot")
    naive = difference_in_means(core, outcome="employed_24", treatment="treated")
    assert not naive.covers(truth)
    for method in ["regression", "ipw"]:
        est = estimate_effect(
            core, dag, treatment="treated", outcome="employed_24", method=method, cluster="municipality_id"
        )
        assert est.covers(truth), (method, est, truth)
    person_only = estimate_effect(
        core,
        dag,
        treatment="treated",
        outcome="employed_24",
        cluster="municipality_id",
        adjustment=["health_problem", "low_education", "prior_employment"],
    )
    assert person_only.value - truth > 2 * person_only.se
    overlap = overlap_diagnostics(core, est, trim=0.02).summary()
    assert set(overlap.index) == {"treated", "untreated"} and (overlap["effective_sample_size"] > 100).all()

import numpy as np
import pandas as pd
import pytest

from o4o_causal import DataError, SpecificationError
from o4o_causal.dag import CausalDAG, estimate_effect
from tests.conftest import REPO_ROOT

TEXTBOOK = """digraph {
  Z -> D; Z -> Y; D -> M; M -> Y; I -> D;
  U [observed="no"]; U -> D; U -> Y;
}"""


def test_dag_files_parse_and_core_identifies_with_municipality_level() -> None:
    dags = {p.stem: CausalDAG.from_file(p) for p in sorted((REPO_ROOT / "dags").glob("*.dot"))}
    assert {"core-integrated-followup", "nhefs-smoking-weight"} <= set(dags)
    core = dags["core-integrated-followup"]
    ident = core.identify("treated", "employed_24")
    assert ident.identified and "service_resources" in (ident.backdoor or ())
    assert "motivation" in core.unobserved and core.level("service_resources") == "municipality"
    nhefs = dags["nhefs-smoking-weight"]
    assert nhefs.columns("education") == ["education_2", "education_3", "education_4", "education_5"]
    # one DAG per question of the programme, each saying what it identifies
    assert {"waa-trajectories", "social-assistance-reform", "neet-services"} <= set(dags)
    assert not dags["waa-trajectories"].identify("waa_measure", "employed_48", fixed_effects=True).identified
    assert dags["social-assistance-reform"].identify("reform", "employed").backdoor == ("bergen", "post")
    assert dags["neet-services"].identify("early_intervention", "neet").backdoor == ("service_resources",)


def test_frontdoor_and_instrument_found_backdoor_not() -> None:
    ident = CausalDAG.from_dot(TEXTBOOK).identify("D", "Y")
    assert not ident.identified  # U confounds D and Y and is latent
    assert ident.frontdoor == ("M",) and ident.instruments == ("I",)
    assert "front-door" in ident.summary().index[1]


def test_minimal_backdoor_sets() -> None:
    dag = CausalDAG.from_dot("digraph { A -> Z; Z -> D; Z -> Y; D -> Y; B -> Y; }")
    ident = dag.identify("D", "Y")
    assert ident.backdoor == ("Z",)
    assert ("Z",) in ident.backdoor_sets


def test_latent_municipality_confounder_needs_fixed_effects() -> None:
    dag = CausalDAG.from_dot(
        'digraph { X -> D; X -> Y; D -> Y; R [observed="no", level="municipality"]; R -> D; R -> Y; }'
    )
    assert not dag.identify("D", "Y").identified
    ident = dag.identify("D", "Y", fixed_effects=True)
    assert ident.backdoor == ("X",) and ident.absorbed_by_fixed_effects == ("R",)
    frame = pd.DataFrame({"D": [0, 1] * 10, "X": range(20), "Y": range(20), "m": [0, 1] * 10})
    with pytest.raises(SpecificationError, match="fixed_effects='municipality_id'"):
        estimate_effect(frame, dag, treatment="D", outcome="Y")


def test_bad_dags_and_nodes() -> None:
    with pytest.raises(SpecificationError, match=r"expected an acyclic graph, found the cycle a -> b -> c -> a"):
        CausalDAG.from_dot("digraph { a -> b; b -> c; c -> a; }")
    with pytest.raises(SpecificationError, match="expected valid DOT"):
        CausalDAG.from_dot("digraph { a -> ")
    dag = CausalDAG.from_dot("digraph { X -> D; X -> Y; D -> Y; }")
    with pytest.raises(SpecificationError, match="treatment 'T': expected a node of DAG"):
        dag.identify("T", "Y")
    frame = pd.DataFrame({"D": [0, 1, 0, 1], "Y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(DataError, match=r"node 'X' -> column\(s\) \['X'\]"):
        estimate_effect(frame, dag, treatment="D", outcome="Y")


@pytest.mark.parametrize(
    ("treatment", "match"),
    [([0, 1, 2, 1] * 5, "binary values 0/1"), ([1, 1, 1, 1] * 5, "both treated")],
)
def test_non_binary_and_constant_treatment(treatment: list[int], match: str) -> None:
    dag = CausalDAG.from_dot("digraph { X -> D; X -> Y; D -> Y; }")
    frame = pd.DataFrame({"D": treatment, "X": np.arange(20.0), "Y": np.arange(20.0)})
    with pytest.raises(DataError, match=match):
        estimate_effect(frame, dag, treatment="D", outcome="Y", method="ipw")


def test_text_confounder_is_dummy_encoded_and_text_outcome_refused() -> None:
    dag = CausalDAG.from_dot("digraph { X -> D; X -> Y; D -> Y; }")
    rng = np.random.default_rng(0)
    x = rng.choice(["NO", "SE", "DK"], 300)
    frame = pd.DataFrame({"D": rng.integers(0, 2, 300), "X": x, "Y": rng.normal(size=300)})
    before = frame.copy()
    auto = estimate_effect(frame, dag, treatment="D", outcome="Y")
    pd.testing.assert_frame_equal(frame, before)  # caller's data untouched
    manual = frame.assign(X_NO=(x == "NO") * 1.0, X_SE=(x == "SE") * 1.0)
    dag2 = CausalDAG.from_dot('digraph { X [columns="X_NO,X_SE"]; X -> D; X -> Y; D -> Y; }')
    assert auto.value == pytest.approx(estimate_effect(manual, dag2, treatment="D", outcome="Y").value, rel=1e-10)
    with pytest.raises(DataError, match="outcome column 'Y': expected numeric values"):
        estimate_effect(frame.assign(Y="high"), dag, treatment="D", outcome="Y")


def test_implications_are_tested_and_can_be_rejected() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=5000)
    b = a + rng.normal(size=5000)
    c = b + rng.normal(size=5000)
    dag = CausalDAG.from_dot("digraph { a -> b; b -> c; }")
    assert dag.implications() == [("a", "c", ("b",))] or dag.implications() == [("c", "a", ("b",))]
    table = dag.test_implications(pd.DataFrame({"a": a, "b": b, "c": c}))
    assert table["holds"].all()
    violated = pd.DataFrame({"a": a, "b": b, "c": c + 0.5 * a})  # a -> c edge missing from the DAG
    assert not dag.test_implications(violated)["holds"].any()


def test_drawing_with_networkx_and_graphviz() -> None:
    import shutil

    import matplotlib.pyplot as plt

    from o4o_causal import plotting

    dag = CausalDAG.from_file(REPO_ROOT / "dags" / "core-integrated-followup.dot")
    ax = plotting.draw_dag(dag, treatment="treated", outcome="employed_24", engine="networkx")
    assert len(ax.texts) == len(dag.nodes)
    latent = [t for t in ax.texts if t.get_bbox_patch().get_linestyle() == "--"]
    assert len(latent) == len(dag.unobserved)
    dot = plotting.to_graphviz(dag, treatment="treated")
    assert (
        '"motivation" [label="motivation / work capacity", fillcolor="#ffffff", style="rounded,filled,dashed"]' in dot
    )
    if shutil.which("dot"):
        ax = plotting.draw_dag(dag, engine="graphviz")
        assert ax.images
    plt.close("all")


def test_matching_with_ties_and_small_arms_and_sensitivity_with_text_confounder() -> None:
    from o4o_causal.dag import sensitivity_analysis

    rng = np.random.default_rng(5)
    n = 3000
    x = rng.integers(0, 3, n)  # discrete covariate: many exact ties in the propensity score
    region = rng.choice(["a", "b", "c"], n)
    d = rng.binomial(1, 0.3 + 0.15 * x)
    y = 1.0 * d + 0.5 * x + (region == "b") + rng.normal(size=n)
    frame = pd.DataFrame({"D": d, "X": x, "R": region, "Y": y})
    dag = CausalDAG.from_dot("digraph { X -> D; X -> Y; R -> D; R -> Y; D -> Y; }")
    est = estimate_effect(frame, dag, treatment="D", outcome="Y", method="matching")
    assert est.covers(1.0) and est.se < 0.1, est
    sens = sensitivity_analysis(
        frame, estimate_effect(frame, dag, treatment="D", outcome="Y"), benchmark_covariates=["R"]
    )
    assert "adjusted estimate, 1x R" in sens.summary()["statistic"].tolist()
    tiny = frame.iloc[:40].assign(D=[1] + [0] * 39)
    with pytest.raises(DataError, match="treated arm for matching: expected at least 2 units"):
        estimate_effect(tiny, dag, treatment="D", outcome="Y", method="matching")

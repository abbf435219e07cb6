"""Every notebook in notebooks/ executes in the quick profile through the runner."""

from pathlib import Path

import pytest

from o4o_causal import config, datasets, sdc, synth
from o4o_causal.repro import run
from tests.conftest import REPO_ROOT

NOTEBOOKS = sorted(p.stem for p in (REPO_ROOT / config.NOTEBOOKS_DIR).glob("*.ipynb"))


@pytest.mark.notebook
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_quick_profile(name: str, tmp_path: Path) -> None:
    result = run("quick", root=REPO_ROOT, notebooks_pattern=name, runs_dir=tmp_path, progress=False)
    (nb,) = result.notebooks
    assert nb.ok, f"{name} failed: {nb.error} (executed notebook in {result.run_dir})"
    assert (result.run_dir / name / f"{name}.html").is_file()
    findings = sdc.scan_notebook(result.run_dir / name / f"{name}.ipynb")
    assert not findings, "disclosure findings in an executed suite notebook:\n" + "\n".join(map(str, findings))
    _check_results(name, nb.results)


def _check_results(name: str, results: dict[str, object]) -> None:
    """Notebook-specific checks of recorded results against truth or published values."""
    if name == "00-overview":
        nhefs, lalonde = results["nhefs_naive"], results["lalonde_naive"]
        assert isinstance(nhefs, dict) and isinstance(lalonde, dict)
        assert abs(nhefs["value"] - datasets.PUBLISHED["nhefs", "naive"]["value"]) < 0.05
        assert abs(lalonde["value"] - datasets.PUBLISHED["lalonde", "naive"]["value"]) < 0.5
        trial = results["trial_estimate"]
        assert isinstance(trial, dict)
        assert trial["ci_low"] <= synth.IPS_TREATED_RATE - synth.IPS_CONTROL_RATE <= trial["ci_high"]
        assert results["max_threads_in_pools"] == config.DEFAULT_THREADS
    if name == "01-dag-identification":
        truth = results["true_ate"]
        assert isinstance(truth, float)
        for method in ("regression", "ipw"):
            est = results[f"ate_{method}"]
            assert isinstance(est, dict) and est["ci_low"] <= truth <= est["ci_high"], (method, est, truth)
        person_only = results["ate_regression_person_level_only"]
        assert isinstance(person_only, dict) and person_only["ci_low"] > truth  # municipality level left out
        nhefs = results["nhefs_ipw"]
        assert isinstance(nhefs, dict) and abs(nhefs["value"] - datasets.PUBLISHED["nhefs", "ipw"]["value"]) < 0.1
    if name == "02-dml-heterogeneous-effects":
        truth = results["true_ate"]
        ate, naive = results["ate"], results["ate_naive"]
        assert isinstance(truth, float) and isinstance(ate, dict) and isinstance(naive, dict)
        assert ate["ci_low"] <= truth <= ate["ci_high"], (ate, truth)
        assert ate["value"] == naive["value"] and "cluster=municipality_id" in ate["method"]
        coverage = results["truth_coverage"]
        assert isinstance(coverage, float) and coverage >= 0.8  # ATE, ATT and 13 GATEs against truth
        lalonde = results["lalonde"]
        assert isinstance(lalonde, dict) and lalonde["value"][0] == datasets.PUBLISHED["lalonde", "naive"]["value"]
        assert all(v > lalonde["value"][0] for v in lalonde["value"][1:])  # adjustment moves towards 1,794
        cate_rmse = results["cate_rmse"]
        assert isinstance(cate_rmse, float) and cate_rmse < 0.2
    if name == "03-bayesian-multilevel":
        truth, ame = results["true_ame"], results["ame"]
        assert isinstance(truth, float) and isinstance(ame, dict)
        assert ame["ci_low"] <= truth <= ame["ci_high"], (ame, truth)
        coverage = results["municipal_coverage90"]
        assert isinstance(coverage, float) and 0.8 <= coverage <= 1.0  # 90% intervals of municipality effects
        rows = results["rows"]
        assert isinstance(rows, dict) and rows["cells"] and rows["rows"] < rows["persons"]
        ppc = results["ppc_inside"]
        assert isinstance(ppc, float) and ppc >= 0.5
        shrink = results["shrinkage_sd"]
        assert isinstance(shrink, dict) and shrink["pooled"] < shrink["raw"]
        assert isinstance(results["loo"], dict) and isinstance(results["pooled_mu"], dict)
    if name == "05-social-assistance-rates":
        est, truth = results["did_recipients"], results["true_att_recipients"]
        assert isinstance(est, dict) and isinstance(truth, float)
        assert est["ci_low"] <= truth <= est["ci_high"], (est, truth)
        pretrend = results["pretrend_p"]
        assert isinstance(pretrend, float) and pretrend > 0.01  # no pre-trends planted
        p_values = results["sc_p_values"]
        assert isinstance(p_values, dict) and all(0.0 < p <= 1.0 for p in p_values.values())
        coverage = results["group_coverage"]
        assert isinstance(coverage, float) and coverage >= 0.5  # four planted group effects
    if name == "04-waa-trajectories":
        share = results["share_waa_throughout"]
        assert isinstance(share, dict) and share["ci_low"] > 0.5  # the headline: more than half on WAA 48 months
        ari = results["ari"]
        assert isinstance(ari, float) and ari >= 0.8  # planted trajectory types recovered
        setups = results["setups"]
        assert isinstance(setups, list) and len(setups) >= 3
    if name == "06-neet-municipalities-qca":
        rates = results["qca_recovery_rates"]  # [country, shortlist, visited, complete, correct]
        assert isinstance(rates, list) and rates and all(0.0 <= row[3] <= 1.0 and 0.0 <= row[4] <= 1.0 for row in rates)
        assert {row[0] for row in rates} == {"NO", "SE"} and any(row[1].startswith("oracle") for row in rates)
        recovered = results["qca_recovered"]
        assert isinstance(recovered, dict) and set(recovered) == {"complete", "correct"}
        recovery = results["recovery"]  # small world: 4 young persons per municipality, weak but real signal
        assert isinstance(recovery, dict) and recovery["spearman"] > 0.2
        assert recovery["positive deviants with the planted rule"] > recovery["negative deviants with the planted rule"]
        expressions = results["qca_expressions"]
        assert isinstance(expressions, dict) and set(expressions) == {"complex", "parsimonious", "intermediate"}
    if name == "07-cross-country-federated":
        assert results["exact_within_mc_error"] is True  # exact cells reproduce pooled microdata
        z = results["exact_max_abs_z"]
        assert isinstance(z, float) and z < 4
        report = results["bundle_report"]
        assert isinstance(report, dict) and report["persons suppressed"] == [0, 0, 0]
        contrasts = results["contrasts"]
        assert isinstance(contrasts, dict) and len(next(iter(contrasts.values()))) == 3
        assert set(results["bundle_seconds"]) == {"NO", "SE", "DK"}  # type: ignore[arg-type]
        for key in ("ame", "pooled_mu", "pooled_ame", "true_ame", "true_country_effects"):
            assert key in results, key
    if name == "90-validation-benchmarks":
        assert results["nhefs_all_pass"] is True
        for key in ("ipw", "standardisation", "regression"):
            est, pub = results[f"nhefs_{key}"], datasets.PUBLISHED["nhefs", key]
            assert isinstance(est, dict) and abs(est["value"] - pub["value"]) <= 0.05, key
            assert abs(est["ci_low"] - pub["ci_low"]) <= 0.1 and abs(est["ci_high"] - pub["ci_high"]) <= 0.1, key
        table = results["lalonde_table"]
        assert isinstance(table, dict) and len(table["benchmark"]) == 6
        assert abs(table["ours"][0] - datasets.PUBLISHED["lalonde", "naive"]["value"]) < 0.5
        assert table["pass"][1] is False and all(table["pass"][2:])  # naive misses 1,794; adjusted CIs contain it
        naive = results["lalonde_naive"]
        assert isinstance(naive, dict)
        for key in ("regression", "ipw", "matching", "dml"):
            est = results[f"lalonde_{key}"]
            assert isinstance(est, dict) and est["estimand"] == "ATT" and est["value"] > naive["value"], key
        low, high = results["lalonde_fragility_range"]  # type: ignore[misc]
        assert high - low > 1000  # the fragility is shown, not hidden
    if name == "91-simulation-study":
        assert results["failures"] == 0
        coverage, reps = results["coverage"], results["reps"]
        assert isinstance(coverage, dict) and {"naive", "ipw", "dml", "dml_clustered"} <= set(coverage)
        assert coverage["naive"] < coverage["dml_clustered"]
        if isinstance(reps, int) and reps >= 200:  # full profile
            assert 0.92 <= coverage["dml_clustered"] <= 0.97
            assert coverage["dml"] < 0.90 and coverage["ipw"] < 0.90  # unclustered intervals under-cover
            no_correlation = results["coverage_no_correlation"]
            assert isinstance(no_correlation, dict) and no_correlation["dml"] >= 0.90
            if results["bayes_reps"]:
                bayes = results["bayes_group_coverage"]
                assert isinstance(bayes, float) and 0.85 <= bayes <= 1.0

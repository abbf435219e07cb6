"""Benchmark: the multilevel model at register size; PyMC NUTS vs nutpie vs sufficient statistics.

Run by hand (not part of the tests):

    .venv/bin/python reproducibility/benchmarks/bayes_multilevel.py            # both parts
    .venv/bin/python reproducibility/benchmarks/bayes_multilevel.py ess        # n = 100,000 comparison
    .venv/bin/python reproducibility/benchmarks/bayes_multilevel.py scale      # n = 1,000,000, cells
    .venv/bin/python reproducibility/benchmarks/bayes_multilevel.py scale-centred   # same, centred

Data: :func:`o4o_causal.synth.designs.multilevel_design` (three countries, ~700
municipalities, binary outcome, three binary person-level covariates, a municipality
configuration; true effects known).

* ``ess``: n = 100,000 persons, 702 municipalities. Effective samples per second of the
  between-municipality SD of the treatment effect (``sigma_v``, bulk ESS / wall time of
  ``pm.sample`` including tuning and compilation) for (1) the person-level model with
  PyMC's own NUTS, (2) the person-level model with nutpie, (3) the sufficient-statistics
  (binomial cells) model with nutpie. Target: (3) >= 10x (2). All three run 2 chains x
  500 draws after 500 tuning steps (PyMC's NUTS on 100,000 Bernoulli rows is too slow for
  4 x 1000 on 2 cores).
* ``scale``: n = 1,000,000 persons, cells path, 4 chains x 1,000 draws: <= 120 s for
  ``fit_multilevel`` (target), with the convergence gate on.

Each part runs in a fresh child process (peak memory per part). Figures are appended to
``bayes_multilevel.results.json`` next to this file.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "bayes_multilevel.results.json"
SEED = 20261130
KW = {"outcome": "y", "treatment": "treated", "covariates": ["x1", "x2", "x3", "config"], "modifiers": ["config"]}


def _ess_part() -> dict[str, object]:
    import arviz as az
    import pymc as pm

    from o4o_causal.bayes.design import build
    from o4o_causal.bayes.model import Priors, build_model
    from o4o_causal.synth.designs import multilevel_design

    data, _ = multilevel_design(100_000, per_country=234, n_binary=3, seed=SEED)
    out: dict[str, object] = {"n": len(data), "municipalities": int(data["municipality"].nunique())}
    variants = (
        ("pymc_nuts_persons", "pymc", False),
        ("nutpie_persons", "nutpie", False),
        ("nutpie_cells", "nutpie", True),
    )
    for label, sampler, cells in variants:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            design = build(
                data,
                **KW,
                levels=("country", "municipality"),
                family="bernoulli",
                sufficient_statistics=cells,
            )
            model = build_model(design, Priors())
            start = time.perf_counter()
            idata = pm.sample(
                draws=500,
                tune=500,
                chains=2,
                nuts_sampler=sampler,
                random_seed=SEED,
                progressbar=False,
                model=model,
                cores=2,
                target_accept=0.9,
                compute_convergence_checks=False,
            )
            seconds = time.perf_counter() - start
        ess = float(az.ess(idata["posterior"].to_dataset(), var_names=["sigma_v"], method="bulk")["sigma_v"])
        rhat = float(az.rhat(idata["posterior"].to_dataset(), var_names=["sigma_v"])["sigma_v"])
        out[label] = {
            "rows": int(design.weight.size),
            "seconds": round(seconds, 1),
            "ess_bulk_sigma_v": round(ess, 1),
            "ess_per_second": round(ess / seconds, 3),
            "rhat_sigma_v": round(rhat, 4),
            "sigma_v_mean": round(float(idata["posterior"]["sigma_v"].mean()), 4),
        }
        print(label, out[label], file=sys.stderr, flush=True)
    cells_eps = out["nutpie_cells"]["ess_per_second"]  # type: ignore[index]
    persons_eps = out["nutpie_persons"]["ess_per_second"]  # type: ignore[index]
    out["cells_vs_nutpie_persons"] = round(cells_eps / persons_eps, 1)
    out["meets_target"] = out["cells_vs_nutpie_persons"] >= 10  # type: ignore[operator]
    return out


def _scale_part(centred: bool = False) -> dict[str, object]:
    from o4o_causal.bayes import fit_multilevel
    from o4o_causal.synth.designs import multilevel_design

    t0 = time.perf_counter()
    data, truth = multilevel_design(1_000_000, per_country=234, n_binary=3, seed=SEED)
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = fit_multilevel(data, **KW, draws=1000, tune=1000, chains=4, seed=SEED, on_failure="warn", centred=centred)
    t2 = time.perf_counter()
    ame = fit.ame()
    municipal = fit.group_effects("municipality").set_index("group")
    inside = ((municipal["ci_low"] <= truth) & (truth <= municipal["ci_high"])).mean()
    diag = fit.diagnostics()
    person_truth = truth.reindex(data["municipality"]).to_numpy()
    return {
        "n": len(data),
        "centred": centred,
        "rows": int(fit.design.weight.size),
        "data_s": round(t1 - t0, 1),
        "fit_multilevel_s": round(t2 - t1, 1),
        "stages_s": {k: round(v, 1) for k, v in fit.timings.items()},
        "max_rhat": round(float(diag["rhat"].max()), 4),
        "min_ess_bulk": round(float(diag["ess_bulk"].min()), 1),
        "divergences": diag.attrs.get("divergences"),
        "ame": round(ame.value, 5),
        "true_ame": round(float(person_truth.mean()), 5),
        "ame_covers": ame.covers(float(person_truth.mean())),
        "municipal_coverage90": round(float(inside), 3),
        "meets_target": t2 - t1 <= 120,
    }


if __name__ == "__main__":
    from _harness import run

    parts = {"ess": _ess_part, "scale": _scale_part, "scale-centred": lambda: _scale_part(centred=True)}
    run(__file__, RESULTS, parts, ["ess", "scale"])

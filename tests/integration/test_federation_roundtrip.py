"""Federation round trip: three country bundles -> pooling -> agreement with pooled microdata.

Short sampling (2 chains x 100 draws): the comparison is in units of Monte Carlo error,
which the short chains make larger, not invalid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from o4o_causal.federation import BundleSpec, CrossCountryResult, build_bundle, compare_with_pooled, pool_bundles
from o4o_causal.federation.validate import bundle_digest
from o4o_causal.registers import open_store

SPEC = BundleSpec(learner="linear", folds=2)
SAMPLER = {"draws": 100, "tune": 100, "chains": 2}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(small_world: Path):  # type: ignore[no-untyped-def]
    s = open_store(small_world / "store.duckdb")
    yield s
    s.close()


@pytest.fixture(scope="module")
def result(store, tmp_path_factory: pytest.TempPathFactory) -> CrossCountryResult:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("bundles")
    analyses = ("ate", "cells", "trajectory_shares")
    paths = [
        build_bundle(store, country=c, out_dir=out, analyses=analyses, spec=SPEC, seed=5, progress=False)
        for c in ("DK", "NO", "SE")
    ]
    released = {p.name.removeprefix("bundle-"): bundle_digest(p) for p in paths}  # recorded at release
    return pool_bundles(paths, seed=5, on_failure="warn", expected_digests=released, **SAMPLER)


def test_result_tables(result: CrossCountryResult) -> None:
    assert result.countries == ("DK", "NO", "SE")
    assert list(result.ate["country"]) == ["DK", "NO", "SE", "pooled (mu)"]
    assert list(result.contrasts["contrast"]) == ["DK - NO", "DK - SE", "NO - SE"]
    assert set(result.cells_report["country"]) == {"DK", "NO", "SE"}
    assert (result.cells_report["persons_published"] == result.cells_report["persons"]).all()
    shares = result.trajectory_shares
    assert set(shares["country"]) == {"DK", "NO", "SE"} and shares["common_label"].notna().any()
    summary = result.summary()
    assert {"ATE pooled (mu)", "AME all", "AME NO"} <= set(summary["row"])
    assert "CrossCountryResult(countries=['DK', 'NO', 'SE']" in repr(result)
    assert set(result.forest_estimates()) >= {"pooled (mu)"}


def test_federated_equals_pooled_within_monte_carlo_error(store, result: CrossCountryResult) -> None:  # type: ignore[no-untyped-def]
    table = compare_with_pooled(store, result)
    exact = table[table["variant"] == "exact cells"]
    assert len(exact) == 7  # AME, 3 countries, 3 contrasts
    assert np.isfinite(exact["z"]).all()
    assert (exact["z"].abs() <= 4).all(), exact  # same likelihood: only Monte Carlo error differs
    bundle = table[table["variant"].str.startswith("bundles")]
    assert len(bundle) == 7 and np.isfinite(bundle["difference"]).all()
    # disclosure control costs something, but stays within a posterior sd for the AME on this world
    ame = bundle.set_index("estimand").loc["AME"]
    assert abs(float(ame["difference_in_sd"])) < 1.5
    assert isinstance(table.attrs["pooled"].ame().value, float)
    assert pd.api.types.is_bool_dtype(table["within_mc_error"])

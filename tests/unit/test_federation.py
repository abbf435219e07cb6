"""Federation: per-country bundles (no microdata, checked, checksummed) and their validation.

No sampling here (fast); the cross-country fits are in
``tests/integration/test_federation_roundtrip.py``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from o4o_causal.bayes.design import build
from o4o_causal.exceptions import DataError, SpecificationError
from o4o_causal.federation import BundleSpec, build_bundle, exact_cells, expand_cells, protected_cells, read_bundle
from o4o_causal.federation.cells import safe, with_interactions
from o4o_causal.federation.disclosure import hide_small, resolve_threshold
from o4o_causal.federation.manifest import manifest_digest
from o4o_causal.federation.validate import check_bundles
from o4o_causal.registers import open_store
from tests.conftest import REPO_ROOT

SMALL = REPO_ROOT / "data" / "synthetic" / "small"
COUNTRIES = ("DK", "NO", "SE")
THRESHOLD = 5
FAST = BundleSpec(learner="linear", folds=2)

pytestmark = pytest.mark.skipif(not (SMALL / "store.duckdb").is_file(), reason="small synthetic world not built")


@pytest.fixture(scope="module")
def store():  # type: ignore[no-untyped-def]
    s = open_store(SMALL / "store.duckdb")
    yield s
    s.close()


@pytest.fixture(scope="module")
def bundles(store, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("bundles")
    return {
        c: build_bundle(store, country=c, out_dir=out, threshold=THRESHOLD, seed=3, spec=FAST, progress=False)
        for c in COUNTRIES
    }


@pytest.fixture(scope="module")
def persons(store) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return with_interactions(FAST.prepare(store.cohort("core")), FAST)


def copy_bundle(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def rewrite_manifest(folder: Path, change: dict[str, object]) -> None:
    manifest = json.loads((folder / "manifest.json").read_text())
    for key, value in change.items():
        target = manifest
        *path, last = key.split(".")
        for part in path:
            target = target[part]
        target[last] = value
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


# --- what a bundle contains -------------------------------------------------------------


def test_bundle_has_the_expected_files_and_manifest(bundles: dict[str, Path]) -> None:
    folder = bundles["NO"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["country"] == "NO" and manifest["threshold"] == THRESHOLD and manifest["seed"] == 3
    assert set(manifest["files"]) == {p.name for p in folder.iterdir()} - {"manifest.json"}
    assert {"cells.csv", "estimates.csv", "municipality_effects.csv", "suppression_log.csv"} <= set(manifest["files"])
    assert manifest["spec"] == FAST.to_dict() and manifest["spec_digest"] == FAST.digest()
    assert {"o4o-causal", "pymc", "econml", "python"} <= set(manifest["versions"])
    assert manifest["sdc"]["findings"] == [] or all(f["severity"] == "warning" for f in manifest["sdc"]["findings"])
    assert manifest["manifest_sha256"] == manifest_digest(manifest)
    assert all(a["status"] in ("included", "not available") for a in manifest["analyses"].values())


def test_bundle_contains_no_microdata(bundles: dict[str, Path], persons: pd.DataFrame) -> None:
    ids = set(persons["person_id"])
    for folder in bundles.values():
        for csv in folder.glob("*.csv"):
            text = csv.read_text()
            assert "person_id" not in text, csv.name
            assert not any(i in text for i in list(ids)[:200]), csv.name
            table = pd.read_csv(csv)
            for col in ("n", "n_treated", "n_control", "successes"):
                if col in table.columns:
                    shown = table[col].dropna()
                    assert (shown >= THRESHOLD).all(), f"{csv.name}:{col}"
        cells = pd.read_csv(folder / "cells.csv")
        assert ((cells["n"] - cells["successes"]) >= THRESHOLD).all()


def test_cells_cover_every_person_and_log_every_merge(bundles: dict[str, Path], persons: pd.DataFrame) -> None:
    for country, folder in bundles.items():
        cells = pd.read_csv(folder / "cells.csv")
        mine = persons[persons["country"] == country]
        assert cells["n"].sum() == len(mine)  # merged, never dropped
        assert cells["successes"].sum() == mine[FAST.outcome].sum()
        log = pd.read_csv(folder / "suppression_log.csv")
        manifest = json.loads((folder / "manifest.json").read_text())
        assert len(log) == len(manifest["sdc"]["suppression_log"]) > 0
        pooled = cells.loc[cells["unit_kind"] == "pool", FAST.cluster].nunique()
        assert pooled == 0 or (log["action"] == "pooled").any()


def test_checksums_match(bundles: dict[str, Path]) -> None:
    from o4o_causal._io import sha256_file

    manifest = json.loads((bundles["DK"] / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert sha256_file(bundles["DK"] / name) == digest
    assert read_bundle(bundles["DK"]).country == "DK"


# --- refusing what must not be pooled ---------------------------------------------------


def test_tampered_file_rejected_naming_it(bundles: dict[str, Path], tmp_path: Path) -> None:
    folder = copy_bundle(bundles["SE"], tmp_path / "bundle-SE")
    cells = pd.read_csv(folder / "cells.csv")
    cells.loc[0, "successes"] += 1
    cells.to_csv(folder / "cells.csv", index=False)
    with pytest.raises(DataError, match=r"file cells\.csv.*changed after the bundle was built"):
        read_bundle(folder)


def test_edited_manifest_and_unlisted_file_rejected(bundles: dict[str, Path], tmp_path: Path) -> None:
    folder = copy_bundle(bundles["SE"], tmp_path / "a")
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["threshold"] = 1
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(DataError, match="edited after the bundle was built"):
        read_bundle(folder)
    folder = copy_bundle(bundles["SE"], tmp_path / "b")
    (folder / "persons.csv").write_text("person_id\nx\n")
    with pytest.raises(DataError, match=r"persons\.csv"):
        read_bundle(folder)


@pytest.mark.parametrize(
    ("change", "match"),
    [({"versions.o4o-causal": "9.9.0"}, "o4o-causal version"), ({"schema_version": "2.0"}, "schema_version")],
)
def test_incompatible_version_rejected(
    bundles: dict[str, Path], tmp_path: Path, change: dict[str, object], match: str
) -> None:
    folder = copy_bundle(bundles["NO"], tmp_path / "bundle-NO")
    rewrite_manifest(folder, change)
    with pytest.raises(SpecificationError, match=match):
        read_bundle(folder)


def test_duplicate_country_rejected(bundles: dict[str, Path], tmp_path: Path) -> None:
    again = copy_bundle(bundles["NO"], tmp_path / "bundle-NO-again")
    with pytest.raises(SpecificationError, match="one bundle per country"):
        check_bundles([read_bundle(bundles["NO"]), read_bundle(again)])


def test_spec_mismatch_rejected(store, bundles: dict[str, Path], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = BundleSpec(learner="linear", folds=2, pool_bins=3)
    folder = build_bundle(store, country="DK", out_dir=tmp_path, analyses=("cells",), spec=other, progress=False)
    with pytest.raises(SpecificationError, match=r"differences in \['pool_bins'\]"):
        check_bundles([read_bundle(bundles["NO"]), read_bundle(folder)])


def test_country_must_be_named_and_bundles_not_overwritten(store, bundles: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DataError, match="exactly one country"):
        build_bundle(store, out_dir=bundles["NO"].parent, analyses=("cells",), spec=FAST, progress=False)
    with pytest.raises(SpecificationError, match="overwrite=True"):
        build_bundle(store, country="NO", out_dir=bundles["NO"].parent, analyses=("cells",), spec=FAST, progress=False)
    with pytest.raises(SpecificationError, match="analyses"):
        build_bundle(store, country="NO", out_dir=bundles["NO"].parent, analyses=("nope",), progress=False)


# --- the cells ---------------------------------------------------------------------------


def test_pseudo_persons_reproduce_the_cells_exactly(persons: pd.DataFrame) -> None:
    """Exact cells -> pseudo-persons -> the model's cells equal the persons' cells (same likelihood)."""
    parts = [exact_cells(persons[persons["country"] == c], FAST) for c in COUNTRIES]
    cells = with_interactions(pd.concat(parts, ignore_index=True), FAST)
    pseudo = expand_cells(cells, FAST)
    assert len(pseudo) == len(persons) and pseudo[FAST.outcome].sum() == persons[FAST.outcome].sum()
    kw = {
        "outcome": FAST.outcome,
        "treatment": FAST.treatment,
        "covariates": list(FAST.covariates),
        "modifiers": list(FAST.modifiers),
        "levels": ("country", FAST.cluster),
        "family": "auto",
        "sufficient_statistics": True,
    }
    with pytest.warns(Warning):  # one-arm municipalities, as with the persons
        a = build(persons, **kw)
    with pytest.warns(Warning):
        b = build(pseudo, **kw)
    assert a.collapsed and b.collapsed and a.municipalities == b.municipalities
    for field in ("weight", "y", "d", "country", "municipality"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    np.testing.assert_allclose(a.x, b.x, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(a.z, b.z, rtol=1e-8, atol=1e-10)


def test_expansion_of_protected_cells_regroups_to_them(persons: pd.DataFrame) -> None:
    cells, _ = protected_cells(persons[persons["country"] == "NO"], FAST, THRESHOLD)
    pseudo = expand_cells(cells, FAST)
    keys = [c for c in cells.columns if c not in ("n", "successes")]
    back = pseudo.groupby(keys, dropna=False)[FAST.outcome].agg(n="size", successes="sum").reset_index()
    merged = cells.merge(back, on=keys, suffixes=("", "_back"), validate="1:1")
    assert len(merged) == len(cells)
    assert (merged["n"] == merged["n_back"]).all() and (merged["successes"] == merged["successes_back"]).all()


@pytest.mark.parametrize("threshold", [3, 5, 10])
def test_protected_cells_are_safe_at_every_threshold(persons: pd.DataFrame, threshold: int) -> None:
    for c in COUNTRIES:
        cells, log = protected_cells(persons[persons["country"] == c], FAST, threshold)
        assert all(safe(int(n), int(s), threshold) for n, s in zip(cells["n"], cells["successes"], strict=True))
        assert cells["n"].sum() == (persons["country"] == c).sum()
        assert all(set(r) == {"table", "action", "location", "reason"} for r in log)


def test_hide_small_adds_secondary_suppression() -> None:
    table = pd.DataFrame({"by": ["x", "x", "y", "y"], "group": ["0", "1", "0", "1"], "n": [3, 50, 40, 60]})
    table["estimate"] = [0.1, 0.2, 0.3, 0.4]
    out, log = hide_small(table, counts=["n"], values=["estimate"], threshold=5, name="t", block="by")
    assert out["n"].isna().tolist() == [True, True, False, False]  # 50 hidden too: total - 50 = 3
    assert [r["reason"].startswith("secondary") for r in log] == [False, True]


def test_threshold_presets() -> None:
    assert (resolve_threshold("ssb"), resolve_threshold("dst"), resolve_threshold("acro"), resolve_threshold(7)) == (
        3,
        5,
        10,
        7,
    )
    with pytest.raises(SpecificationError, match="threshold"):
        resolve_threshold(0)


def test_spec_roundtrip_and_validation() -> None:
    spec = BundleSpec(folds=4)
    assert BundleSpec.from_dict(spec.to_dict()) == spec and spec.digest() != BundleSpec().digest()
    with pytest.raises(SpecificationError, match="covariates"):
        BundleSpec(covariates=("not_a_cell_column",))
    with pytest.raises(SpecificationError, match="unknown keys"):
        BundleSpec.from_dict({**spec.to_dict(), "extra": 1})

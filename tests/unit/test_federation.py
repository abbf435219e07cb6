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
from o4o_causal.federation import (
    BundleSpec,
    build_bundle,
    exact_cells,
    expand_cells,
    pool_bundles,
    protected_cells,
    read_bundle,
)
from o4o_causal.federation.bundle import scrub_warning
from o4o_causal.federation.cells import safe, with_interactions
from o4o_causal.federation.disclosure import hide_small, resolve_threshold, round_block_counts
from o4o_causal.federation.manifest import manifest_digest
from o4o_causal.federation.pool import qualify_clusters
from o4o_causal.federation.validate import bundle_digest, check_bundles
from o4o_causal.registers import open_store

COUNTRIES = ("DK", "NO", "SE")
THRESHOLD = 5
FAST = BundleSpec(learner="linear", folds=2)


@pytest.fixture(scope="module")
def store(small_world: Path):  # type: ignore[no-untyped-def]
    s = open_store(small_world / "store.duckdb")
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
    out, log = hide_small(table, counts=["n"], values=["estimate"], threshold=5, name="t", labels=["by"], block="by")
    assert out["n"].isna().tolist() == [True, True, False, False]  # 50 hidden too: total - 50 = 3
    assert [r["reason"].startswith("secondary") for r in log] == [False, True]


def test_suppression_log_never_shows_a_hidden_count() -> None:
    """Regression: the log named rows by their first four columns, i.e. type, label, n, share."""
    shares = pd.DataFrame({"type": [0, 1, 2], "label": ["a", "b", "c"], "n": [431, 11, 7], "country": "NO"})
    shares["share"] = shares["n"] / shares["n"].sum()
    out, log = hide_small(
        shares, counts=["n"], values=["share"], threshold=10, name="s", labels=["type", "label"], block="country"
    )
    assert len(log) == 2 and out["n"].isna().sum() == 2
    text = " ".join(f"{r['location']} {r['reason']}" for r in log)
    assert "11" not in text and " 7" not in text and "0.0" not in text, text
    with pytest.raises(SpecificationError, match="labels"):
        hide_small(shares, counts=["n"], values=["share"], threshold=10, name="s", labels=["type", "n"])


def test_trajectory_profiles_never_show_a_hidden_type(store) -> None:  # type: ignore[no-untyped-def]
    """Regression: a type hidden by *secondary* suppression kept its n in the profiles (total - shown = small n)."""
    from o4o_causal.federation.analyses import trajectory_tables

    waa = store.cohort("waa")
    waa = waa[waa["country"] == "NO"].reset_index(drop=True)
    shares, profiles, log = trajectory_tables(waa, BundleSpec(trajectory_k=10), country="NO", threshold=10, seed=0)
    hidden = set(shares.loc[shares["n"].isna(), "type"])
    assert len(hidden) >= 2  # one small type and its secondary partner: the case this test is about
    assert hidden.isdisjoint(profiles["type"]) and set(profiles["type"]) == set(shares["type"]) - hidden
    assert all(str(n) not in r["location"] for r in log for n in (7, 11)), log


def test_round_block_counts_is_controlled() -> None:
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"by": np.repeat(["a", "b", "c"], [2, 3, 5]), "x": rng.integers(0, 40, 10)})
    for base in (3, 5, 10):
        out = round_block_counts(table, counts=["x"], block="by", base=base)
        diff = out["x"] - table["x"]
        assert (diff.abs() < base).all()
        for _, idx in table.groupby("by").indices.items():
            assert out["x"].iloc[idx].sum() == table["x"].iloc[idx].sum()  # totals stay exact
            assert (out["x"].iloc[idx[:-1]] % base == 0).all()
            big = table["x"].iloc[idx] >= base
            assert (out["x"].iloc[idx][big] >= base).all()  # a shown count never falls below the rule


def test_gate_group_sizes_are_rounded_in_bundles(bundles: dict[str, Path], persons: pd.DataFrame) -> None:
    for country, folder in bundles.items():
        est = read_bundle(folder).tables["estimates"]
        mine = persons[persons["country"] == country]
        ate = est[est["estimand"] == "ATE"].iloc[0]
        assert ate["n_treated"] == mine[FAST.treatment].sum()  # exact totals (the cells add up to them)
        for by, rows in est[est["estimand"] == "GATE"].groupby("by"):
            assert rows["n_treated"].sum() == ate["n_treated"] and rows["n_control"].sum() == ate["n_control"]
            assert (rows["n"] == rows["n_treated"] + rows["n_control"]).all()
            assert (rows[["n_treated", "n_control"]].iloc[:-1] % THRESHOLD == 0).all().all()
            exact = mine.groupby(mine[by].astype(str))[FAST.treatment].sum()
            off = rows.set_index("group")["n_treated"] - exact.reindex(rows["group"])
            assert (off.abs() < THRESHOLD).all()


class FakeStore:
    """Only ``.cohort()``: returns the frame itself (not a copy), so mutation would show."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def cohort(self, name: str) -> pd.DataFrame:
        return self.frame


def toy_country(seed: int = 1, size: int = 600) -> pd.DataFrame:
    """One country: 12 large municipalities; M13: 4 treated + 4 untreated; M14: 30 treated; M15: 30 untreated."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, (m, n) in enumerate([(f"M{i:02d}", size) for i in range(1, 13)] + [("M13", 8), ("M14", 30), ("M15", 30)]):
        d = pd.DataFrame(
            {c: rng.integers(0, 2, n) for c in ("female", "children", "low_education", "health_problem", "treated")}
        )
        d["nonwestern"] = rng.binomial(1, 0.4, n)
        d["age"] = rng.integers(18, 30, n)
        d["prior_employment"] = rng.choice([0, 3, 9], n)
        d["employed_24"] = rng.binomial(1, 0.5, n)
        d["municipality_id"], d["country"] = m, "NO"
        d["person_id"] = [f"{m}-{j}" for j in range(n)]
        d["service_resources"], d["unemployment_rate"] = rng.normal(), rng.uniform(2, 6)
        d["co_location"], d["health_employment_integration"] = k % 2, (k // 2) % 2
        d["joint_case_management"], d["population"] = int(m == "M13" or k < 6), 1000 * n
        if m == "M13":
            d["treated"] = [1, 1, 1, 1, 0, 0, 0, 0]
        if m in ("M14", "M15"):  # one arm only (dml warns, giving the number of persons); pooled together
            d["treated"] = int(m == "M14")
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


TOY = BundleSpec(
    learner="linear",
    folds=2,
    effect_modifiers=("nonwestern", "health_problem", "joint_case_management"),
    controls=("service_resources",),
)


def test_differencing_gate_sizes_against_cells_recovers_nothing_exact(tmp_path: Path) -> None:
    """Regression: exact GATE sizes minus the standalone municipalities' cells gave a pooled municipality's arms.

    M13 (8 persons, named in the suppression log as pooled) is the only pooled municipality
    with joint_case_management = 1, so GATE(jcm=1) minus the cells of the standalone jcm=1
    municipalities was exactly M13's 4 treated and 4 untreated persons.
    """
    frame = toy_country()
    before = frame.copy()
    path = build_bundle(
        FakeStore(frame), out_dir=tmp_path, analyses=("ate", "cells"), threshold=THRESHOLD, spec=TOY, progress=False
    )
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not modified
    bundle = read_bundle(path)
    est, cells = bundle.tables["estimates"], bundle.tables["cells"]
    assert "municipality M13" in set(bundle.tables["suppression_log"]["location"])
    alone = cells[(cells["unit_kind"] == "municipality") & (cells["joint_case_management"] == 1)]
    gate = est[(est["by"] == "joint_case_management") & (est["group"] == "1")].iloc[0]
    recovered = [
        gate[col] - alone.loc[alone[TOY.treatment] == arm, "n"].sum()
        for arm, col in ((1, "n_treated"), (0, "n_control"))
    ]
    assert recovered != [4, 4]  # exact sizes would give M13's arms exactly
    assert all(abs(r - 4) < THRESHOLD for r in recovered)  # rounding moves them by less than the base
    # the one-arm warning ("... (n persons)") reaches the manifest without its numbers
    texts = [w.split(": ", 1)[1] for w in bundle.manifest["warnings"]]
    assert any("one treatment arm (# persons)" in t for t in texts), texts
    assert not any(ch.isdigit() for t in texts for ch in t), texts


def test_scrub_warning_masks_numbers_and_paths() -> None:
    text = scrub_warning(UserWarning("1 of 14 clusters (3 persons, 0.25) in /secure/data/core.parquet"))
    assert text == "UserWarning: # of # clusters (# persons, #) in <path>"


def test_same_seed_gives_the_same_tables(store, bundles: dict[str, Path], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    again = build_bundle(store, country="NO", out_dir=tmp_path, threshold=THRESHOLD, seed=3, spec=FAST, progress=False)
    first = json.loads((bundles["NO"] / "manifest.json").read_text())["files"]
    assert json.loads((again / "manifest.json").read_text())["files"] == first  # byte-identical files


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


# --- validation a re-hashing editor cannot bypass, and the schema ------------------------


def rehash(folder: Path) -> None:
    """Recompute every checksum after an edit, as a deliberate tamperer would."""
    from o4o_causal._io import sha256_file

    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = {name: sha256_file(folder / name) for name in manifest["files"] if (folder / name).exists()}
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest))


def edit_table(folder: Path, name: str, edit) -> None:  # type: ignore[no-untyped-def]
    table = pd.read_csv(folder / name, dtype={"municipality_id": str})
    edit(table).to_csv(folder / name, index=False)
    rehash(folder)


def test_rehashed_edit_is_refused_only_against_the_release_digest(bundles: dict[str, Path], tmp_path: Path) -> None:
    released = bundle_digest(bundles["SE"])
    assert read_bundle(bundles["SE"], expected_digest=released).country == "SE"
    folder = copy_bundle(bundles["SE"], tmp_path / "bundle-SE")
    edit_table(folder, "estimates.csv", lambda t: t.assign(estimate=t["estimate"] + 0.1))
    read_bundle(folder)  # plain checksums cannot see an edit whose digests were recomputed (documented)
    with pytest.raises(DataError, match="not the bundle that was released"):
        read_bundle(folder, expected_digest=released)


def test_pool_bundles_checks_release_digests_before_fitting(bundles: dict[str, Path], tmp_path: Path) -> None:
    paths = [bundles[c] for c in COUNTRIES]
    with pytest.raises(SpecificationError, match="a release digest for every bundle"):
        pool_bundles(paths, expected_digests={"DK": bundle_digest(bundles["DK"])})
    digests = {c: bundle_digest(bundles[c]) for c in COUNTRIES}
    folder = copy_bundle(bundles["NO"], tmp_path / "bundle-NO")
    edit_table(folder, "estimates.csv", lambda t: t.assign(estimate=t["estimate"] * 2))
    with pytest.raises(DataError, match=r"bundle-NO/manifest\.json.*not the bundle that was released"):
        pool_bundles([bundles["DK"], folder, bundles["SE"]], expected_digests=digests)


def test_folder_inside_a_bundle_is_refused(bundles: dict[str, Path], tmp_path: Path) -> None:
    folder = copy_bundle(bundles["DK"], tmp_path / "bundle-DK")
    (folder / "extra").mkdir()
    (folder / "extra" / "persons.csv").write_text("person_id\nDK-1\n")
    with pytest.raises(DataError, match=r"extra/.*no folders"):
        read_bundle(folder)


@pytest.mark.parametrize(
    ("file", "edit", "match"),
    [
        ("cells.csv", lambda t: t.drop(columns=["successes"]), r"cells\.csv.*missing \['successes'\]"),
        ("cells.csv", lambda t: t.assign(country="SE"), r"cells\.csv.*rows of NO only"),
        ("municipality_effects.csv", lambda t: t.assign(n_control=2), r"municipality_effects\.csv.*below"),
        ("estimates.csv", lambda t: t.assign(n="many"), r"estimates\.csv.*numeric count"),
    ],
)
def test_malformed_tables_are_refused(bundles: dict[str, Path], tmp_path: Path, file: str, edit, match: str) -> None:  # type: ignore[no-untyped-def]
    folder = copy_bundle(bundles["NO"], tmp_path / "bundle-NO")
    edit_table(folder, file, edit)
    with pytest.raises(DataError, match=match):
        read_bundle(folder)


def test_manifest_structure_is_checked(bundles: dict[str, Path], tmp_path: Path) -> None:
    folder = copy_bundle(bundles["NO"], tmp_path / "a")
    (folder / "cells.csv").unlink()
    rehash(folder)  # cells.csv gone from "files", the analysis still says "included"
    with pytest.raises(DataError, match="analysis 'cells'.*its files listed"):
        read_bundle(folder)
    folder = copy_bundle(bundles["NO"], tmp_path / "b")
    rewrite_manifest(folder, {"files": ["cells.csv"]})
    with pytest.raises(DataError, match="'files'.*a JSON object.*list"):
        read_bundle(folder)


def test_shared_municipality_codes_are_qualified_by_country() -> None:
    cells = pd.DataFrame({"country": ["NO", "SE", "SE"], "municipality_id": ["0128", "0128", "0180"], "n": [5, 5, 5]})
    out = qualify_clusters(cells, FAST)
    assert out["municipality_id"].tolist() == ["NO:0128", "SE:0128", "0180"]
    assert cells["municipality_id"].tolist() == ["0128", "0128", "0180"]  # not modified
    assert qualify_clusters(cells.iloc[1:], FAST) is not None


def test_compare_refuses_the_seed_of_the_cell_fits(store) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from o4o_causal.federation import compare_with_pooled

    result = SimpleNamespace(spec=FAST, sampler={"seed": 4}, multilevel=object())
    with pytest.raises(SpecificationError, match="a seed other than 5"):
        compare_with_pooled(store, result, seed=5)  # type: ignore[arg-type]

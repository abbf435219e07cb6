from pathlib import Path

import pytest
import yaml

from o4o_causal import SpecificationError, config
from o4o_causal.repro import notebooks, profiles
from tests.conftest import REPO_ROOT, make_notebook


def _write(path: Path, obj: object) -> Path:
    path.write_text(yaml.safe_dump(obj), encoding="utf-8")
    return path


def test_parameters_merge_defaults_then_notebook(tmp_path: Path) -> None:
    prof = profiles.load_profiles(
        _write(
            tmp_path / "p.yaml",
            {
                "defaults": {"quick": {"seed": 1, "data_dir": "d"}},
                "notebooks": {"nb": {"quick": {"seed": 2, "n": 10}, "full": {"n": 99}}},
            },
        )
    )
    assert prof.parameters("nb", "quick") == {"seed": 2, "data_dir": "d", "n": 10}
    assert prof.parameters("nb", "full") == {"seed": config.DEFAULT_SEED, "n": 99}
    assert prof.parameters("other", "quick") == {"seed": 1, "data_dir": "d"}
    assert prof.unknown_notebooks(["nb"]) == [] and prof.unknown_notebooks([]) == ["nb"]


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ({"defaults": {"fast": {}}}, "defaults.fast: expected a profile name in \\['quick', 'full'\\]"),
        ({"default": {}}, "expected a mapping with sections"),
        ({"notebooks": {"nb": {"quick": [1, 2]}}}, "notebooks.nb.quick: expected a mapping of parameter"),
        ({"notebooks": ["nb"]}, "notebooks: expected a mapping"),
        ({"data": {"quick": {"scale": "small"}}}, "data.quick: expected keys \\['path', 'scale', 'seed'\\]"),
    ],
)
def test_bad_profiles_files_are_refused(tmp_path: Path, content: object, match: str) -> None:
    with pytest.raises(SpecificationError, match=match):
        profiles.load_profiles(_write(tmp_path / "p.yaml", content))


def test_data_section_names_the_synthetic_world(tmp_path: Path) -> None:
    spec = {"scale": "small", "seed": 1, "path": "data/x"}
    prof = profiles.load_profiles(_write(tmp_path / "p.yaml", {"data": {"quick": spec}}))
    assert prof.data == {"quick": spec}
    project = profiles.load_profiles(REPO_ROOT / config.PROFILES_FILE)
    assert project.data["quick"]["scale"] == "small" and project.data["full"]["scale"] == "default"


def test_missing_profiles_file_and_unknown_profile(tmp_path: Path) -> None:
    with pytest.raises(SpecificationError, match="profiles file: expected a YAML file"):
        profiles.load_profiles(tmp_path / "none.yaml")
    with pytest.raises(SpecificationError, match="profile: expected one of \\['quick', 'full'\\], found 'medium'"):
        profiles.check_profile("medium")


def test_unknown_parameter_names_are_refused(tmp_path: Path) -> None:
    nb = make_notebook(tmp_path / "nb.ipynb", ["x = 1"])
    declared = notebooks.declared_parameters(nb)
    assert set(declared) == {"profile", "seed", "data_dir", "output_dir"}
    with pytest.raises(SpecificationError, match="parameter 'n_draws' for notebook nb.ipynb.*declared in its"):
        profiles.validate_parameters(nb, {"seed": 1, "n_draws": 5}, declared, source="profiles.yaml")


def test_notebook_without_parameters_cell_or_required_names(tmp_path: Path) -> None:
    nb = make_notebook(tmp_path / "a.ipynb", ["x = 1"])
    raw = nb.read_text().replace('"parameters"', '"other"')
    nb.write_text(raw)
    with pytest.raises(SpecificationError, match="a code cell tagged 'parameters'"):
        notebooks.declared_parameters(nb)
    nb2 = make_notebook(tmp_path / "b.ipynb", ["x = 1"], parameters="profile = 'quick'\nseed = 0\n")
    with pytest.raises(SpecificationError, match="missing data_dir, output_dir"):
        notebooks.declared_parameters(nb2)


def test_discover_by_glob_and_pattern(tmp_path: Path) -> None:
    for name in ["00-overview", "01-dag", "02-dml"]:
        make_notebook(tmp_path / f"{name}.ipynb", [])
    (tmp_path / ".hidden.ipynb").write_text("{}")
    assert [p.stem for p in notebooks.discover(tmp_path)] == ["00-overview", "01-dag", "02-dml"]
    assert [p.stem for p in notebooks.discover(tmp_path, "0[12]-*")] == ["01-dag", "02-dml"]
    assert [p.stem for p in notebooks.discover(tmp_path, "00-overview, *dml*")] == ["00-overview", "02-dml"]
    with pytest.raises(SpecificationError, match="none matching 'zz\\*'"):
        notebooks.discover(tmp_path, "zz*")


def test_find_root(tmp_path: Path) -> None:
    assert notebooks.find_root(REPO_ROOT / "o4o_causal" / "repro") == REPO_ROOT
    with pytest.raises(SpecificationError, match="project root"):
        notebooks.find_root(tmp_path)


def test_project_profiles_match_project_notebooks() -> None:
    """The profiles file may not drift: every entry names a notebook, every parameter is declared."""
    prof = profiles.load_profiles(REPO_ROOT / config.PROFILES_FILE)
    found = notebooks.discover(REPO_ROOT / config.NOTEBOOKS_DIR)
    assert prof.unknown_notebooks([p.stem for p in found]) == []
    for path in found:
        declared = notebooks.declared_parameters(path)
        for profile in config.PROFILES:
            params = prof.parameters(path.stem, profile) | {"profile": profile, "output_dir": "x"}
            profiles.validate_parameters(path, params, declared, source=profile)

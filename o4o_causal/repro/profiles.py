"""Run profiles: per-notebook parameters of the ``quick`` and ``full`` runs.

``reproducibility/profiles.yaml`` has two sections::

    defaults:            # every notebook, per profile
      quick: {seed: 20261130, data_dir: data/synthetic/small}
      full:  {seed: 20261130, data_dir: data/synthetic/default}
    notebooks:           # per notebook (file name without .ipynb), per profile
      00-overview:
        quick: {n_draws: 2000}
        full:  {n_draws: 200000}

A third section, ``data``, names per profile the synthetic world the notebooks read
by default (``{scale, seed, path}``); the runner creates it when missing.

The runner adds ``profile`` and ``output_dir`` itself. Every resulting parameter must
be declared in the notebook's ``parameters`` cell: papermill only warns about unknown
names, the suite refuses them before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from o4o_causal import config
from o4o_causal.exceptions import SpecificationError, format_error

_SECTIONS = ("defaults", "notebooks", "data")


def _check_profile_block(block: Any, where: str, source: Path) -> dict[str, dict[str, Any]]:
    if block is None:
        return {}
    if not isinstance(block, Mapping):
        raise SpecificationError(
            format_error(
                what=f"{source}: {where}",
                expected="a mapping of profile name to parameters",
                found=type(block).__name__,
                fix=f"write e.g. '{where}: {{quick: {{...}}, full: {{...}}}}'",
            )
        )
    out: dict[str, dict[str, Any]] = {}
    for profile, params in block.items():
        if profile not in config.PROFILES:
            raise SpecificationError(
                format_error(
                    what=f"{source}: {where}.{profile}",
                    expected=f"a profile name in {list(config.PROFILES)}",
                    found=repr(profile),
                    fix="rename the profile or remove it",
                )
            )
        params = {} if params is None else params
        if not isinstance(params, Mapping):
            raise SpecificationError(
                format_error(
                    what=f"{source}: {where}.{profile}",
                    expected="a mapping of parameter name to value",
                    found=type(params).__name__,
                    fix="write parameters as 'name: value' pairs",
                )
            )
        out[profile] = {str(k): v for k, v in params.items()}
    return out


@dataclass(frozen=True)
class Profiles:
    """Parsed profiles file."""

    source: Path
    defaults: dict[str, dict[str, Any]] = field(default_factory=dict)
    notebooks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    data: dict[str, dict[str, Any]] = field(default_factory=dict)

    def parameters(self, notebook: str, profile: str) -> dict[str, Any]:
        """Return profile parameters for ``notebook`` (defaults, then notebook entries)."""
        check_profile(profile)
        params: dict[str, Any] = {"seed": config.DEFAULT_SEED}
        params.update(self.defaults.get(profile, {}))
        params.update(self.notebooks.get(notebook, {}).get(profile, {}))
        return params

    def unknown_notebooks(self, existing: list[str]) -> list[str]:
        """Return notebook entries that name no existing notebook (a drifting list)."""
        return sorted(set(self.notebooks) - set(existing))


def check_profile(profile: str) -> None:
    """Raise :class:`SpecificationError` unless ``profile`` is a known profile."""
    if profile not in config.PROFILES:
        raise SpecificationError(
            format_error(
                what="profile",
                expected=f"one of {list(config.PROFILES)}",
                found=repr(profile),
                fix="use --profile quick (CI) or --profile full (reproduction)",
            )
        )


def load_profiles(path: Path) -> Profiles:
    """Read and validate a profiles file.

    Raises
    ------
    SpecificationError
        If the file is missing, is not valid YAML, or has an unexpected structure.
    """
    if not path.is_file():
        raise SpecificationError(
            format_error(
                what="profiles file",
                expected=f"a YAML file at {path}",
                found="no file",
                fix=f"create {config.PROFILES_FILE} (see CONTRIBUTING.md)",
            )
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SpecificationError(
            format_error(what=f"profiles file {path}", expected="valid YAML", found=str(exc), fix="fix the syntax")
        ) from exc
    if not isinstance(raw, Mapping) or set(raw) - set(_SECTIONS):
        found = sorted(raw) if isinstance(raw, Mapping) else type(raw).__name__
        raise SpecificationError(
            format_error(
                what=f"profiles file {path}",
                expected=f"a mapping with sections {list(_SECTIONS)}",
                found=repr(found),
                fix="move parameters under 'defaults' or 'notebooks'",
            )
        )
    notebooks_raw = raw.get("notebooks") or {}
    if not isinstance(notebooks_raw, Mapping):
        raise SpecificationError(
            format_error(
                what=f"{path}: notebooks",
                expected="a mapping of notebook name to profiles",
                found=type(notebooks_raw).__name__,
                fix="write 'notebooks: {00-overview: {quick: {...}}}'",
            )
        )
    data = _check_profile_block(raw.get("data"), "data", path)
    for profile, spec in data.items():
        from o4o_causal.repro.data import check_spec

        check_spec(spec, f"{path}: data.{profile}")
    return Profiles(
        source=path,
        data=data,
        defaults=_check_profile_block(raw.get("defaults"), "defaults", path),
        notebooks={
            str(name): _check_profile_block(block, f"notebooks.{name}", path) for name, block in notebooks_raw.items()
        },
    )


def validate_parameters(
    notebook: Path, parameters: Mapping[str, Any], declared: Mapping[str, Any], source: str
) -> None:
    """Refuse parameters the notebook does not declare.

    Parameters
    ----------
    notebook
        The notebook file.
    parameters
        Parameters about to be injected.
    declared
        Parameters declared in the notebook's ``parameters`` cell.
    source
        Where the parameters came from (for the message).

    Raises
    ------
    SpecificationError
        Naming every undeclared parameter.
    """
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise SpecificationError(
            format_error(
                what=f"parameter{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)} "
                f"for notebook {notebook.name} (from {source})",
                expected=f"names declared in its parameters cell: {sorted(declared)}",
                found="names the notebook does not declare",
                fix="declare them in the notebook's parameters cell or remove them from the profile",
            )
        )

"""Discovering notebooks and reading their declared parameters."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Any

from o4o_causal import config
from o4o_causal.exceptions import DataError, SpecificationError, format_error


def find_root(start: str | Path | None = None) -> Path:
    """Return the project root: the nearest folder upwards holding the profiles file.

    Parameters
    ----------
    start
        Folder to start from (default: the current directory).

    Raises
    ------
    SpecificationError
        If no folder upwards contains ``reproducibility/profiles.yaml``.
    """
    here = Path.cwd() if start is None else Path(start)
    here = here.resolve()
    for candidate in (here, *here.parents):
        if (candidate / config.PROFILES_FILE).is_file():
            return candidate
    raise SpecificationError(
        format_error(
            what="project root",
            expected=f"a folder containing {config.PROFILES_FILE} at or above {here}",
            found="none",
            fix="run from inside the o4o-causal project or pass --root",
        )
    )


def discover(notebooks_dir: Path, pattern: str | None = None) -> list[Path]:
    """Return the notebooks in ``notebooks_dir`` (sorted), optionally filtered.

    Notebooks are found by glob, never from a hand-kept list. ``pattern`` is a shell
    pattern matched against the file name and against the name without ``.ipynb``
    (``"00-*"``, ``"*dml*"``, ``"01-dag-identification"``); several patterns may be
    separated by commas.

    Raises
    ------
    SpecificationError
        If the folder does not exist or nothing matches.
    """
    if not notebooks_dir.is_dir():
        raise SpecificationError(
            format_error(
                what="notebooks folder",
                expected="an existing folder",
                found=f"{notebooks_dir} does not exist",
                fix="run from the project root or pass the right --root",
            )
        )
    found = sorted(p for p in notebooks_dir.glob("*.ipynb") if not p.name.startswith("."))
    if pattern:
        patterns = [p.strip() for p in pattern.split(",") if p.strip()]
        found = [p for p in found if any(fnmatch.fnmatch(p.name, q) or fnmatch.fnmatch(p.stem, q) for q in patterns)]
    if not found:
        raise SpecificationError(
            format_error(
                what="--notebooks" if pattern else "notebooks folder",
                expected="at least one notebook",
                found=f"none matching {pattern!r} in {notebooks_dir}" if pattern else f"no .ipynb in {notebooks_dir}",
                fix="check the pattern (matched against file names, e.g. '00-*')",
            )
        )
    return found


def declared_parameters(path: Path) -> dict[str, Any]:
    """Return the parameters declared in the notebook's ``parameters`` cell.

    Returns
    -------
    dict
        Parameter name -> papermill's description (type, default, help).

    Raises
    ------
    SpecificationError
        If the notebook has no cell tagged ``parameters`` or it lacks a required name.
    """
    import nbformat
    import papermill

    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise SpecificationError(
            format_error(
                what=f"notebook {path.name}",
                expected="a code cell tagged 'parameters'",
                found="no such cell",
                fix="add the tag 'parameters' to the cell that sets profile, seed, data_dir, output_dir",
            )
        )
    params: dict[str, Any] = dict(papermill.inspect_notebook(str(path)))
    missing = [p for p in config.REQUIRED_NOTEBOOK_PARAMETERS if p not in params]
    if missing:
        raise SpecificationError(
            format_error(
                what=f"parameters cell of {path.name}",
                expected=f"declarations of {', '.join(config.REQUIRED_NOTEBOOK_PARAMETERS)}",
                found=f"{sorted(params)} (missing {', '.join(missing)})",
                fix="declare the missing names with a default value in the parameters cell",
            )
        )
    return params


def read_executed(path: Path, *, fix: str = "use an executed .ipynb produced by `o4o run`") -> Any:
    """Read a notebook file (nbformat v4), with clear errors for a missing or invalid file.

    Parameters
    ----------
    path
        The ``.ipynb`` file.
    fix
        What to tell the user when the file is not a valid notebook.

    Raises
    ------
    DataError
        If the file does not exist or nbformat cannot read it.
    """
    import nbformat

    if not path.is_file():
        raise DataError(
            format_error(what="notebook", expected="an existing .ipynb file", found=str(path), fix="check the path")
        )
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several unrelated types
        raise DataError(
            format_error(
                what=f"notebook {path.name}",
                expected="a valid Jupyter notebook",
                found=f"{type(exc).__name__}: {exc}",
                fix=fix,
            )
        ) from exc

"""Recording key results from inside a notebook.

``record(name, value)`` stores a named aggregate result. When the notebook runs under
the reproduction runner, the value is written to the notebook's ``results.json`` in
the run folder (the runner tells the kernel where through ``$O4O_RESULTS_FILE``); the
run manifest and ``index.html`` show them, and two runs with the same seed can be
compared value by value. In an interactive session the values are only kept in
memory (see :func:`recorded`).

Only aggregates belong here: numbers, strings, small lists/dicts, :class:`Estimate`
objects and small tables. Large arrays or tables are refused, because recorded values
leave the run and must never carry microdata.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from o4o_causal import _io
from o4o_causal.exceptions import DataError, format_error
from o4o_causal.results import Estimate

#: Environment variable through which the runner names the results file.
RESULTS_ENV = "O4O_RESULTS_FILE"

#: Largest number of scalar elements a recorded value may hold.
MAX_ELEMENTS = 500

_RECORDED: dict[str, Any] = {}


def _jsonable(value: Any, name: str) -> Any:
    """Convert ``value`` to plain JSON types, refusing large or unknown objects."""
    if isinstance(value, Estimate):
        return _jsonable(value.to_dict(), name)
    if isinstance(value, pd.DataFrame | pd.Series):
        if value.size > MAX_ELEMENTS:
            raise DataError(
                format_error(
                    what=f"record({name!r})",
                    expected=f"an aggregate table with at most {MAX_ELEMENTS} cells",
                    found=f"a {type(value).__name__} with {value.size} cells",
                    fix="record summary statistics, not microdata or long tables",
                )
            )
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        return _jsonable(frame.reset_index().to_dict(orient="list"), name)
    if isinstance(value, np.ndarray):
        if value.size > MAX_ELEMENTS:
            raise DataError(
                format_error(
                    what=f"record({name!r})",
                    expected=f"at most {MAX_ELEMENTS} elements",
                    found=f"an array of shape {value.shape}",
                    fix="record aggregates (means, estimates), not arrays of individual values",
                )
            )
        return _jsonable(value.tolist(), name)
    if isinstance(value, np.generic):
        return _jsonable(value.item(), name)
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, name) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if len(value) > MAX_ELEMENTS:
            raise DataError(
                format_error(
                    what=f"record({name!r})",
                    expected=f"at most {MAX_ELEMENTS} elements",
                    found=f"a sequence of length {len(value)}",
                    fix="record aggregates, not long sequences",
                )
            )
        return [_jsonable(v, name) for v in value]
    raise DataError(
        format_error(
            what=f"record({name!r})",
            expected="a number, string, bool, None, Estimate, small list/dict/array or small table",
            found=f"an object of type {type(value).__name__}",
            fix="convert the result to a number or a small table first",
        )
    )


def record(name: str, value: Any) -> Any:
    """Record a named aggregate result of the running notebook.

    Parameters
    ----------
    name
        Key of the result (unique within a notebook; recording again replaces it).
    value
        The result: number, string, bool, None, :class:`~o4o_causal.results.Estimate`,
        or a small list, dict, array, Series or DataFrame. Non-finite floats are stored
        as ``null``.

    Returns
    -------
    Any
        ``value`` unchanged, so ``x = record("x", compute())`` reads naturally.

    Raises
    ------
    DataError
        If ``name`` is empty or ``value`` cannot be stored or is too large.
    """
    if not isinstance(name, str) or not name.strip():
        raise DataError(
            format_error(
                what="record(name)",
                expected="a non-empty string",
                found=repr(name),
                fix='give the result a name, e.g. record("ate", estimate)',
            )
        )
    converted = _jsonable(value, name)
    _RECORDED[name] = converted
    target = os.environ.get(RESULTS_ENV)
    if target:
        path = Path(target)
        existing = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        existing[name] = converted
        _io.write_json(path, existing)
    return value


def recorded() -> dict[str, Any]:
    """Return a copy of the values recorded in this process (JSON form)."""
    copy: dict[str, Any] = json.loads(json.dumps(_RECORDED))
    return copy

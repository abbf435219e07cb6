"""Exception hierarchy of the suite.

Every error raised on purpose by :mod:`o4o_causal` derives from :class:`O4OError`,
so callers can catch the suite's errors in one place. Messages follow one rule:
name the column or parameter, say what was expected and what was found, and say
how to fix it (see :func:`format_error`).
"""

from __future__ import annotations


class O4OError(Exception):
    """Base class of all errors raised on purpose by ``o4o_causal``."""


class DataError(O4OError, ValueError):
    """Input data does not have the expected columns, types, values or shape."""


class SpecificationError(O4OError, ValueError):
    """A model, DAG, profile or parameter specification is invalid or inconsistent."""


class ConvergenceError(O4OError, RuntimeError):
    """An estimator or sampler did not converge (diagnostics outside thresholds)."""


class DisclosureError(O4OError):
    """An output would disclose information about individuals or small groups."""


class O4OWarning(UserWarning):
    """Something is estimable but doubtful (weak first stage, clusters with one arm, ...)."""


def format_error(*, what: str, expected: str, found: str, fix: str) -> str:
    """Build an error message in the suite's standard form.

    Parameters
    ----------
    what
        The column, parameter, file or node concerned.
    expected
        What was expected.
    found
        What was found instead.
    fix
        How the user can fix it.

    Returns
    -------
    str
        ``"<what>: expected <expected>, found <found>. Fix: <fix>"``.
    """
    return f"{what}: expected {expected}, found {found}. Fix: {fix}"


__all__ = [
    "ConvergenceError",
    "DataError",
    "DisclosureError",
    "O4OError",
    "SpecificationError",
    "format_error",
]

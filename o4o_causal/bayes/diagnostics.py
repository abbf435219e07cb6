"""Convergence diagnostics of MCMC output and the suite's convergence gate.

:func:`diagnostics_table` computes, for every element of the named parameters, the
rank-normalised split R-hat and the bulk and tail effective sample sizes (ArviZ 1,
``arviz.rhat`` / ``arviz.ess``), plus the number of divergent transitions and the
E-BFMI of every chain (``arviz.bfmi``) as frame attributes. :func:`check_diagnostics`
compares such a table with :data:`o4o_causal.config.DIAGNOSTICS` and raises
:class:`~o4o_causal.exceptions.ConvergenceError` (or warns) with the offending values
and how to fix them. Both work on the :class:`xarray.DataTree` returned by
``pm.sample`` (any sampler) and are shared by every Bayesian module of the suite.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from o4o_causal import _validate, config
from o4o_causal.exceptions import ConvergenceError, DataError, O4OWarning, format_error

#: Sample dimensions of a posterior group.
SAMPLE_DIMS: tuple[str, str] = ("chain", "draw")

#: Columns of :func:`diagnostics_table`.
COLUMNS: tuple[str, ...] = ("parameter", "rhat", "ess_bulk", "ess_tail")

#: At most this many offending values are listed per criterion in a message.
_MAX_LISTED = 8


def group_dataset(idata: Any, name: str) -> Any | None:
    """Return group ``name`` of ``idata`` as an :class:`xarray.Dataset`, or None if absent.

    Parameters
    ----------
    idata
        A :class:`xarray.DataTree` (``pm.sample`` output) or any object whose groups can
        be read with ``idata[name]`` or ``getattr(idata, name)``.
    name
        Group name, e.g. ``"posterior"`` or ``"sample_stats"``.

    Returns
    -------
    xarray.Dataset or None
        The group's variables; None when the group does not exist.
    """
    try:
        node = idata[name]
    except (KeyError, TypeError, IndexError):
        node = getattr(idata, name, None)
    return None if node is None else _as_dataset(node)


def _as_dataset(obj: Any) -> Any:
    """Return a DataTree node (e.g. an ArviZ result) as a Dataset; other objects unchanged."""
    import xarray as xr

    return obj.to_dataset() if isinstance(obj, xr.DataTree) else obj


def _elements(array: Any, name: str) -> Iterator[tuple[str, tuple[int, ...]]]:
    """Yield ``(label, index)`` for every element of ``array`` over its non-sample dims."""
    dims = [d for d in array.dims if d not in SAMPLE_DIMS]
    if not dims:
        yield name, ()
        return
    labels = [array.coords[d].values.tolist() if d in array.coords else list(range(array.sizes[d])) for d in dims]
    for index in np.ndindex(*(array.sizes[d] for d in dims)):
        yield f"{name}[{', '.join(str(labels[k][i]) for k, i in enumerate(index))}]", index


def _values(result: Any, name: str, dims: Sequence[str]) -> np.ndarray:
    """Return variable ``name`` of an ArviZ result with its dims in the order ``dims``."""
    return np.asarray(result[name].transpose(*dims).values, dtype=float)


def _divergences(idata: Any) -> int | None:
    stats = group_dataset(idata, "sample_stats")
    if stats is None or "diverging" not in stats.data_vars:
        return None
    return int(np.asarray(stats["diverging"].values).sum())


def _bfmi(idata: Any) -> tuple[float, ...]:
    import arviz as az

    stats = group_dataset(idata, "sample_stats")
    if stats is None or "energy" not in stats.data_vars:
        return ()
    return tuple(float(v) for v in np.atleast_1d(np.asarray(az.bfmi(stats["energy"]).values)))


def diagnostics_table(idata: Any, var_names: Sequence[str]) -> pd.DataFrame:
    """Compute R-hat, bulk and tail ESS per parameter element, with divergences and E-BFMI.

    Parameters
    ----------
    idata
        Sampler output with a ``posterior`` group (and, for divergences and E-BFMI, a
        ``sample_stats`` group with ``diverging`` and ``energy``), e.g. the
        :class:`xarray.DataTree` returned by ``pm.sample``.
    var_names
        Posterior variables to diagnose. Vector and array variables give one row per
        element, labelled with their coordinates, e.g. ``theta[NO]`` or ``beta[NO, 2]``.

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter``, ``rhat`` (rank-normalised split R-hat), ``ess_bulk`` and
        ``ess_tail``. ``attrs`` holds ``divergences`` (post-warm-up divergent
        transitions summed over chains; None when the sampler records none),
        ``bfmi`` (tuple of E-BFMI per chain; empty without an ``energy`` statistic),
        ``chains`` and ``draws`` (per chain).

    Raises
    ------
    DataError
        If ``idata`` has no posterior group or lacks one of ``var_names``.
    """
    import arviz as az

    names = [str(n) for n in var_names]
    posterior = group_dataset(idata, "posterior")
    if posterior is None:
        raise DataError(
            format_error(
                what="idata",
                expected="sampler output with a 'posterior' group",
                found=type(idata).__name__,
                fix="pass the DataTree returned by pm.sample(...)",
            )
        )
    missing = [n for n in names if n not in posterior.data_vars]
    if not names or missing:
        raise DataError(
            format_error(
                what="var_names of diagnostics_table",
                expected="one or more variables of the posterior",
                found=f"missing {missing}" if missing else "no names",
                fix=f"choose from {sorted(map(str, posterior.data_vars))}",
            )
        )
    rhat = _as_dataset(az.rhat(posterior, var_names=names))
    ess_bulk = _as_dataset(az.ess(posterior, var_names=names, method="bulk"))
    ess_tail = _as_dataset(az.ess(posterior, var_names=names, method="tail"))
    rows: list[dict[str, Any]] = []
    for name in names:
        dims = [d for d in posterior[name].dims if d not in SAMPLE_DIMS]
        values = {key: _values(res, name, dims) for key, res in (("rhat", rhat), ("b", ess_bulk), ("t", ess_tail))}
        for label, index in _elements(posterior[name], name):
            rows.append(
                {
                    "parameter": label,
                    "rhat": float(values["rhat"][index]),
                    "ess_bulk": float(values["b"][index]),
                    "ess_tail": float(values["t"][index]),
                }
            )
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table.attrs["divergences"] = _divergences(idata)
    table.attrs["bfmi"] = _bfmi(idata)
    table.attrs["chains"] = int(posterior.sizes.get("chain", 1))
    table.attrs["draws"] = int(posterior.sizes.get("draw", 0))
    return table


def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    return shown + (f" and {len(items) - _MAX_LISTED} more" if len(items) > _MAX_LISTED else "")


def check_diagnostics(table: pd.DataFrame, *, on_failure: str = "raise", what: str = "model") -> None:
    """Check a :func:`diagnostics_table` against the convergence thresholds of the suite.

    The thresholds are read from :data:`o4o_causal.config.DIAGNOSTICS` at call time:
    R-hat at most ``max_rhat``, bulk and tail ESS at least ``min_ess_bulk`` /
    ``min_ess_tail`` (totals over chains), at most ``max_divergences`` divergent
    transitions and an E-BFMI of at least ``min_bfmi`` in every chain. A non-finite
    R-hat or ESS (e.g. a parameter that never moved) fails the gate.

    Parameters
    ----------
    table
        Output of :func:`diagnostics_table`.
    on_failure
        ``"raise"`` raises :class:`~o4o_causal.exceptions.ConvergenceError`; ``"warn"``
        issues an :class:`~o4o_causal.exceptions.O4OWarning` and returns.
    what
        Name of the model in the message, e.g. ``"pool_estimates"``.

    Raises
    ------
    ConvergenceError
        If a threshold is violated and ``on_failure="raise"``. The message names every
        offending parameter with its value and how to fix the run.
    SpecificationError
        If ``on_failure`` is not ``"raise"`` or ``"warn"``.
    DataError
        If ``table`` lacks a column of :func:`diagnostics_table`.
    """
    _validate.on_failure(on_failure)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise DataError(
            format_error(
                what="diagnostics table",
                expected=f"columns {', '.join(COLUMNS)}",
                found=f"missing {', '.join(missing)}",
                fix="build it with diagnostics_table(idata, var_names)",
            )
        )
    thr = config.DIAGNOSTICS
    problems: list[str] = []
    rhat_bad = [f"{p}={r:.3f}" for p, r in zip(table["parameter"], table["rhat"], strict=True) if not r <= thr.max_rhat]
    if rhat_bad:
        problems.append(f"R-hat > {thr.max_rhat} for {_listed(rhat_bad)}")
    for col, label, limit in (
        ("ess_bulk", "bulk ESS", thr.min_ess_bulk),
        ("ess_tail", "tail ESS", thr.min_ess_tail),
    ):
        bad = [f"{p}={e:.0f}" for p, e in zip(table["parameter"], table[col], strict=True) if not e >= limit]
        if bad:
            problems.append(f"{label} < {limit:g} for {_listed(bad)}")
    divergences = table.attrs.get("divergences")
    if divergences is not None and divergences > thr.max_divergences:
        problems.append(f"{divergences} divergent transitions (at most {thr.max_divergences} allowed)")
    bfmi = [float(b) for b in table.attrs.get("bfmi", ())]
    low = [f"chain {i}: {b:.2f}" for i, b in enumerate(bfmi) if not (math.isfinite(b) and b >= thr.min_bfmi)]
    if low:
        problems.append(f"E-BFMI < {thr.min_bfmi} ({_listed(low)})")
    if not problems:
        return
    message = format_error(
        what=f"MCMC convergence of {what}",
        expected=(
            f"R-hat <= {thr.max_rhat}, bulk ESS >= {thr.min_ess_bulk:g}, tail ESS >= {thr.min_ess_tail:g}, "
            f"divergences <= {thr.max_divergences}, E-BFMI >= {thr.min_bfmi}"
        ),
        found="; ".join(problems),
        fix=(
            "sample longer (more tune= and draws=, or more chains=) for low ESS or high R-hat; raise "
            "target_accept= (e.g. 0.95-0.99) against divergences; if divergences persist or E-BFMI is low, "
            "change the parametrisation (non-centred when groups are noisy, centred when they are precise) "
            "or tighten the priors. Do not use these draws for inference"
        ),
    )
    if on_failure == "raise":
        raise ConvergenceError(message)
    warnings.warn(message, O4OWarning, stacklevel=3)


__all__ = ["check_diagnostics", "diagnostics_table", "group_dataset"]

"""The proof that the federated design works: federated vs pooled-microdata estimates.

On the synthetic world the microdata of all countries *can* be pooled, so the same
multilevel model can be fitted both ways. :func:`compare_with_pooled` fits it on the
pooled persons and sets the federated estimates beside it:

* **exact cells** -- each country's cells without disclosure control, expanded into
  pseudo-persons: the likelihood is identical to the persons', so the estimates must
  agree within Monte Carlo error (different sampler seeds; ``z`` ~ N(0, 1));
* **the bundles** (and optionally cells at other thresholds) -- what disclosure control
  (pooled municipalities, merged cells with imputed covariates) changes, measured in
  units of Monte Carlo error and of the pooled posterior sd.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.federation import cells as _cells
from o4o_causal.federation.pool import CrossCountryResult, fit_cells, fit_persons, qualify_clusters
from o4o_causal.federation.spec import BundleSpec

COLUMNS = [
    "estimand",
    "variant",
    "federated",
    "pooled",
    "difference",
    "mcse_difference",
    "z",
    "difference_in_sd",
    "within_mc_error",
]


def effect_draws(fit: Any) -> dict[str, np.ndarray]:
    """Return posterior draws (chains x draws) of the AME, country effects and country contrasts."""
    chains = int(fit.idata["posterior"]["alpha"].shape[0])
    eff, labels = fit.effects, fit.design.countries
    out = {"AME": eff.overall}
    for i, c in enumerate(labels):
        out[f"country {c}"] = eff.country[:, i]
    for i, j in itertools.combinations(range(len(labels)), 2):
        out[f"{labels[i]} - {labels[j]}"] = eff.country[:, i] - eff.country[:, j]
    return {k: np.asarray(v).reshape(chains, -1) for k, v in out.items()}


def _mcse(draws: np.ndarray) -> float:
    import arviz as az

    return float(az.mcse(draws))


def _compare(federated: Any, pooled: Any, variant: str) -> pd.DataFrame:
    fed, ref = effect_draws(federated), effect_draws(pooled)
    rows = []
    for name, f in fed.items():
        p = ref[name]
        diff = float(f.mean() - p.mean())
        mcse = float(np.hypot(_mcse(f), _mcse(p)))
        z = diff / mcse if mcse > 0 else np.nan
        rows.append(
            [name, variant, float(f.mean()), float(p.mean()), diff, mcse, z, diff / float(p.std()), abs(z) <= 3]
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def pooled_persons(store: Any, spec: BundleSpec, countries: Sequence[str]) -> pd.DataFrame:
    """Return the prepared persons of ``countries`` (synthetic validation only: never pool real microdata)."""
    frame = store.cohort(spec.cohort)
    frame = frame[frame["country"].isin(list(countries))].reset_index(drop=True)
    return qualify_clusters(_cells.with_interactions(spec.prepare(frame), spec), spec)


def compare_with_pooled(
    store: Any,
    result: CrossCountryResult,
    *,
    exact: bool = True,
    thresholds: Sequence[int] = (),
    seed: int | None = None,
) -> pd.DataFrame:
    """Fit the multilevel model on pooled microdata and compare the federated estimates with it.

    Parameters
    ----------
    store
        Store holding every country of ``result`` (the synthetic world).
    result
        :func:`pool_bundles` result with the multilevel model (bundles with ``"cells"``).
    exact
        Add the federated fit on exact (unprotected) cells: agreement within Monte Carlo error.
    thresholds
        Further disclosure thresholds whose protected cells are fitted (in memory) and compared.
    seed
        Seed of the pooled fit (default: the federated seed + 2, so the chains differ).
        Must differ from the cell fits' seed (federated seed + 1): with the same seed
        and the same likelihood the draws would coincide and the comparison prove nothing.

    Returns
    -------
    pandas.DataFrame
        One row per estimand (``AME``, ``country XX``, ``XX - YY``) and variant: federated
        and pooled posterior means, their difference, its Monte Carlo SE
        (``sqrt(mcse_f^2 + mcse_p^2)``, the fits being independent), ``z = difference /
        mcse_difference``, the difference in pooled posterior SDs, and ``within_mc_error``
        (``|z| <= 3``). ``attrs["pooled"]`` is the pooled fit, ``attrs["notes"]`` the warnings raised.
    """
    spec, s = result.spec, result.sampler
    fit_seed = int(s["seed"]) + 1
    pooled_seed = _pooled_seed(result, fit_seed, seed)
    settings = {"draws": s["draws"], "tune": s["tune"], "chains": s["chains"], "on_failure": "warn"}
    persons = pooled_persons(store, spec, result.countries)
    with warnings.catch_warnings(record=True) as caught:  # kept in attrs["notes"], not printed
        warnings.simplefilter("always")
        pooled = fit_persons(persons, spec, seed=pooled_seed, **settings)
        parts = [_compare(result.multilevel, pooled, _bundle_label(result))]
        for variant, cells in _variants(persons, result.countries, spec, exact=exact, thresholds=thresholds):
            parts.append(_compare(fit_cells(cells, spec, seed=fit_seed, **settings), pooled, variant))
    table = pd.concat(parts, ignore_index=True)
    table.attrs["pooled"] = pooled
    table.attrs["notes"] = [f"{type(w.message).__name__}: {w.message}" for w in caught]
    return table


def _pooled_seed(result: CrossCountryResult, fit_seed: int, seed: int | None) -> int:
    if result.multilevel is None:
        raise SpecificationError(
            format_error(
                what="result",
                expected="a CrossCountryResult with the multilevel model",
                found="bundles without 'cells'",
                fix="build the bundles with analyses including 'cells'",
            )
        )
    pooled_seed = fit_seed + 1 if seed is None else int(seed)
    if pooled_seed == fit_seed:
        raise SpecificationError(
            format_error(
                what="seed",
                expected=f"a seed other than {fit_seed} (the seed of the cell fits)",
                found=repr(seed),
                fix="leave seed=None",
            )
        )
    return pooled_seed


def _bundle_label(result: CrossCountryResult) -> str:
    used = sorted({int(b) for b in result.cells_report.get("threshold", pd.Series(dtype=int))})
    return f"bundles (threshold {', '.join(map(str, used))})"


def _variants(
    persons: pd.DataFrame, countries: Sequence[str], spec: BundleSpec, *, exact: bool, thresholds: Sequence[int]
) -> list[tuple[str, pd.DataFrame]]:
    """Return the cells of each further variant, built per country (as each country would)."""
    by_country = [persons[persons["country"] == c] for c in countries]
    out = []
    if exact:
        cells = pd.concat([_cells.exact_cells(p, spec) for p in by_country], ignore_index=True)
        out.append(("exact cells", _cells.with_interactions(cells, spec)))
    for t in thresholds:
        cells = pd.concat([_cells.protected_cells(p, spec, int(t))[0] for p in by_country], ignore_index=True)
        out.append((f"cells at threshold {t}", cells))
    return out


__all__ = ["COLUMNS", "compare_with_pooled", "effect_draws", "pooled_persons"]

"""``pool_bundles``: the cross-country step, on validated bundles only (never microdata).

Two models combine the countries:

* **Hierarchical pooling of the country ATEs** (double ML, municipality-clustered SEs)
  by Bayesian random-effects meta-analysis (:func:`~o4o_causal.bayes.pool_estimates`).
* **The multilevel binomial model** (:func:`~o4o_causal.bayes.fit_multilevel`) on the
  union of the countries' cells, expanded into pseudo-persons
  (:func:`~o4o_causal.federation.cells.expand_cells`): the likelihood of the cells is
  exactly the likelihood of the persons they summarise. It gives the average marginal
  effect, country effects and country contrasts with posterior intervals.

Trajectory types are matched across countries by their aggregate profiles
(:func:`~o4o_causal.trajectories.match_types`) and their shares shown side by side.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from o4o_causal import _validate
from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.federation.cells import expand_cells
from o4o_causal.federation.spec import BundleSpec
from o4o_causal.federation.validate import Bundle, check_bundles, read_bundle
from o4o_causal.results import Estimate

#: Minimum draws and tuning steps per chain of the pooling of country ATEs (3 groups).
POOLING_DRAWS = 4000
POOLING_TUNE = 2000


@dataclass(frozen=True, repr=False)
class CrossCountryResult:
    """Cross-country comparison from per-country bundles.

    Attributes
    ----------
    countries
        Country codes, in bundle order.
    spec
        The common analysis spec.
    ate
        Country DML ATEs (``estimate``, ``se``, interval, ``n``), their partially pooled
        values (``pooled_mean``, ``pooled_ci_low``, ``pooled_ci_high``) and a final row
        ``pooled (mu)`` with the pooled mean across countries.
    contrasts
        Pairwise country differences of the multilevel model's average effects.
    country_effects
        Multilevel average marginal effects by country.
    municipality_effects, gates
        The countries' exported municipality effects and group effects, stacked.
    cells_report
        Per country: persons, persons published, in cells with imputed covariates,
        suppressed, cells, municipalities standing alone, pool units, threshold.
    trajectory_shares
        Type shares by country with the matched common type.
    notes
        Tolerated differences between bundles and warnings raised while fitting.
    """

    countries: tuple[str, ...]
    spec: BundleSpec
    ate: pd.DataFrame
    contrasts: pd.DataFrame
    country_effects: pd.DataFrame
    municipality_effects: pd.DataFrame
    gates: pd.DataFrame
    cells_report: pd.DataFrame
    trajectory_shares: pd.DataFrame
    ame: Estimate | None
    sampler: dict[str, Any]
    notes: tuple[str, ...] = ()
    pooled: Any = field(default=None, repr=False)
    multilevel: Any = field(default=None, repr=False)

    def summary(self) -> pd.DataFrame:
        """One table: per-country and pooled effects from both models.

        Columns ``row, model, estimate, se, ci_low, ci_high`` (double ML: 95% confidence
        intervals; Bayesian: posterior sd and equal-tailed intervals).
        """
        rows = [
            (f"ATE {r['country']}", "double ML", r["estimate"], r["se"], r["ci_low"], r["ci_high"])
            for r in self.ate.to_dict("records")
            if r["country"] in self.countries
        ]
        if self.pooled is not None:
            mu = self.pooled.mu
            rows.append(
                ("ATE pooled (mu)", "random-effects pooling", mu["mean"], mu["sd"], mu["ci_low"], mu["ci_high"])
            )
        if self.ame is not None:
            a = self.ame
            rows.append(("AME all", "multilevel (cells)", a.value, a.se, a.ci_low, a.ci_high))
        for r in self.country_effects.to_dict("records"):
            rows.append((f"AME {r['group']}", "multilevel (cells)", r["mean"], r["sd"], r["ci_low"], r["ci_high"]))
        return pd.DataFrame(rows, columns=["row", "model", "estimate", "se", "ci_low", "ci_high"])

    def forest_estimates(self) -> dict[str, Estimate]:
        """Country ATEs and the pooled mean as :class:`Estimate` objects for ``plotting.forest``."""
        out = {}
        for r in self.ate.to_dict("records"):
            if r["country"] in self.countries:
                est, se, low, high = (float(r[k]) for k in ("estimate", "se", "ci_low", "ci_high"))
                out[f"{r['country']} (n={int(r['n']):,})"] = Estimate(est, se, low, high, n=int(r["n"]), method="DML")
        if self.pooled is not None:
            out["pooled (mu)"] = self.pooled.to_estimate()
        return out

    def __repr__(self) -> str:
        parts = [f"countries={list(self.countries)}"]
        if self.pooled is not None:
            mu = self.pooled.mu
            parts.append(f"pooled ATE {mu['mean']:.4f} [{mu['ci_low']:.4f}, {mu['ci_high']:.4f}]")
        if self.ame is not None:
            parts.append(f"multilevel AME {self.ame.value:.4f} [{self.ame.ci_low:.4f}, {self.ame.ci_high:.4f}]")
        persons = int(self.cells_report["persons_published"].sum()) if len(self.cells_report) else 0
        parts.append(f"{persons:,} persons in cells")
        return f"CrossCountryResult({', '.join(parts)})"


def _ate_table(bundles: list[Bundle], pooled: Any) -> pd.DataFrame:
    rows = []
    for b in bundles:
        est = b.tables["estimates"]
        row = est[est["estimand"] == "ATE"].iloc[0]
        rows.append({k: row[k] for k in ("country", "n", "estimate", "se", "ci_low", "ci_high")})
    table = pd.DataFrame(rows)
    if pooled is not None:
        theta = pooled.theta.set_index("group")
        table["pooled_mean"] = table["country"].map(theta["mean"])
        table["pooled_ci_low"] = table["country"].map(theta["ci_low"])
        table["pooled_ci_high"] = table["country"].map(theta["ci_high"])
        mu = pooled.mu
        table.loc[len(table)] = {
            "country": "pooled (mu)",
            "n": table["n"].sum(),
            "estimate": mu["mean"],
            "se": mu["sd"],
        }
        table.loc[len(table) - 1, ["ci_low", "ci_high"]] = [mu["ci_low"], mu["ci_high"]]
    return table


def _cells_report(bundles: list[Bundle]) -> pd.DataFrame:
    rows = []
    for b in bundles:
        info = b.manifest["analyses"].get("cells", {})
        if info.get("status") != "included":
            continue
        keep = {k: v for k, v in info.items() if k not in ("status", "files")}
        rows.append({"country": b.country, **keep, "threshold": b.manifest["threshold"]})
    return pd.DataFrame(rows)


def _trajectories(bundles: list[Bundle]) -> pd.DataFrame:
    from o4o_causal.trajectories import match_types

    have = [b for b in bundles if b.has("trajectory_shares")]
    if len(have) < 2:
        return pd.DataFrame()
    profiles = {b.country: b.tables["trajectory_profiles"] for b in have}
    reference = max(have, key=lambda b: int(b.tables["trajectory_shares"]["total"].iloc[0])).country
    matching = match_types(profiles, reference=reference).set_index(["country", "type"])
    shares = pd.concat([b.tables["trajectory_shares"] for b in have], ignore_index=True)
    key = pd.MultiIndex.from_frame(shares[["country", "type"]])
    shares.insert(1, "common_type", matching["common_type"].reindex(key).to_numpy())
    shares.insert(2, "common_label", matching["common_label"].reindex(key).to_numpy())
    shares.insert(3, "match_distance", matching["distance"].reindex(key).to_numpy())
    return shares


def qualify_clusters(cells: pd.DataFrame, spec: BundleSpec) -> pd.DataFrame:
    """Return ``cells`` with municipality ids that occur in several countries prefixed by the country.

    National municipality codes overlap (e.g. ``0128`` is Rakkestad in Norway's old
    numbering and Salem in Sweden); the multilevel model nests municipalities in
    countries, so a shared code would be refused as "a municipality in several countries".
    Ids unique to one country are left as they are.
    """
    ids = cells[spec.cluster].astype(str)
    spread = cells.groupby(ids)["country"].nunique()
    shared = ids.isin(spread.index[spread > 1])
    if not shared.any():
        return cells
    out = cells.copy()
    out[spec.cluster] = ids.where(~shared, cells["country"].astype(str) + ":" + ids)
    return out


def fit_persons(persons: pd.DataFrame, spec: BundleSpec, *, seed: int, **settings: Any) -> Any:
    """Fit the multilevel model of ``spec`` to persons (or pseudo-persons); the one model definition.

    ``settings`` go to :func:`o4o_causal.bayes.fit_multilevel` (draws, tune, chains, on_failure).
    """
    from o4o_causal.bayes import fit_multilevel

    return fit_multilevel(
        persons,
        outcome=spec.outcome,
        treatment=spec.treatment,
        covariates=list(spec.covariates),
        modifiers=list(spec.modifiers),
        levels=("country", spec.cluster),
        seed=seed,
        **settings,
    )


def fit_cells(
    cells: pd.DataFrame,
    spec: BundleSpec,
    *,
    draws: int | None,
    tune: int | None,
    chains: int | None,
    seed: int,
    on_failure: str,
) -> Any:
    """Fit the multilevel model of ``spec`` to pseudo-persons expanded from ``cells``."""
    persons = expand_cells(qualify_clusters(cells, spec), spec)
    return fit_persons(persons, spec, seed=seed, draws=draws, tune=tune, chains=chains, on_failure=on_failure)


def pool_bundles(
    paths: Sequence[str | os.PathLike[str]],
    *,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    seed: int = 0,
    on_failure: str = "raise",
    prior: Any = None,
    expected_digests: Mapping[str, str] | None = None,
) -> CrossCountryResult:
    """Validate country bundles and fit the cross-country models.

    Parameters
    ----------
    paths
        Bundle folders (one per country) written by :func:`build_bundle`.
    draws, tune, chains
        Sampler settings of both models (defaults :data:`o4o_causal.config.SAMPLER`).
    seed
        Sampler seed (the pooling model gets ``seed``, the multilevel model ``seed + 1``).
    on_failure
        Convergence gate: ``"raise"`` or ``"warn"``.
    prior
        :class:`~o4o_causal.bayes.PoolingPrior` of the ATE pooling (default: scales for
        risk differences, ``mu_sd=0.5, tau_scale=0.1``).
    expected_digests
        Country -> :func:`~o4o_causal.federation.validate.bundle_digest` recorded when
        each bundle was released. Without it the checksums catch corruption and hand
        edits, not an edit whose checksums were recomputed (they are not signatures).

    Returns
    -------
    CrossCountryResult

    Raises
    ------
    DataError
        A bundle is missing, tampered with (the file is named), malformed, or not the
        one released (``expected_digests``).
    SpecificationError
        Incompatible versions, a duplicate country, different specs, fewer than two
        bundles, or ``expected_digests`` without a bundle's country.
    """
    _validate.on_failure(on_failure)
    bundles = _read_all(paths, expected_digests)
    notes = check_bundles(bundles)
    sampler = {"draws": draws, "tune": tune, "chains": chains, "seed": seed, "on_failure": on_failure}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pooled, multilevel = _fit_models(bundles, sampler, prior)
    notes += [f"{type(w.message).__name__}: {w.message}" for w in caught]
    return _result(bundles, bundles[0].spec, pooled, multilevel, sampler, notes)


def _read_all(paths: Sequence[str | os.PathLike[str]], expected: Mapping[str, str] | None) -> list[Bundle]:
    if expected is None:
        return [read_bundle(p) for p in paths]
    bundles = []
    for p in paths:
        country = str(read_bundle(p).country)
        if country not in expected:
            raise SpecificationError(
                format_error(
                    what=f"expected_digests for {country} ({Path(p).name})",
                    expected="a release digest for every bundle",
                    found=f"digests for {sorted(expected)}",
                    fix="add the digest recorded when this bundle was released (bundle_digest)",
                )
            )
        bundles.append(read_bundle(p, expected_digest=expected[country]))
    return bundles


def _fit_models(bundles: list[Bundle], sampler: dict[str, Any], prior: Any) -> tuple[Any, Any]:
    """Fit the ATE pooling and the multilevel model on the cells (each only if every bundle has its input)."""
    from o4o_causal.bayes import PoolingPrior, pool_estimates

    settings = {k: sampler[k] for k in ("draws", "tune", "chains", "on_failure")}
    pooled = multilevel = None
    if all(b.has("ate") for b in bundles):
        # three estimates barely inform tau: the tails of mu and tau need long chains, which
        # this tiny model affords (seconds); 4x1000 draws failed the ESS/R-hat gate
        longer = {"draws": max(settings["draws"] or 0, POOLING_DRAWS), "tune": max(settings["tune"] or 0, POOLING_TUNE)}
        pooled = pool_estimates(
            _ate_table(bundles, None),
            estimate="estimate",
            se="se",
            group="country",
            prior=prior or PoolingPrior(mu_sd=0.5, tau_scale=0.1),
            seed=sampler["seed"],
            **(settings | longer),
        )
    if all(b.has("cells") for b in bundles):
        cells = pd.concat([b.tables["cells"] for b in bundles], ignore_index=True)
        multilevel = fit_cells(cells, bundles[0].spec, seed=sampler["seed"] + 1, **settings)
    return pooled, multilevel


def _result(
    bundles: list[Bundle], spec: BundleSpec, pooled: Any, multilevel: Any, sampler: dict[str, Any], notes: list[str]
) -> CrossCountryResult:
    def stack(name: str) -> pd.DataFrame:
        frames = [b.tables[name] for b in bundles if name in b.tables]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    estimates = stack("estimates")
    gates = estimates[estimates["estimand"] == "GATE"].reset_index(drop=True) if len(estimates) else estimates
    return CrossCountryResult(
        countries=tuple(b.country for b in bundles),
        spec=spec,
        ate=_ate_table(bundles, pooled) if pooled is not None else pd.DataFrame(),
        contrasts=multilevel.country_contrasts() if multilevel is not None else pd.DataFrame(),
        country_effects=multilevel.group_effects("country") if multilevel is not None else pd.DataFrame(),
        municipality_effects=stack("municipality_effects"),
        gates=gates,
        cells_report=_cells_report(bundles),
        trajectory_shares=_trajectories(bundles),
        ame=multilevel.ame() if multilevel is not None else None,
        sampler=sampler,
        notes=tuple(notes),
        pooled=pooled,
        multilevel=multilevel,
    )


__all__ = ["CrossCountryResult", "fit_cells", "pool_bundles", "qualify_clusters"]

"""The same typology pipeline per country, compared through aggregates only.

Register microdata cannot be pooled across NO/SE/DK. :func:`typology_by_country` runs
:func:`~o4o_causal.trajectories.typologies` separately on each country's sequences (costs,
e.g. transition rates, estimated within country) and matches types across countries by
their *aggregate* profiles (:meth:`TypologyResult.profiles`: share of person-months in
each state and end-state shares), so the same matching works when each country exports
only its profile table from its own secure environment (:func:`match_types`).

Matching: every country's types are assigned one-to-one to the reference country's
types by minimising the summed L1 distance between profiles (Hungarian algorithm); the
common type takes the reference type's label. A country with fewer types leaves
reference types unmatched, a country with more types has types without a common type
(``common_type`` missing); ``distance`` shows how close each match is (0 = identical
profiles, 4 = disjoint).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from o4o_causal import config
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.trajectories.seqdata import Sequences, require_covariate
from o4o_causal.trajectories.typologies import TypologyResult, typology


def _profile_matrix(profile: pd.DataFrame, columns: list[str]) -> np.ndarray:
    return profile.reindex(columns=columns).fillna(0.0).to_numpy(dtype=float)


def match_types(profiles: Mapping[str, pd.DataFrame], *, reference: str) -> pd.DataFrame:
    """Match types of several countries to the reference country's types by profile.

    Parameters
    ----------
    profiles
        Country -> :meth:`TypologyResult.profiles` table (aggregates; may come from
        separate secure environments).
    reference
        Country whose types define the common types.

    Returns
    -------
    DataFrame
        ``country``, ``type``, ``label``, ``n``, ``common_type`` (``Int64``; missing for
        an unmatched type), ``common_label``, ``distance`` (L1 between profiles).
    """
    if reference not in profiles:
        raise SpecificationError(
            format_error(
                what="reference", expected=f"one of {sorted(profiles)}", found=repr(reference), fix="choose a country"
            )
        )
    columns = sorted({c for p in profiles.values() for c in p.columns if c.startswith(("time:", "end:"))})
    ref = profiles[reference]
    ref_x = _profile_matrix(ref, columns)
    rows = []
    for country, prof in profiles.items():
        x = _profile_matrix(prof, columns)
        cost = np.abs(x[:, None, :] - ref_x[None, :, :]).sum(axis=2)
        r, c = linear_sum_assignment(cost)
        assigned = dict(zip(r.tolist(), c.tolist(), strict=True))
        for i in range(len(prof)):
            j = assigned.get(i)
            rows.append(
                {
                    "country": country,
                    "type": int(prof["type"].iloc[i]),
                    "label": prof["label"].iloc[i],
                    "n": prof["n"].iloc[i],
                    "common_type": int(ref["type"].iloc[j]) if j is not None else None,
                    "common_label": ref["label"].iloc[j] if j is not None else None,
                    "distance": float(cost[i, j]) if j is not None else np.nan,
                }
            )
    table = pd.DataFrame(rows)
    table["n"] = table["n"].astype("Int64")
    table["common_type"] = table["common_type"].astype("Int64")
    return table


@dataclass(frozen=True, eq=False)
class CountryTypologies:
    """Per-country typologies and their matching to common types."""

    results: Mapping[str, TypologyResult]
    matching: pd.DataFrame
    reference: str

    def shares(self, *, cluster: str | None = None, ci_level: float = config.CI_LEVEL) -> pd.DataFrame:
        """Type shares with CIs per country, with each type's common (reference) type."""
        frames = []
        for country, res in self.results.items():
            table = res.shares(cluster=cluster, ci_level=ci_level).assign(country=country)
            match = self.matching[self.matching["country"] == country].set_index("type")
            table["common_type"] = table["type"].map(match["common_type"]).astype("Int64")
            table["common_label"] = table["type"].map(match["common_label"])
            frames.append(table)
        out = pd.concat(frames, ignore_index=True)
        return out[
            [
                "country",
                "common_type",
                "common_label",
                *[c for c in out.columns if c not in ("country", "common_type", "common_label")],
            ]
        ]

    def quality(self) -> pd.DataFrame:
        """Cluster quality of each country's typology (one row per country)."""
        return pd.DataFrame({c: r.quality for c, r in self.results.items()}).T.rename_axis("country")


def typology_by_country(
    sequences: Sequences,
    *,
    k: int | Mapping[str, int],
    country_column: str = "country",
    reference: str | None = None,
    **options: Any,
) -> CountryTypologies:
    """Run :func:`typology` separately per country and match the types across countries.

    Parameters
    ----------
    sequences
        Sequences with a country covariate (each country is clustered alone; in a
        real federated setting run :func:`typology` in each country and call
        :func:`match_types` on the exported profiles).
    k
        Number of types (or one per country).
    country_column
        Covariate naming the country.
    reference
        Country defining the common types (default: the largest).
    **options
        Passed to :func:`typology` (``method``, ``seed``, ``distance_options``, ...).
    """
    require_covariate(sequences, country_column)
    parts = dict(sequences.groups(country_column))
    if not parts:
        raise DataError(
            format_error(what=f"column {country_column!r}", expected="countries", found="none", fix="check the data")
        )
    results = {str(c): typology(s, k=k[str(c)] if isinstance(k, Mapping) else k, **options) for c, s in parts.items()}
    ref = reference if reference is not None else max(results, key=lambda c: results[c].labels.size)
    matching = match_types({c: r.profiles() for c, r in results.items()}, reference=ref)
    return CountryTypologies(results, matching, ref)


__all__ = ["CountryTypologies", "match_types", "typology_by_country"]

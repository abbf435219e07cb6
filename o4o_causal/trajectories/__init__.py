"""Sequence analysis of monthly register trajectories (e.g. young WAA recipients, 48 months).

* :func:`sequences` -> :class:`Sequences` (recoding, gap filling, censoring; microdata).
* Descriptives (aggregates, disclosure-aware): :func:`state_distribution`,
  :func:`transition_rates`, :func:`mean_time`, :func:`entropy_by_month`,
  :func:`indicator_summary` (turbulence, longitudinal entropy), :func:`frequent_sequences`,
  :func:`modal_sequence`, :func:`share_throughout` (the "> half on WAA all four years"
  headline with a CI).
* :func:`om_distances` -> :class:`Distances` (OM with TRATE/CONSTANT/user costs,
  OMspell, DHD; identical sequences collapsed with weights; sequenzo for the heavy part,
  validated in the tests against independent dynamic programmes).
* :func:`typology` -> :class:`TypologyResult` (weighted Ward, PAM, CLARA; automatic
  names; shares with CIs, shares by group, multinomial-logit association with
  municipality-clustered SEs), :func:`quality` over a range of ``k``.
* :func:`typology_by_country` / :func:`match_types`: the same pipeline per country,
  types matched by aggregate profiles (no pooled microdata).

Figures: :mod:`o4o_causal.plotting.trajectories` (no index plots of persons).
Recommended for the WAA typology (measured on the synthetic world): ``recode=
MERGE_MEASURES``, ``method="OMspell"`` distances and Ward (see the package report in
the test module docstring).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from o4o_causal._lazy import lazy_getattr

if TYPE_CHECKING:
    from o4o_causal.trajectories.alphabet import ALPHABET, CENSORED, MERGE_MEASURES, STATE_COLOURS, STATE_LABELS
    from o4o_causal.trajectories.countries import CountryTypologies, match_types, typology_by_country
    from o4o_causal.trajectories.describe import (
        entropy_by_month,
        frequent_sequences,
        indicator_summary,
        indicators,
        mean_time,
        modal_sequence,
        share_throughout,
        state_distribution,
        transition_rates,
    )
    from o4o_causal.trajectories.distances import Distances, DistanceSpec, om_distances
    from o4o_causal.trajectories.seqdata import BuildReport, Sequences, sequences
    from o4o_causal.trajectories.typologies import TypologyResult, quality, typology

_LAZY = {
    "ALPHABET": "o4o_causal.trajectories.alphabet",
    "CENSORED": "o4o_causal.trajectories.alphabet",
    "MERGE_MEASURES": "o4o_causal.trajectories.alphabet",
    "STATE_COLOURS": "o4o_causal.trajectories.alphabet",
    "STATE_LABELS": "o4o_causal.trajectories.alphabet",
    "CountryTypologies": "o4o_causal.trajectories.countries",
    "match_types": "o4o_causal.trajectories.countries",
    "typology_by_country": "o4o_causal.trajectories.countries",
    "entropy_by_month": "o4o_causal.trajectories.describe",
    "frequent_sequences": "o4o_causal.trajectories.describe",
    "indicator_summary": "o4o_causal.trajectories.describe",
    "indicators": "o4o_causal.trajectories.describe",
    "mean_time": "o4o_causal.trajectories.describe",
    "modal_sequence": "o4o_causal.trajectories.describe",
    "share_throughout": "o4o_causal.trajectories.describe",
    "state_distribution": "o4o_causal.trajectories.describe",
    "transition_rates": "o4o_causal.trajectories.describe",
    "DistanceSpec": "o4o_causal.trajectories.distances",
    "Distances": "o4o_causal.trajectories.distances",
    "om_distances": "o4o_causal.trajectories.distances",
    "BuildReport": "o4o_causal.trajectories.seqdata",
    "Sequences": "o4o_causal.trajectories.seqdata",
    "sequences": "o4o_causal.trajectories.seqdata",
    "TypologyResult": "o4o_causal.trajectories.typologies",
    "quality": "o4o_causal.trajectories.typologies",
    "typology": "o4o_causal.trajectories.typologies",
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = [
    "ALPHABET",
    "CENSORED",
    "MERGE_MEASURES",
    "STATE_COLOURS",
    "STATE_LABELS",
    "BuildReport",
    "CountryTypologies",
    "DistanceSpec",
    "Distances",
    "Sequences",
    "TypologyResult",
    "entropy_by_month",
    "frequent_sequences",
    "indicator_summary",
    "indicators",
    "match_types",
    "mean_time",
    "modal_sequence",
    "om_distances",
    "quality",
    "sequences",
    "share_throughout",
    "state_distribution",
    "transition_rates",
    "typology",
    "typology_by_country",
]

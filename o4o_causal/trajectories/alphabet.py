"""The state alphabet of trajectories: harmonised register states plus a censoring symbol.

The alphabet is :data:`o4o_causal.registers.formats.STATES` (priority order, which is
also the drawing order of every chronogram) followed, when censored months are kept as
a state, by :data:`CENSORED`. Labels come from ``formats.STATE_LABELS``; colours from
:data:`o4o_causal.registers.formats.STATE_COLOURS` (work green, WAA blue, health purple,
social assistance orange, job seeking yellow, education teal), so a state has the same
colour in every figure of the suite. ``CENSORED`` (after death or emigration, or after
an unobserved stretch longer than ``max_gap``) is drawn white, as TraMineR draws
missing months.
"""

from __future__ import annotations

from typing import Final

from o4o_causal.registers import formats

#: Symbol of censored months (after death/emigration or a long unobserved gap).
CENSORED: Final[str] = "CENSORED"
#: The default alphabet: the ten harmonised states in priority order.
ALPHABET: Final[tuple[str, ...]] = tuple(formats.STATES)
#: Human-readable label of every state (harmonised states and ``CENSORED``).
STATE_LABELS: Final[dict[str, str]] = {**formats.STATE_LABELS, CENSORED: "censored (exit or long gap)"}
#: Colour of every state: ``formats.STATE_COLOURS`` (as in every figure of the suite), white for ``CENSORED``.
STATE_COLOURS: Final[dict[str, str]] = {**formats.STATE_COLOURS, CENSORED: "#ffffff"}
#: Recoding that merges WAA with and without a labour-market measure (the published
#: typology's "on WAA, with or without measures"); pass it as ``recode=``.
MERGE_MEASURES: Final[dict[str, str]] = {"WAA_M": "WAA"}


def state_label(state: str) -> str:
    """Return the label of ``state`` (the state itself when it has none)."""
    return STATE_LABELS.get(state, state)


def state_colour(state: str) -> str:
    """Return the colour of ``state`` (grey for states outside the suite's alphabet)."""
    return STATE_COLOURS.get(state, "#969696")


__all__ = ["ALPHABET", "CENSORED", "MERGE_MEASURES", "STATE_COLOURS", "STATE_LABELS", "state_colour", "state_label"]

"""Disclosure-aware descriptive tables of register data (synthetic or real).

Every function returns aggregates only (shares and counts of groups), never rows of
individuals. Counts below ``min_count`` are suppressed (set to missing) -- the full
disclosure checks live in :mod:`o4o_causal.sdc`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from o4o_causal import _validate, config
from o4o_causal.exceptions import DataError, format_error
from o4o_causal.registers import formats

#: Integration conditions plus the country-specific organisational features.
CONDITIONS: tuple[str, ...] = (*formats.INTEGRATION_CONDITIONS, "coordination_association", "rehabilitation_team")


def configuration_shares(municipalities: pd.DataFrame) -> pd.DataFrame:
    """Share of municipalities with each service-integration condition, by country.

    Returns
    -------
    DataFrame
        Index: condition; columns: countries (shares 0..1); row ``municipalities``
        holds the number of municipalities.
    """
    _validate.require_columns(municipalities, ["country", *CONDITIONS], "municipalities")
    shares = municipalities.groupby("country")[list(CONDITIONS)].mean().T
    shares.loc["municipalities"] = municipalities.groupby("country").size()
    return shares[[c for c in formats.COUNTRIES if c in shares.columns]]


def cohort_sizes(persons: pd.DataFrame, *, min_count: int = config.DISCLOSURE.threshold) -> pd.DataFrame:
    """Count persons per cohort and country (counts below ``min_count`` suppressed)."""
    _validate.require_columns(persons, ["cohort", "country"], "persons")
    table = persons.groupby(["cohort", "country"]).size().unstack("country")
    table = table[[c for c in formats.COUNTRIES if c in table.columns]]
    return table.where(table >= min_count).astype("Int64")


def state_distribution(
    sequences: pd.DataFrame, *, month_columns: list[str] | None = None, min_count: int = config.DISCLOSURE.threshold
) -> pd.DataFrame:
    """Share of persons in each state by month (a chronogram's data), censored rows excluded.

    Parameters
    ----------
    sequences
        One row per person, one column per month holding state codes (e.g. the ``waa``
        cohort frame's ``m01..m48``); missing = not observed.
    month_columns
        The month columns (default: columns named ``m`` followed by digits).
    min_count
        Months observed for fewer persons are dropped.

    Returns
    -------
    DataFrame
        Index: month number (1..); columns: states in ``formats.STATES`` order; values:
        shares summing to 1 per month; column ``n`` = persons observed.
    """
    cols = month_columns or [c for c in sequences.columns if c[:1] == "m" and c[1:].isdigit()]
    if not cols:
        raise DataError(
            format_error(
                what="sequences",
                expected="month columns such as m01, m02, ...",
                found=f"columns {list(sequences.columns)[:8]}",
                fix="pass month_columns=[...]",
            )
        )
    long = sequences[cols].melt(var_name="month", value_name="state").dropna()
    counts = long.groupby(["month", "state"]).size().unstack("state", fill_value=0)
    counts = counts.reindex(columns=[s for s in formats.STATES if s in counts.columns])
    n = counts.sum(axis=1)
    shares = counts.div(n, axis=0)
    shares["n"] = n
    shares.index = np.array([int(c[1:]) for c in shares.index])
    return shares.sort_index().loc[lambda d: d["n"] >= min_count]

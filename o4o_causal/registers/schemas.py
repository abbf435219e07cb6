"""Pandera schemas of every frame a :class:`~o4o_causal.registers.RegisterStore` returns.

Column names, order and dtypes follow :mod:`o4o_causal.registers.formats` (store
tables) and the cohort-frame definitions of :mod:`o4o_causal.registers.cohorts`. The
``*_COLUMNS`` dictionaries (name -> dtype) are the documented frame layouts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandera.pandas as pa

from o4o_causal.registers import formats

_DTYPES: dict[str, Any] = {
    "str": str,
    "int": "int64",
    "int64": "int64",
    "float": "float64",
    "float64": "float64",
    "datetime64[ns]": "datetime64[ns]",
    "object": object,
}

#: Municipality columns joined onto the core frame (contextual covariates).
CORE_MUNICIPALITY_COLUMNS: dict[str, str] = {
    c: ("int64" if d == "int" else "float64")
    for c, d in formats.MUNICIPALITY_COLUMNS.items()
    if c not in ("municipality_id", "country", "code", "name", "asss_city")
}

#: ``cohort("core")``: one row per core person with complete 24-month follow-up.
CORE_COLUMNS: dict[str, str] = {
    "person_id": "str",
    "country": "str",
    "municipality_id": "str",
    "age": "int64",
    "female": "int64",
    "nonwestern": "int64",
    "immigrant": "int64",
    "children": "int64",
    "low_education": "int64",
    "health_problem": "int64",
    "prior_employment": "int64",
    "weak_attachment": "int64",
    "treated": "int64",
    "employed_24": "int64",
    "months_employed_24": "int64",
    "earnings_24": "float64",
    **CORE_MUNICIPALITY_COLUMNS,
}

#: Number of monthly state columns of the WAA frame (m01 = index month).
WAA_MONTHS = 48
WAA_STATE_COLUMNS: tuple[str, ...] = tuple(f"m{k + 1:02d}" for k in range(WAA_MONTHS))

#: ``cohort("waa")``: one row per WAA person, states m01..m48 from the index month.
WAA_COLUMNS: dict[str, str] = {
    "person_id": "str",
    "country": "str",
    "municipality_id": "str",
    "age": "int64",
    "female": "int64",
    "nonwestern": "int64",
    "health_problem": "int64",
    "low_education": "int64",
    **dict.fromkeys(WAA_STATE_COLUMNS, "object"),
}

#: ``cohort("social_assistance")``: one row per person-month.
SOCIAL_ASSISTANCE_COLUMNS: dict[str, str] = {
    "person_id": "str",
    "municipality_id": "str",
    "city": "str",
    "month": "datetime64[ns]",
    "year": "int64",
    "on_sa": "int64",
    "employed": "int64",
    "earnings": "float64",
    "female": "int64",
    "age": "int64",
    "nonwestern": "int64",
    "children": "int64",
    "bergen": "int64",
    "post": "int64",
}

#: ``cohort("neet")``: one row per person-year (November state).
NEET_COLUMNS: dict[str, str] = {
    "person_id": "str",
    "country": "str",
    "municipality_id": "str",
    "year": "int64",
    "age": "int64",
    "female": "int64",
    "nonwestern": "int64",
    "low_education": "int64",
    "health_problem": "int64",
    "neet": "int64",
}

_BINARY_NAMES = frozenset(
    {
        "female",
        "nonwestern",
        "immigrant",
        "children",
        "low_education",
        "health_problem",
        "weak_attachment",
        "treated",
        "employed_24",
        "on_sa",
        "employed",
        "bergen",
        "post",
        "neet",
    }
)


def _schema(
    columns: Mapping[str, str],
    *,
    checks: Mapping[str, pa.Check] | None = None,
    nullable: Iterable[str] = (),
    unique: list[str] | None = None,
    name: str,
) -> pa.DataFrameSchema:
    extra = dict(checks or {})
    nulls = set(nullable)
    cols = {}
    for col, dtype in columns.items():
        check = extra.get(col) or (pa.Check.isin([0, 1]) if col in _BINARY_NAMES else None)
        cols[col] = pa.Column(_DTYPES[dtype], checks=check, nullable=col in nulls)
    return pa.DataFrameSchema(cols, strict=True, ordered=True, unique=unique, name=name)


_COUNTRY = pa.Check.isin(list(formats.COUNTRIES))
_STATE = pa.Check.isin(list(formats.STATES))

PERSONS = _schema(
    formats.PERSONS_COLUMNS,
    checks={
        "country": _COUNTRY,
        "cohort": pa.Check.isin(list(formats.COHORTS)),
        "background": pa.Check.isin(["native", "western", "nonwestern"]),
        "education": pa.Check.isin(["low", "medium", "high"]),
        "n_children": pa.Check.ge(0),
    },
    nullable=("exit_month", "followup_month"),
    unique=["person_id"],
    name="persons",
)
PANEL = _schema(formats.PANEL_COLUMNS, checks={"state": _STATE}, name="panel")
MUNICIPALITIES = _schema(
    formats.MUNICIPALITY_COLUMNS,
    checks={"country": _COUNTRY, "asss_city": pa.Check.isin([0, 1])},
    unique=["municipality_id"],
    name="municipalities",
)
CORE = _schema(
    CORE_COLUMNS,
    checks={
        "country": _COUNTRY,
        "prior_employment": pa.Check.in_range(0, 12),
        "months_employed_24": pa.Check.in_range(0, 24),
    },
    unique=["person_id"],
    name="cohort core",
)
WAA = _schema(
    WAA_COLUMNS,
    checks={"country": _COUNTRY, **dict.fromkeys(WAA_STATE_COLUMNS, _STATE)},
    nullable=WAA_STATE_COLUMNS,
    unique=["person_id"],
    name="cohort waa",
)
SOCIAL_ASSISTANCE = _schema(SOCIAL_ASSISTANCE_COLUMNS, name="cohort social_assistance")
NEET = _schema(NEET_COLUMNS, checks={"country": _COUNTRY}, name="cohort neet")

#: Schema of each cohort frame, by cohort name.
COHORT_SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "core": CORE,
    "waa": WAA,
    "social_assistance": SOCIAL_ASSISTANCE,
    "neet": NEET,
}

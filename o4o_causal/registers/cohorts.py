"""Analysis frames per cohort, computed in DuckDB from the store tables.

Definitions (months are offsets ``k`` from the person's ``index_month``). "Employed" in a
month means earnings > 0 that month, the employment rule of
:mod:`~o4o_causal.registers.formats` ("employed in a month with earnings > 0"), whether
or not a benefit state outranks employment in the harmonised ``state``: a person on WAA
with earnings is employed here but has state WAA in the panel. (The synthetic world
plants its employment outcomes and its prior-employment confounder the same way.)

``core``
    One row per person of cohort ``core`` whose follow-up is complete (``exit_month``
    is NaT or later than index + 24 months); the number excluded is kept in
    ``frame.attrs["excluded_incomplete"]``. ``age`` = year of index month - birth year;
    ``nonwestern``, ``immigrant`` (background not native), ``children`` (any child),
    ``low_education``; ``prior_employment`` = employed months at k = -12..-1,
    ``weak_attachment`` = prior_employment <= 3; ``treated`` = follow-up month at
    k = 0..2; ``employed_24`` = employed at k = 24; ``months_employed_24`` = employed
    months at k = 1..24; ``earnings_24`` = earnings summed over k = 1..24; then the
    municipality covariates (:data:`~o4o_causal.registers.schemas.CORE_MUNICIPALITY_COLUMNS`).
``waa``
    One row per person of cohort ``waa``; ``m01`` .. ``m48`` = state at k = 0 .. 47
    (None where the panel has no row: after exit or outside the window).
``social_assistance``
    One row per panel month of the cohort's persons: ``on_sa`` (state SA), ``employed``
    (earnings > 0), ``age`` = year(month) - birth year, ``bergen`` (municipality
    NO-4601), ``post`` (month >= 2020-01).
``neet``
    One row per person and year whose November is in the panel; ``neet`` = November
    state not in EMP, EMP_LOW, EDU.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd

from o4o_causal.registers.readers import one_row
from o4o_causal.registers.schemas import CORE_MUNICIPALITY_COLUMNS, WAA_STATE_COLUMNS

#: Municipality of the Bergen social-assistance study and the start of its post period.
BERGEN_MUNICIPALITY_ID = "NO-4601"
SA_POST_START = "2020-01-01"
#: Follow-up horizon (months), prior-employment look-back and treatment window.
HORIZON = 24
LOOKBACK = 12
TREATMENT_WINDOW = 2
WEAK_ATTACHMENT_MAX = 3

#: SQL condition on a panel row ``x``: employed that month (earnings > 0).
EMPLOYED_SQL = "x.earnings > 0"
_NOT_NEET = ", ".join(f"'{s}'" for s in ("EMP", "EMP_LOW", "EDU"))
_FLAGS = """CAST(p.female AS BIGINT) AS female,
    CAST(p.background = 'nonwestern' AS BIGINT) AS nonwestern"""


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    """Run ``sql`` and return a DataFrame with datetime columns as ``datetime64[ns]``."""
    frame = con.execute(sql, params or []).df()
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]) and frame[col].dtype != "datetime64[ns]":
            frame[col] = frame[col].astype("datetime64[ns]")
    return frame


def _core_sql() -> str:
    munis = ", ".join(f"m.{c}" for c in CORE_MUNICIPALITY_COLUMNS)
    return f"""
    WITH c AS (
        SELECT * FROM persons
        WHERE cohort = 'core' AND (exit_month IS NULL OR date_diff('month', index_month, exit_month) > {HORIZON})),
    pan AS (
        SELECT c.person_id, date_diff('month', c.index_month, x.month) AS k, {EMPLOYED_SQL} AS emp,
            x.earnings
        FROM c JOIN panel AS x ON x.person_id = c.person_id
        WHERE date_diff('month', c.index_month, x.month) BETWEEN -{LOOKBACK} AND {HORIZON}),
    agg AS (
        SELECT person_id,
            count(*) FILTER (WHERE k < 0 AND emp) AS prior_employment,
            count(*) FILTER (WHERE k = {HORIZON} AND emp) AS employed_24,
            count(*) FILTER (WHERE k > 0 AND emp) AS months_employed_24,
            sum(earnings) FILTER (WHERE k > 0) AS earnings_24
        FROM pan GROUP BY person_id)
    SELECT c.person_id, c.country, c.municipality_id,
        CAST(year(c.index_month) - c.birth_year AS BIGINT) AS age, CAST(c.female AS BIGINT) AS female,
        CAST(c.background = 'nonwestern' AS BIGINT) AS nonwestern,
        CAST(c.background <> 'native' AS BIGINT) AS immigrant, CAST(c.n_children > 0 AS BIGINT) AS children,
        CAST(c.education = 'low' AS BIGINT) AS low_education, CAST(c.health_problem AS BIGINT) AS health_problem,
        CAST(coalesce(a.prior_employment, 0) AS BIGINT) AS prior_employment,
        CAST(coalesce(a.prior_employment, 0) <= {WEAK_ATTACHMENT_MAX} AS BIGINT) AS weak_attachment,
        CAST(coalesce(date_diff('month', c.index_month, c.followup_month) BETWEEN 0 AND {TREATMENT_WINDOW}, false)
            AS BIGINT) AS treated,
        CAST(coalesce(a.employed_24, 0) AS BIGINT) AS employed_24,
        CAST(coalesce(a.months_employed_24, 0) AS BIGINT) AS months_employed_24,
        CAST(coalesce(a.earnings_24, 0.0) AS DOUBLE) AS earnings_24, {munis}
    FROM c LEFT JOIN agg AS a USING (person_id) JOIN municipalities AS m ON m.municipality_id = c.municipality_id
    ORDER BY c.person_id"""


def _waa_sql() -> str:
    months = ", ".join(f"first(x.state) FILTER (WHERE x.k = {k}) AS {c}" for k, c in enumerate(WAA_STATE_COLUMNS))
    return f"""
    WITH p AS (SELECT * FROM persons WHERE cohort = 'waa'),
    x AS (
        SELECT p.person_id, date_diff('month', p.index_month, pa.month) AS k, pa.state
        FROM p JOIN panel AS pa ON pa.person_id = p.person_id
        WHERE date_diff('month', p.index_month, pa.month) BETWEEN 0 AND {len(WAA_STATE_COLUMNS) - 1}),
    wide AS (SELECT x.person_id, {months} FROM x GROUP BY x.person_id)
    SELECT p.person_id, p.country, p.municipality_id,
        CAST(year(p.index_month) - p.birth_year AS BIGINT) AS age, {_FLAGS},
        CAST(p.health_problem AS BIGINT) AS health_problem, CAST(p.education = 'low' AS BIGINT) AS low_education,
        {", ".join(f"w.{c}" for c in WAA_STATE_COLUMNS)}
    FROM p LEFT JOIN wide AS w USING (person_id)
    ORDER BY p.person_id"""


def _social_assistance_sql() -> str:
    return f"""
    SELECT p.person_id, p.municipality_id, m.name AS city, x.month, CAST(year(x.month) AS BIGINT) AS year,
        CAST(x.state = 'SA' AS BIGINT) AS on_sa, CAST({EMPLOYED_SQL} AS BIGINT) AS employed, x.earnings,
        CAST(p.female AS BIGINT) AS female, CAST(year(x.month) - p.birth_year AS BIGINT) AS age,
        CAST(p.background = 'nonwestern' AS BIGINT) AS nonwestern, CAST(p.n_children > 0 AS BIGINT) AS children,
        CAST(p.municipality_id = '{BERGEN_MUNICIPALITY_ID}' AS BIGINT) AS bergen,
        CAST(x.month >= DATE '{SA_POST_START}' AS BIGINT) AS post
    FROM persons AS p JOIN panel AS x ON x.person_id = p.person_id
    JOIN municipalities AS m ON m.municipality_id = p.municipality_id
    WHERE p.cohort = 'social_assistance'
    ORDER BY p.person_id, x.month"""


def _neet_sql() -> str:
    return f"""
    SELECT p.person_id, p.country, p.municipality_id, CAST(year(x.month) AS BIGINT) AS year,
        CAST(year(x.month) - p.birth_year AS BIGINT) AS age, {_FLAGS},
        CAST(p.education = 'low' AS BIGINT) AS low_education, CAST(p.health_problem AS BIGINT) AS health_problem,
        CAST(x.state NOT IN ({_NOT_NEET}) AS BIGINT) AS neet
    FROM persons AS p JOIN panel AS x ON x.person_id = p.person_id
    WHERE p.cohort = 'neet' AND month(x.month) = 11
    ORDER BY p.person_id, x.month"""


def cohort_frame(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """Return the (unvalidated) frame of cohort ``name`` (one of ``formats.COHORTS``)."""
    builders = {
        "core": _core_sql,
        "waa": _waa_sql,
        "social_assistance": _social_assistance_sql,
        "neet": _neet_sql,
    }
    frame = fetch(con, builders[name]())
    if name == "core":
        (excluded,) = one_row(
            con,
            "SELECT count(*) FROM persons WHERE cohort = 'core' AND exit_month IS NOT NULL "
            f"AND date_diff('month', index_month, exit_month) <= {HORIZON}",
        )
        frame.attrs["excluded_incomplete"] = int(excluded)
    return frame

"""Harmonisation of validated staging tables into the store tables, in DuckDB SQL.

Rules (the contract is :mod:`o4o_causal.registers.formats`; every rule runs as SQL):

Identifiers
    ``person_id = "<country>:<native id>"``, ``municipality_id = "<country>-<code>"``.
    Months are first days of month; internally months are indices ``year * 12 + month - 1``.
Persons (one row per population person)
    Cohort, index month and window come from ``population`` (``YYYYMM`` -> first day).
    NO/DK attributes come from ``persons``; SE attributes from the LISA row of the
    person's index year (annual -> monthly: LISA values of year y apply to the months
    of year y, so the baseline is the index year). ``female``: NO/SE sex code 2, DK
    ``"K"``. ``background``: 1/2/3 -> native/western/nonwestern. ``education``: level
    <= low_max -> low, <= medium_max -> medium, else high (``formats.EDUCATION_BANDS``).
    ``exit_month``: month containing the exit date (NO/DK ``utgang_dato``/``udgang_dato``,
    SE the earliest ``events`` date). ``followup_month``: month of the person's
    earliest follow-up date.
Spells -> months (NO, SE)
    A spell covers month m iff ``start_date <= day 15 of m <= end_date``
    (``formats.REFERENCE_DAY``); an empty end date means the spell is still open (it
    runs to the end of the study window). Codes map through ``NO_CODES``/``SE_CODES``.
    The measure code (NO ``TILTAK``, SE ``PROG``) in a month also covered by the WAA
    code (``AAP``/``AKE``) gives ``WAA_M``; a measure alone maps to ``JOBSEEK``.
Weeks -> months (DK)
    An ISO week belongs to the month containing its Thursday. The month's benefit state
    is the code held in most of the month's weeks (the month's Thursdays), weeks
    without a code counting as "no benefit". A tie between a code and no benefit goes to
    the code; a tie between codes to the higher-priority state.
Earnings -> employment
    Employed in a month with earnings > 0: ``EMP_LOW`` when earnings are below
    ``formats.LOW_PAY_THRESHOLD[country]``, else ``EMP``.
Priority and panel
    A person-month's state is the highest-priority state (earliest in
    ``formats.STATES``) among its benefit states and its employment state; ``INACTIVE``
    when there is none. The panel has one row per month from ``window_start`` to
    ``window_end``, ending with the month before ``exit_month``; ``earnings`` is the
    month's earnings, 0.0 when none.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from o4o_causal.registers import formats
from o4o_causal.registers.validate import STUDY_LAST_DAY

#: Version of the harmonisation rules; a store built under other rules is stale.
RULES_VERSION = "1"
#: Catalog name of the store being written (staging tables live in the default catalog).
STORE = "store"
#: Panel rows written per statement (bounds the memory of the panel's joins and sort).
PANEL_CHUNK_ROWS = 4_000_000

_PRIO = {s: i for i, s in enumerate(formats.STATES)}
_BACKGROUND = (
    "CASE x.background "
    + " ".join(f"WHEN {code} THEN '{label}'" for code, label in formats.BACKGROUND_CODES.items())
    + " END"
)


def mi_date(expr: str) -> str:
    """Return the SQL month index of a DATE expression."""
    return f"(year({expr}) * 12 + month({expr}) - 1)"


def mi_yyyymm(expr: str) -> str:
    """Return the SQL month index of a ``YYYYMM`` integer expression."""
    return f"(({expr}) // 100 * 12 + ({expr}) % 100 - 1)"


def date_mi(expr: str) -> str:
    """Return the SQL first day of month of a month-index expression."""
    return f"make_date(CAST(({expr}) // 12 AS INTEGER), CAST(({expr}) % 12 + 1 AS INTEGER), 1)"


def yyyymm_date(expr: str) -> str:
    """Return the SQL first day of month of a ``YYYYMM`` integer expression."""
    return f"make_date(CAST(({expr}) // 100 AS INTEGER), CAST(({expr}) % 100 AS INTEGER), 1)"


def create_lookups(con: duckdb.DuckDBPyConnection) -> None:
    """Create the benefit code table ``codes(country, code, prio)``."""
    con.execute("CREATE TABLE codes (country VARCHAR, code VARCHAR, prio INTEGER)")
    maps: dict[str, dict[str, str]] = {
        "NO": formats.NO_CODES,
        "SE": formats.SE_CODES,
        "DK": {str(k): v for k, v in formats.DK_CODES.items()},
    }
    rows = [(c, code, _PRIO[state]) for c, m in maps.items() for code, state in m.items()]
    con.executemany("INSERT INTO codes VALUES (?, ?, ?)", rows)


def build_population(con: duckdb.DuckDBPyConnection, countries: Sequence[str]) -> None:
    """Create ``pop_all`` (pk ordered by person_id) and per-country key tables ``k_<C>``."""
    parts = [
        f"SELECT '{c}' AS country, CAST(person AS VARCHAR) AS nid, "
        f"'{c}{formats.PERSON_ID_SEPARATOR}' || CAST(person AS VARCHAR) AS person_id, cohort, "
        f"{yyyymm_date('index_month')} AS index_month, {yyyymm_date('window_start')} AS window_start, "
        f"{yyyymm_date('window_end')} AS window_end FROM s_{c}_population"
        for c in countries
    ]
    con.execute(
        "CREATE TABLE pop_all AS SELECT row_number() OVER (ORDER BY person_id) AS pk, * "
        f"FROM ({' UNION ALL '.join(parts)})"
    )
    for c in countries:
        con.execute(
            f"CREATE TABLE k_{c} AS SELECT p.person, a.pk FROM s_{c}_population AS p "
            f"JOIN pop_all AS a ON a.country = '{c}' AND a.nid = CAST(p.person AS VARCHAR)"
        )


def _persons_select(country: str) -> str:
    low, medium = formats.EDUCATION_BANDS[country]
    female = "x.sex = 'K'" if country == "DK" else "x.sex = 2"
    if country == "SE":
        attrs = "s_SE_lisa AS x ON x.person = k.person AND x.year = year(a.index_month)"
        exits = "SELECT person, min(exit_date) AS exit_date FROM s_SE_events GROUP BY person"
    else:
        attrs = f"s_{country}_persons AS x ON x.person = k.person"
        exits = f"SELECT person, exit_date FROM s_{country}_persons"
    return f"""
        SELECT a.pk, a.person_id, a.country, a.cohort, a.index_month, a.window_start, a.window_end,
            CAST(x.birth_year AS BIGINT) AS birth_year, CAST({female} AS BIGINT) AS female,
            {_BACKGROUND} AS background, '{country}-' || x.municipality_code AS municipality_id,
            CASE WHEN x.education_level <= {low} THEN 'low' WHEN x.education_level <= {medium} THEN 'medium'
                ELSE 'high' END AS education,
            CAST(x.n_children AS BIGINT) AS n_children, CAST(x.health_problem AS BIGINT) AS health_problem,
            CAST(date_trunc('month', e.exit_date) AS DATE) AS exit_month,
            CAST(date_trunc('month', f.followup_date) AS DATE) AS followup_month
        FROM pop_all AS a JOIN k_{country} AS k USING (pk) JOIN {attrs}
        LEFT JOIN ({exits}) AS e ON e.person = k.person
        LEFT JOIN (SELECT person, min(followup_date) AS followup_date FROM s_{country}_followup GROUP BY person)
            AS f ON f.person = k.person
    """


def build_persons(con: duckdb.DuckDBPyConnection, countries: Sequence[str]) -> None:
    """Create the store table ``persons`` and the internal ``persons_pk`` (with month range)."""
    union = " UNION ALL ".join(_persons_select(c) for c in countries)
    last = f"least({mi_date('window_end')}, coalesce({mi_date('exit_month')} - 1, {mi_date('window_end')}))"
    con.execute(
        f"CREATE TABLE persons_pk AS SELECT *, {mi_date('window_start')} AS first_mi, {last} AS last_mi FROM ({union})"
    )
    cols = ", ".join(formats.PERSONS_COLUMNS)
    con.execute(f"CREATE TABLE {STORE}.persons AS SELECT {cols} FROM persons_pk ORDER BY person_id")


def build_spell_benefits(con: duckdb.DuckDBPyConnection, country: str) -> str:
    """Create ``benefit_<C>(pk, mi, prio)`` from a NO/SE spell table; return its name."""
    waa, measure = (
        (formats.NO_WAA_CODE, formats.NO_MEASURE_CODE)
        if country == "NO"
        else (formats.SE_WAA_CODE, formats.SE_MEASURE_CODE)
    )
    day = formats.REFERENCE_DAY
    end = f"coalesce(s.end_date, DATE '{STUDY_LAST_DAY}')"
    first = f"{mi_date('s.start_date')} + CASE WHEN day(s.start_date) > {day} THEN 1 ELSE 0 END"
    last = f"{mi_date(end)} - CASE WHEN day({end}) < {day} THEN 1 ELSE 0 END"
    con.execute(
        f"""CREATE TABLE benefit_{country} AS
        WITH covered AS (
            SELECT k.pk, s.code, unnest(range({first}, {last} + 1)) AS mi
            FROM s_{country}_spells AS s JOIN k_{country} AS k USING (person))
        SELECT pk, mi, CASE WHEN bool_or(covered.code = '{waa}') AND bool_or(covered.code = '{measure}')
                THEN least(min(c.prio), {_PRIO["WAA_M"]}) ELSE min(c.prio) END AS prio
        FROM covered JOIN codes AS c ON c.country = '{country}' AND c.code = covered.code
        GROUP BY pk, mi"""
    )
    return f"benefit_{country}"


def build_dream_benefits(con: duckdb.DuckDBPyConnection) -> str:
    """Create ``benefit_DK(pk, mi, prio)`` from the long DREAM table; return its name."""
    con.execute(
        f"""CREATE TABLE benefit_DK AS
        WITH weeks AS (
            SELECT k.pk, {mi_yyyymm("l.month")} AS mi, CAST(l.code AS VARCHAR) AS code
            FROM s_DK_dream_long AS l JOIN k_DK AS k USING (person)),
        counted AS (
            SELECT w.pk, w.mi, c.prio, count(*) AS n FROM weeks AS w
            JOIN codes AS c ON c.country = 'DK' AND c.code = w.code GROUP BY w.pk, w.mi, c.prio),
        ranked AS (
            SELECT *, sum(n) OVER (PARTITION BY pk, mi) AS coded FROM counted
            QUALIFY row_number() OVER (PARTITION BY pk, mi ORDER BY n DESC, prio) = 1)
        SELECT r.pk, r.mi, r.prio FROM ranked AS r JOIN dk_month_weeks AS m USING (mi)
        WHERE r.n >= m.n_weeks - r.coded"""
    )
    return "benefit_DK"


def build_earnings(con: duckdb.DuckDBPyConnection, countries: Sequence[str]) -> None:
    """Create ``earn(pk, mi, earnings, prio)``: employment state from monthly earnings."""
    parts = [
        f"SELECT k.pk, CAST({mi_yyyymm('e.month')} AS BIGINT) AS mi, e.earnings, "
        f"CASE WHEN e.earnings > 0 THEN CASE WHEN e.earnings < {formats.LOW_PAY_THRESHOLD[c]} "
        f"THEN {_PRIO['EMP_LOW']} ELSE {_PRIO['EMP']} END END AS prio "
        f"FROM s_{c}_earnings AS e JOIN k_{c} AS k USING (person)"
        for c in countries
    ]
    con.execute(f"CREATE TABLE earn AS {' UNION ALL '.join(parts)}")


def _chunks(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int]]:
    """Return pk ranges of consecutive persons holding about PANEL_CHUNK_ROWS panel months."""
    rows = con.execute(
        f"""SELECT min(pk), max(pk) FROM (
            SELECT pk, sum(greatest(last_mi - first_mi + 1, 0)) OVER (ORDER BY pk) // {PANEL_CHUNK_ROWS} AS chunk
            FROM persons_pk) GROUP BY chunk ORDER BY chunk"""
    ).fetchall()
    return [(int(lo), int(hi)) for lo, hi in rows]


def build_panel(con: duckdb.DuckDBPyConnection, benefits: Sequence[str]) -> None:
    """Create the store table ``panel`` (person_id, month, state, earnings), sorted.

    Written in chunks of consecutive persons (pk order = person_id order), so joins and
    sorts stay small whatever the size of the extract.
    """
    states = "[" + ", ".join(f"'{s}'" for s in formats.STATES) + "]"
    union = " UNION ALL ".join(f"SELECT pk, CAST(mi AS BIGINT) AS mi, prio FROM {b}" for b in benefits)
    con.execute(f"CREATE TABLE benefit AS {union}")
    con.execute(f"CREATE TABLE {STORE}.panel (person_id VARCHAR, month DATE, state VARCHAR, earnings DOUBLE)")
    con.execute("SET preserve_insertion_order = true")
    for lo, hi in _chunks(con):
        span = f"pk BETWEEN {lo} AND {hi}"
        con.execute(
            f"""INSERT INTO {STORE}.panel
            WITH months AS (
                SELECT pk, person_id, unnest(range(first_mi, last_mi + 1)) AS mi FROM persons_pk WHERE {span})
            SELECT m.person_id, {date_mi("m.mi")} AS month,
                list_extract({states}, coalesce(least(b.prio, e.prio), {_PRIO["INACTIVE"]}) + 1) AS state,
                coalesce(e.earnings, 0.0) AS earnings
            FROM months AS m LEFT JOIN (SELECT * FROM benefit WHERE {span}) AS b USING (pk, mi)
            LEFT JOIN (SELECT * FROM earn WHERE {span}) AS e USING (pk, mi)
            ORDER BY m.pk, m.mi"""
        )


def build_municipalities(con: duckdb.DuckDBPyConnection) -> None:
    """Create the store table ``municipalities`` (formats.MUNICIPALITY_COLUMNS, sorted)."""
    cols = ", ".join(formats.MUNICIPALITY_COLUMNS)
    con.execute(f"CREATE TABLE {STORE}.municipalities AS SELECT {cols} FROM s_municipalities ORDER BY municipality_id")

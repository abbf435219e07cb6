"""The raw-extract contract: file names, native columns, codes and harmonisation rules.

Both sides of the register pipeline import this module: :mod:`o4o_causal.synth` writes
extracts in these shapes and :mod:`o4o_causal.registers` ingests them. Real extracts
arrive in the same shapes (column names may be renamed with a mapping, see
:data:`COLUMNS`). Codes marked [A] are DREAM/FD-Trygd/LISA-*like*, not the official
code lists; the mappings are data, so a project adapts them to its delivery.

Layout of an extract folder (``World.write(path)``)::

    <path>/raw/municipalities.<ext>          all three countries, municipality level
    <path>/raw/NO/population.<ext>           extract population: id, cohort, index and window
    <path>/raw/NO/persons.<ext>              constant table (FD-Trygd-like)
    <path>/raw/NO/spells.<ext>               benefit spells: id, code, start date, end date
    <path>/raw/NO/earnings.<ext>             monthly earnings (a-ordningen-like), long
    <path>/raw/NO/followup.<ext>             integrated follow-up decisions
    <path>/raw/DK/population.<ext>, persons.<ext>, followup.<ext>, earnings.<ext>
    <path>/raw/DK/dream.<ext>                DREAM-like weekly wide file: pnr, y_YYWW ...
    <path>/raw/SE/population.<ext>, followup.<ext>, earnings.<ext>
    <path>/raw/SE/lisa_<YYYY>.<ext>          LISA-like annual person files (one per year)
    <path>/raw/SE/events.<ext>               deaths and emigrations (RTB-like)
    <path>/raw/SE/spells.<ext>               benefit spells from FK / AF / social services
    <path>/truth/...                         ground truth: never inside raw/

``<ext>`` is ``parquet`` or ``csv``; ingestion also reads ``dta`` (Stata), ``sas7bdat``
and ``xpt`` (SAS) through pyreadstat.
"""

from __future__ import annotations

from typing import Final

COUNTRIES: Final[tuple[str, ...]] = ("NO", "SE", "DK")

#: Real numbers of municipalities (NO 2020-23, SE, DK).
N_MUNICIPALITIES: Final[dict[str, int]] = {"NO": 356, "SE": 290, "DK": 98}

#: First and last month any extract may contain (inclusive, ``YYYYMM``).
STUDY_START: Final[int] = 200801
STUDY_END: Final[int] = 202412

# --------------------------------------------------------------------------------------
# Harmonised monthly states, highest priority first. When several sources give a state
# for the same person-month, the state earliest in this tuple wins.
# --------------------------------------------------------------------------------------
STATES: Final[tuple[str, ...]] = (
    "DP",  # disability pension
    "WAA_M",  # work assessment allowance (or analogue) with a labour-market measure
    "WAA",  # work assessment allowance / rehabilitation benefit (NO AAP, SE AKE, DK ressourceforloeb)
    "SICK",  # sickness benefit
    "SA",  # social assistance
    "JOBSEEK",  # registered job seeker / unemployment benefit / measure without WAA
    "EDU",  # in education (student support or enrolment)
    "EMP_LOW",  # employed, monthly earnings below the low-pay threshold
    "EMP",  # employed
    "INACTIVE",  # none of the above
)
STATE_LABELS: Final[dict[str, str]] = {
    "DP": "disability pension",
    "WAA_M": "WAA with measure",
    "WAA": "WAA",
    "SICK": "sickness benefit",
    "SA": "social assistance",
    "JOBSEEK": "job seeking",
    "EDU": "education",
    "EMP_LOW": "employed, low pay",
    "EMP": "employed",
    "INACTIVE": "inactive",
}
#: One colour per harmonised state, used by every figure (colour-blind-friendly families:
#: work green, WAA blue, health purple, social assistance orange, job seeking yellow,
#: education teal).
STATE_COLOURS: Final[dict[str, str]] = {
    "DP": "#6a3d9a",
    "WAA_M": "#1f78b4",
    "WAA": "#a6cee3",
    "SICK": "#cab2d6",
    "SA": "#ff7f00",
    "JOBSEEK": "#fdbf6f",
    "EDU": "#66c2a5",
    "EMP_LOW": "#b2df8a",
    "EMP": "#33a02c",
    "INACTIVE": "#d9d9d9",
}
EMPLOYED_STATES: Final[frozenset[str]] = frozenset({"EMP", "EMP_LOW"})

#: Low-pay threshold per country, monthly gross earnings in national currency [A].
LOW_PAY_THRESHOLD: Final[dict[str, float]] = {"NO": 15_000.0, "SE": 13_000.0, "DK": 13_000.0}

# --------------------------------------------------------------------------------------
# Benefit codes -> harmonised state, per country.
# --------------------------------------------------------------------------------------
#: Norway, FD-Trygd-like spell codes [A]. ``TILTAK`` (labour-market measure) is special:
#: overlapping an ``AAP`` month it turns WAA into WAA_M; alone it means JOBSEEK.
NO_CODES: Final[dict[str, str]] = {
    "UFOR": "DP",
    "AAP": "WAA",
    "SYKP": "SICK",
    "SOSH": "SA",
    "ARBS": "JOBSEEK",
    "TILTAK": "JOBSEEK",
    "UTD": "EDU",
}
NO_MEASURE_CODE: Final[str] = "TILTAK"
NO_WAA_CODE: Final[str] = "AAP"

#: Sweden, spell codes from Forsakringskassan (SJP, AKE, SE), Arbetsformedlingen (INSKR,
#: PROG), social services (EKB) and CSN (STUD) [A]. ``PROG`` overlapping ``AKE`` -> WAA_M.
SE_CODES: Final[dict[str, str]] = {
    "SE": "DP",
    "AKE": "WAA",
    "SJP": "SICK",
    "EKB": "SA",
    "INSKR": "JOBSEEK",
    "PROG": "JOBSEEK",
    "STUD": "EDU",
}
SE_MEASURE_CODE: Final[str] = "PROG"
SE_WAA_CODE: Final[str] = "AKE"

#: Denmark, DREAM-like weekly codes [A]; one code per week, so WAA_M has its own code.
DK_CODES: Final[dict[int, str]] = {
    783: "DP",
    775: "WAA_M",
    774: "WAA",
    890: "SICK",
    130: "SA",
    111: "JOBSEEK",
    651: "EDU",
}

# --------------------------------------------------------------------------------------
# Harmonisation rules (implemented in registers.harmonise, independently in synth).
# --------------------------------------------------------------------------------------
#: Spells -> months: a spell covers month m when start_date <= day REFERENCE_DAY of m
#: <= end_date (a reference-day rule, like LISA's November measurement).
REFERENCE_DAY: Final[int] = 15
#: Weekly -> monthly (DK): an ISO week belongs to the month that contains its Thursday;
#: the month's benefit state is the code held in most of its weeks, where weeks without
#: a code count as "no benefit"; a tie between a code and "no benefit" goes to the code,
#: a tie between two codes to the higher-priority state.
#: Earnings -> employment: employed in a month with earnings > 0; EMP_LOW when earnings
#: are below LOW_PAY_THRESHOLD of the country.
#: Annual -> monthly (SE): LISA variables of year y apply to every month of year y; the
#: baseline municipality, education and family are taken from LISA of the index year.
#: Months in a person's window with no benefit state and no earnings are INACTIVE.
#: The panel ends with the month before the exit (death / emigration) month.

# --------------------------------------------------------------------------------------
# Native columns per file and country: file -> {native column: (harmonised meaning, dtype)}
# dtypes: "int", "str", "date", "float", "yyyymm" (int YYYYMM).
# --------------------------------------------------------------------------------------
COLUMNS: Final[dict[str, dict[str, dict[str, tuple[str, str]]]]] = {
    "NO": {
        "population": {
            "lopenr": ("person", "int"),
            "kohort": ("cohort", "str"),
            "indeks_mnd": ("index_month", "yyyymm"),
            "fra_mnd": ("window_start", "yyyymm"),
            "til_mnd": ("window_end", "yyyymm"),
        },
        "persons": {
            "lopenr": ("person", "int"),
            "foedselsaar": ("birth_year", "int"),
            "kjoenn": ("sex", "int"),  # 1 male, 2 female
            "landbakgrunn": ("background", "int"),  # 1 native, 2 western immigrant, 3 non-western
            "bosted": ("municipality_code", "str"),  # 4-digit kommunenummer at baseline
            "nus_nivaa": ("education_level", "int"),  # NUS 0-8
            "barn_u18": ("n_children", "int"),
            "helse": ("health_problem", "int"),  # 0/1 [A]
            "utgang_dato": ("exit_date", "date"),  # death or emigration, empty if none
        },
        "spells": {
            "lopenr": ("person", "int"),
            "ytelse": ("code", "str"),
            "fra_dato": ("start_date", "date"),
            "til_dato": ("end_date", "date"),
        },
        "earnings": {
            "lopenr": ("person", "int"),
            "aarmnd": ("month", "yyyymm"),
            "belop": ("earnings", "float"),
        },
        "followup": {
            "lopenr": ("person", "int"),
            "vedtak_dato": ("followup_date", "date"),
        },
    },
    "DK": {
        "population": {
            "pnr": ("person", "str"),
            "kohorte": ("cohort", "str"),
            "indeks_mdr": ("index_month", "yyyymm"),
            "fra_mdr": ("window_start", "yyyymm"),
            "til_mdr": ("window_end", "yyyymm"),
        },
        "persons": {
            "pnr": ("person", "str"),
            "foed_aar": ("birth_year", "int"),
            "koen": ("sex", "str"),  # "M" / "K"
            "herkomst": ("background", "int"),  # 1 Danish, 2 western, 3 non-western
            "kom": ("municipality_code", "str"),  # 3-digit kommunekode at baseline
            "hfaudd_isced": ("education_level", "int"),  # ISCED 0-8
            "boern_u18": ("n_children", "int"),
            "helbred": ("health_problem", "int"),
            "udgang_dato": ("exit_date", "date"),
        },
        "earnings": {
            "pnr": ("person", "str"),
            "aarmd": ("month", "yyyymm"),
            "beloeb": ("earnings", "float"),
        },
        "followup": {
            "pnr": ("person", "str"),
            "start_dato": ("followup_date", "date"),
        },
        # dream: "pnr" plus one column per ISO week "y_YYWW" holding an integer code or empty
    },
    "SE": {
        "population": {
            "lopnr": ("person", "int"),
            "kohort": ("cohort", "str"),
            "index_manad": ("index_month", "yyyymm"),
            "fran_manad": ("window_start", "yyyymm"),
            "till_manad": ("window_end", "yyyymm"),
        },
        "lisa": {
            "lopnr": ("person", "int"),
            "ar": ("year", "int"),
            "fodelsear": ("birth_year", "int"),
            "kon": ("sex", "int"),  # 1 male, 2 female
            "fodelseland_grp": ("background", "int"),  # 1 Sweden, 2 western, 3 non-western
            "kommun": ("municipality_code", "str"),  # 4-digit kommunkod, residence 31 Dec
            "sun2000niva": ("education_level", "int"),  # SUN 1-7
            "barn0_17": ("n_children", "int"),
            "halsa": ("health_problem", "int"),  # [A] from patient registers
            "syss_nov": ("employed_november", "int"),
        },
        "events": {
            "lopnr": ("person", "int"),
            "datum": ("exit_date", "date"),
            "handelse": ("exit_reason", "str"),  # "DOD" / "UTV"
        },
        "spells": {
            "lopnr": ("person", "int"),
            "forman": ("code", "str"),
            "from_datum": ("start_date", "date"),
            "tom_datum": ("end_date", "date"),
        },
        "earnings": {
            "lopnr": ("person", "int"),
            "period": ("month", "yyyymm"),
            "bruttolon": ("earnings", "float"),
        },
        "followup": {
            "lopnr": ("person", "int"),
            "start_datum": ("followup_date", "date"),
        },
    },
}

#: Municipality table columns (one file for all countries).
MUNICIPALITY_COLUMNS: Final[dict[str, str]] = {
    "municipality_id": "str",  # "<country>-<code>", e.g. "NO-4601"
    "country": "str",
    "code": "str",  # national code: NO/SE 4 digits, DK 3 digits
    "name": "str",
    "population": "int",
    "urbanity": "float",  # 0 rural .. 1 urban
    "unemployment_rate": "float",
    "nonwestern_share": "float",
    "service_resources": "float",  # standardised municipal service resources: the municipality-level confounder
    "co_location": "int",
    "joint_case_management": "int",
    "shared_it": "int",
    "early_intervention": "int",
    "health_employment_integration": "int",
    "broad_collaboration": "int",
    "holistic_health": "int",
    "caseload": "float",  # cases per caseworker
    "coordination_association": "int",  # SE Samordningsforbund member (0 elsewhere)
    "rehabilitation_team": "int",  # DK rehabilitation team (1 in every DK municipality)
    "asss_city": "int",  # one of the ten large Norwegian cities of the policy study
}

#: The measurable service-integration conditions (0/1 per municipality), in display order.
INTEGRATION_CONDITIONS: Final[tuple[str, ...]] = (
    "co_location",
    "joint_case_management",
    "shared_it",
    "early_intervention",
    "health_employment_integration",
    "broad_collaboration",
    "holistic_health",
)

#: Cohorts an extract population may list.
COHORTS: Final[tuple[str, ...]] = ("core", "waa", "social_assistance", "neet")

#: Harmonised person id: "<country>:<native id>".
PERSON_ID_SEPARATOR: Final[str] = ":"

# --------------------------------------------------------------------------------------
# Harmonised tables in the store (both World and RegisterStore return exactly these
# columns, in this order, sorted by the key; dtypes as given).
# --------------------------------------------------------------------------------------
#: Education bands from national level codes: (max level counted "low", max "medium").
EDUCATION_BANDS: Final[dict[str, tuple[int, int]]] = {"NO": (2, 5), "DK": (2, 4), "SE": (2, 4)}
#: Range of the national education level codes (NO NUS 0-8, DK ISCED 0-8, SE SUN 1-7).
EDUCATION_LEVELS: Final[dict[str, tuple[int, int]]] = {"NO": (0, 8), "DK": (0, 8), "SE": (1, 7)}
#: Background codes of the native files (NO landbakgrunn, DK herkomst, SE fodelseland_grp).
BACKGROUND_CODES: Final[dict[int, str]] = {1: "native", 2: "western", 3: "nonwestern"}

#: ``persons``: one row per person, sorted by person_id.
PERSONS_COLUMNS: Final[dict[str, str]] = {
    "person_id": "str",  # "<country>:<native id>"
    "country": "str",
    "cohort": "str",
    "index_month": "datetime64[ns]",  # first day of month
    "window_start": "datetime64[ns]",
    "window_end": "datetime64[ns]",
    "birth_year": "int64",
    "female": "int64",  # 0/1
    "background": "str",  # "native" | "western" | "nonwestern"
    "municipality_id": "str",  # baseline municipality, "<country>-<code>"
    "education": "str",  # "low" | "medium" | "high"
    "n_children": "int64",
    "health_problem": "int64",  # 0/1
    "exit_month": "datetime64[ns]",  # NaT if no death/emigration
    "followup_month": "datetime64[ns]",  # first integrated follow-up month, NaT if none
}

#: ``panel``: one row per person and month in the window (up to the month before exit),
#: sorted by person_id, month.
PANEL_COLUMNS: Final[dict[str, str]] = {
    "person_id": "str",
    "month": "datetime64[ns]",  # first day of month
    "state": "str",  # one of STATES
    "earnings": "float64",  # monthly earnings, 0.0 when none
}

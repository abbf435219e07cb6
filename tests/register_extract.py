"""A tiny hand-made raw extract (NO, SE, DK) in the shapes of registers.formats.

``minimal_extract()`` returns ``{"NO/spells": DataFrame, ...}``; tests change one table
to break one rule and write it with ``write_extract(tables, root, fmt)``. Expected
values used by the tests are derived by hand in the comments below.

NO (window 2019-01 .. 2022-12 unless said otherwise)
  1 core, index 2020-01, Bergen, female, non-western, low education (NUS 2), 1 child.
    AAP 2020-01-10..2020-06-20 -> WAA Jan-Jun 2020; TILTAK 2020-03-16..2020-05-14 ->
    April only (starts after the 15th, ends before the 15th) -> April WAA_M;
    TILTAK 2020-09-01..2020-10-31 alone -> Sep, Oct JOBSEEK.
    Earnings 20000 in 2019-07..2019-12 (EMP; prior employment 6), 10000 in 2020-02
    (state stays WAA), 10000 in 2021-01..06 (EMP_LOW, below 15000), 20000 in
    2021-07..2022-01 (EMP). Follow-up 2020-02-10 (treated).
    -> months_employed_24 = 14 (employed = earnings > 0, also in 2020-02 under WAA),
       employed_24 = 1, earnings_24 = 210000.
  2 core, index 2020-01, exit 2021-03-10 -> panel ends 2021-02, incomplete follow-up.
  3 waa, index 2020-01: SYKP 2019-12-01..2020-02-29 and AAP 2020-02-01..2020-12-31
    (Feb: WAA beats SICK), UFOR open from 2021-01-01 (DP to the window end 2022-12).
  4 social_assistance, index 2019-01, window 2019-01..2020-12, Bergen:
    SOSH 2019-11-15..2020-02-14 -> Nov, Dec, Jan; earnings 5000 in 2020-06 (EMP_LOW),
    15000 in 2020-07 (EMP: not below the threshold).
  5 neet, index 2019-01, window 2019-01..2020-12: UTD 2019-08-15..2020-06-15
    -> EDU Aug 2019..Jun 2020; Nov 2019 EDU (neet 0), Nov 2020 INACTIVE (neet 1).
SE
  1 core, index 2020-01: LISA 2019 says kommun 0180 / SUN 2; LISA 2020 (index year)
    says kommun 1480 / SUN 5 (high) / 1 child -> persons use 2020. Events UTV
    2023-05-01 and DOD 2024-02-01 -> exit 2023-05. AKE 2020-01-01..2020-12-31 with
    PROG 2020-06-01..2020-07-31 -> Jun, Jul WAA_M; INSKR 2021-02-01..2021-03-31 and
    PROG alone 2021-05-01..2021-05-31 -> JOBSEEK. Earnings 12000 in 2021-04 (EMP_LOW,
    below 13000), 13000 in 2021-06..2022-01 (EMP). Follow-up 2020-04-01 (k=3: untreated).
    -> prior 0 (weak attachment), months_employed_24 = 9, earnings_24 = 116000.
  2 neet, index 2019-01, window 2019-01..2020-12: STUD 2019-09-01..2019-12-31;
    earnings 500 in 2020-11 (EMP_LOW) -> neet 0 in both years.
DK (dream weeks y_1940 .. y_1952 and y_2001; October 2019 has weeks 40-44, Nov 45-48,
    Dec 49-52; week 44 runs Mon 28 Oct - Sun 3 Nov, Thursday 31 Oct -> October)
  0101 waa, index 2019-10, window 2019-01..2020-12: Oct 774 x3 of 5 -> WAA; Nov 111 x2
    of 4 (tie with no benefit) -> JOBSEEK; Dec 774 x1 + 890 x1 of 4 -> no benefit, with
    earnings 14000 -> EMP. Follow-up 2019-10-05.
  0202 core, index 2019-10, exit 2020-06-20: Oct 890 x2 + 774 x2 + 130 x1 -> WAA (tie
    of codes goes to the higher priority).
  0303 neet, index 2019-01, window 2019-01..2020-12: 111 in weeks 42, 43, 44 -> Oct
    JOBSEEK (3 of 5); no code in November.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from o4o_causal.registers import formats

Tables = dict[str, pd.DataFrame]


def _dates(values: list[str | None]) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype=object))


def _months(first: int, last: int) -> list[int]:
    out, (y, m) = [], divmod(first, 100)
    while y * 100 + m <= last:
        out.append(y * 100 + m)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _municipalities() -> pd.DataFrame:
    rows = [("NO", "4601", "Bergen"), ("NO", "0301", "Oslo"), ("SE", "0180", "Stockholm")]
    rows += [("SE", "1480", "Goteborg"), ("DK", "101", "Kobenhavn")]
    n = len(rows)
    return pd.DataFrame(
        {
            "municipality_id": [f"{c}-{k}" for c, k, _ in rows],
            "country": [c for c, _, _ in rows],
            "code": [k for _, k, _ in rows],
            "name": [name for _, _, name in rows],
            "population": np.array([290_000, 700_000, 980_000, 590_000, 650_000], dtype=np.int64),
            "urbanity": np.linspace(0.5, 0.9, n),
            "unemployment_rate": np.linspace(0.03, 0.07, n),
            "nonwestern_share": np.linspace(0.1, 0.2, n),
            "service_resources": np.linspace(-1.0, 1.0, n),
            **{c: np.array([1, 0, 1, 0, 1], dtype=np.int64) for c in formats.INTEGRATION_CONDITIONS},
            "caseload": np.linspace(40.0, 80.0, n),
            "coordination_association": np.array([0, 0, 1, 1, 0], dtype=np.int64),
            "rehabilitation_team": np.array([0, 0, 0, 0, 1], dtype=np.int64),
            "asss_city": np.array([1, 1, 0, 0, 0], dtype=np.int64),
        }
    )


def _no() -> Tables:
    population = pd.DataFrame(
        {
            "lopenr": [1, 2, 3, 4, 5],
            "kohort": ["core", "core", "waa", "social_assistance", "neet"],
            "indeks_mnd": [202001, 202001, 202001, 201901, 201901],
            "fra_mnd": [201901] * 5,
            "til_mnd": [202212, 202212, 202212, 202012, 202012],
        }
    )
    persons = pd.DataFrame(
        {
            "lopenr": [1, 2, 3, 4, 5],
            "foedselsaar": [1980, 1990, 1985, 1995, 2000],
            "kjoenn": [2, 1, 2, 1, 2],
            "landbakgrunn": [3, 1, 2, 3, 1],
            "bosted": ["4601", "0301", "4601", "4601", "0301"],
            "nus_nivaa": [2, 4, 7, 0, 3],
            "barn_u18": [1, 0, 2, 0, 0],
            "helse": [1, 0, 1, 0, 0],
            "utgang_dato": _dates([None, "2021-03-10", None, None, None]),
        }
    )
    spells = pd.DataFrame(
        [
            (1, "AAP", "2020-01-10", "2020-06-20"),
            (1, "TILTAK", "2020-03-16", "2020-05-14"),
            (1, "TILTAK", "2020-09-01", "2020-10-31"),
            (3, "SYKP", "2019-12-01", "2020-02-29"),
            (3, "AAP", "2020-02-01", "2020-12-31"),
            (3, "UFOR", "2021-01-01", None),
            (4, "SOSH", "2019-11-15", "2020-02-14"),
            (5, "UTD", "2019-08-15", "2020-06-15"),
        ],
        columns=["lopenr", "ytelse", "fra_dato", "til_dato"],
    )
    spells["fra_dato"] = _dates(list(spells["fra_dato"]))
    spells["til_dato"] = _dates(list(spells["til_dato"]))
    earn = [(1, m, 20000.0) for m in _months(201907, 201912)] + [(1, 202002, 10000.0)]
    earn += [(1, m, 10000.0) for m in _months(202101, 202106)] + [(1, m, 20000.0) for m in _months(202107, 202201)]
    earn += [(4, 202006, 5000.0), (4, 202007, 15000.0)]
    earnings = pd.DataFrame(earn, columns=["lopenr", "aarmnd", "belop"])
    followup = pd.DataFrame({"lopenr": [1], "vedtak_dato": _dates(["2020-02-10"])})
    return {
        "NO/population": population,
        "NO/persons": persons,
        "NO/spells": spells,
        "NO/earnings": earnings,
        "NO/followup": followup,
    }


def _se() -> Tables:
    population = pd.DataFrame(
        {
            "lopnr": [1, 2],
            "kohort": ["core", "neet"],
            "index_manad": [202001, 201901],
            "fran_manad": [201901, 201901],
            "till_manad": [202212, 202012],
        }
    )

    def lisa(year: int, kommun: list[str], sun: list[int], barn: list[int]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "lopnr": [1, 2],
                "ar": [year, year],
                "fodelsear": [1975, 2001],
                "kon": [1, 2],
                "fodelseland_grp": [1, 3],
                "kommun": kommun,
                "sun2000niva": sun,
                "barn0_17": barn,
                "halsa": [0, 1],
                "syss_nov": [0, 0],
            }
        )

    events = pd.DataFrame({"lopnr": [1, 1], "datum": _dates(["2024-02-01", "2023-05-01"]), "handelse": ["DOD", "UTV"]})
    spells = pd.DataFrame(
        [
            (1, "AKE", "2020-01-01", "2020-12-31"),
            (1, "PROG", "2020-06-01", "2020-07-31"),
            (1, "INSKR", "2021-02-01", "2021-03-31"),
            (1, "PROG", "2021-05-01", "2021-05-31"),
            (2, "STUD", "2019-09-01", "2019-12-31"),
        ],
        columns=["lopnr", "forman", "from_datum", "tom_datum"],
    )
    for col in ("from_datum", "tom_datum"):
        spells[col] = _dates(list(spells[col]))
    earn = [(1, 202104, 12000.0)] + [(1, m, 13000.0) for m in _months(202106, 202201)] + [(2, 202011, 500.0)]
    return {
        "SE/population": population,
        "SE/lisa_2019": lisa(2019, ["0180", "0180"], [2, 1], [0, 0]),
        "SE/lisa_2020": lisa(2020, ["1480", "0180"], [5, 1], [1, 0]),
        "SE/events": events,
        "SE/spells": spells,
        "SE/earnings": pd.DataFrame(earn, columns=["lopnr", "period", "bruttolon"]),
        "SE/followup": pd.DataFrame({"lopnr": [1], "start_datum": _dates(["2020-04-01"])}),
    }


def _dream() -> pd.DataFrame:
    weeks = [f"y_19{w}" for w in range(40, 53)] + ["y_2001"]
    codes: dict[str, dict[str, int]] = {
        "0101": {
            "y_1940": 774,
            "y_1941": 774,
            "y_1942": 774,
            "y_1945": 111,
            "y_1946": 111,
            "y_1949": 774,
            "y_1950": 890,
        },
        "0202": {"y_1940": 890, "y_1941": 890, "y_1942": 774, "y_1943": 774, "y_1944": 130},
        "0303": {"y_1942": 111, "y_1943": 111, "y_1944": 111},
    }
    frame = pd.DataFrame({"pnr": list(codes)})
    for week in weeks:
        frame[week] = pd.array([codes[p].get(week) for p in codes], dtype="Int64")
    return frame


def _dk() -> Tables:
    return {
        "DK/population": pd.DataFrame(
            {
                "pnr": ["0101", "0202", "0303"],
                "kohorte": ["waa", "core", "neet"],
                "indeks_mdr": [201910, 201910, 201901],
                "fra_mdr": [201901] * 3,
                "til_mdr": [202012] * 3,
            }
        ),
        "DK/persons": pd.DataFrame(
            {
                "pnr": ["0101", "0202", "0303"],
                "foed_aar": [1970, 1988, 2002],
                "koen": ["K", "M", "K"],
                "herkomst": [1, 2, 3],
                "kom": ["101", "101", "101"],
                "hfaudd_isced": [3, 5, 1],
                "boern_u18": [0, 1, 0],
                "helbred": [1, 0, 0],
                "udgang_dato": _dates([None, "2020-06-20", None]),
            }
        ),
        "DK/earnings": pd.DataFrame({"pnr": ["0101", "0202"], "aarmd": [201912, 201910], "beloeb": [14000.0, 5000.0]}),
        "DK/followup": pd.DataFrame({"pnr": ["0101"], "start_dato": _dates(["2019-10-05"])}),
        "DK/dream": _dream(),
    }


def minimal_extract() -> Tables:
    """Return the tiny extract as ``{"<country>/<file>": frame, "municipalities": frame}``."""
    return {"municipalities": _municipalities(), **_no(), **_se(), **_dk()}


def _for_readstat(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.Int64Dtype):
            out[col] = out[col].astype("float64")
        elif out[col].dtype == object:
            out[col] = out[col].fillna("")
    return out


def write_extract(tables: Tables, root: Path, fmt: str = "parquet", *, upper: bool = False) -> Path:
    """Write ``tables`` under ``root/raw`` in format ``fmt``; return the raw folder."""
    raw = root / "raw"
    for key, frame in tables.items():
        path = raw / f"{key}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = frame.rename(columns=str.upper) if upper else frame
        if fmt == "parquet":
            data.to_parquet(path, index=False)
        elif fmt == "csv":
            data.to_csv(path, index=False, date_format="%Y-%m-%d")
        elif fmt == "dta":
            pyreadstat.write_dta(_for_readstat(data), str(path))
        elif fmt == "xpt":
            pyreadstat.write_xport(_for_readstat(data), str(path), file_format_version=8)
        else:
            raise ValueError(fmt)
    return raw

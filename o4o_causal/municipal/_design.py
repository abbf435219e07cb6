"""Validation and binomial cells of :func:`~o4o_causal.municipal.deviance`.

Person-years are collapsed into **cells**: municipality x year x risk-factor pattern.
Within a cell every person-year has the same linear predictor, so the Bernoulli
likelihood of the person-years equals (up to a constant) the binomial likelihood of the
cell's count of outcomes. Continuous risk factors prevent collapsing; ``age`` is banded
by default (:data:`AGE_BANDS`), which on the default synthetic world turns 93,300
Norwegian person-years into 29,486 cells (54,803 with age kept linear).

Structural (municipality-level) conditions are constant within municipality; they are
standardised over municipalities (mean 0, SD 1: coefficients are per SD). Risk factors
are centred (coefficients per unit).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from o4o_causal._validate import column_names, require_columns, require_frame, require_no_missing, require_numeric
from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError, format_error

#: Default person-level risk factors of the NEET cohort frame.
RISK_FACTORS: tuple[str, ...] = ("age", "female", "nonwestern", "low_education", "health_problem")
#: Default municipality-level structural conditions (from the municipality table).
STRUCTURAL: tuple[str, ...] = ("unemployment_rate", "urbanity")
#: Default bands of ``age``: lower edges of the bands after the first (16-19, 20-24, 25-29, 30+).
AGE_BANDS: Mapping[str, tuple[float, ...]] = {"age": (20.0, 25.0, 30.0)}
#: Fewest municipalities per country: decile ranks need at least ten.
MIN_MUNICIPALITIES = 10
#: Fewest distinct years: consistency across years is part of the model.
MIN_YEARS = 2


@dataclass(frozen=True)
class Cells:
    """Binomial cells and the aggregate counts the result needs (read-only arrays, no person rows)."""

    n: np.ndarray  # person-years per cell
    y: np.ndarray  # outcomes (1s) per cell
    pattern: np.ndarray  # cell -> risk-factor pattern
    xp: np.ndarray  # patterns x features (centred risk factors / band indicators)
    s: np.ndarray  # municipalities x structural (standardised)
    muni: np.ndarray  # cell -> municipality
    year: np.ndarray  # cell -> year
    slot: np.ndarray  # cell -> municipality-year slot
    muni_country: np.ndarray  # municipality -> country
    slot_muni: np.ndarray  # slot -> municipality
    slot_year: np.ndarray  # slot -> year
    countries: tuple[str, ...]
    municipalities: tuple[str, ...]
    years: tuple[int, ...]
    features: tuple[str, ...]
    structural: tuple[str, ...]
    structural_mean: np.ndarray
    structural_sd: np.ndarray
    persons: np.ndarray  # per municipality
    person_years: np.ndarray  # per municipality
    events: np.ndarray  # outcomes per municipality
    slot_person_years: np.ndarray
    slot_events: np.ndarray
    n_persons: int
    n_person_years: int
    bands: Mapping[str, tuple[float, ...]]


def _bad(what: str, expected: str, found: str, fix: str, kind: type[Exception] = DataError) -> Exception:
    return kind(format_error(what=what, expected=expected, found=found, fix=fix))


def _bands(value: Mapping[str, Sequence[float]] | None, risk: list[str]) -> dict[str, tuple[float, ...]]:
    chosen = AGE_BANDS if value is None else value
    if not isinstance(chosen, Mapping):
        raise _bad(
            "bands", "a mapping column -> band edges", repr(value), "e.g. {'age': (20, 25, 30)}", SpecificationError
        )
    out: dict[str, tuple[float, ...]] = {}
    for col, edges in chosen.items():
        cuts = tuple(float(e) for e in edges)
        if not cuts or any(b <= a for a, b in itertools.pairwise(cuts)):
            raise _bad(f"bands[{col!r}]", "increasing band edges", repr(edges), "e.g. (20, 25, 30)", SpecificationError)
        if col in risk:
            out[str(col)] = cuts
    return out


def _band_label(col: str, lo: float, hi: float | None) -> str:
    return f"{col}[{lo:g}+]" if hi is None else f"{col}[{lo:g}-{hi:g})"


def _features(
    frame: pd.DataFrame, risk: list[str], bands: Mapping[str, tuple[float, ...]]
) -> tuple[np.ndarray, list[str]]:
    """Return the (uncentred) feature matrix: banded columns as indicators (first band the reference)."""
    columns: list[np.ndarray] = []
    names: list[str] = []
    for col in risk:
        values = frame[col].to_numpy(dtype=float)
        if col in bands:
            edges = bands[col]
            band = np.searchsorted(np.asarray(edges), values, side="right")
            for k, lo in enumerate(edges, start=1):
                hi = edges[k] if k < len(edges) else None
                columns.append((band == k).astype(float))
                names.append(_band_label(col, lo, hi))
        else:
            columns.append(values)
            names.append(col)
    matrix = np.column_stack(columns) if columns else np.zeros((len(frame), 0))
    keep = [j for j in range(matrix.shape[1]) if matrix[:, j].std() > 0]
    dropped = [names[j] for j in range(len(names)) if j not in keep]
    if dropped:
        raise _bad(
            f"risk factor column(s) {dropped}",
            "variation (a constant column or an empty band is not identified next to the intercept)",
            "a single value",
            "drop the column or change its bands",
        )
    return matrix, names


def _structural(
    frame: pd.DataFrame, structural: list[str], muni: str, municipalities: pd.DataFrame | None
) -> pd.DataFrame:
    """Return one row per municipality of ``frame`` with the structural columns (from data or the table)."""
    ids = pd.Index(pd.unique(frame[muni]))
    in_data = [c for c in structural if c in frame.columns]
    from_table = [c for c in structural if c not in frame.columns]
    out = pd.DataFrame(index=ids)
    if in_data:
        spread = frame.groupby(muni, sort=False)[in_data].nunique(dropna=False)
        varying = [c for c in in_data if int(spread[c].max()) > 1]
        if varying:
            raise _bad(
                f"structural column(s) {varying}",
                "one value per municipality (municipality-level conditions)",
                "values varying within municipalities",
                "pass person-level columns as risk_factors, or aggregate them per municipality",
            )
        out = out.join(frame.groupby(muni, sort=False)[in_data].first())
    if from_table:
        if municipalities is None:
            raise _bad(
                f"structural column(s) {from_table}",
                "present in data or in municipalities=",
                "missing in data and no municipality table",
                "pass municipalities=store.municipalities()",
            )
        table = require_frame(municipalities, "municipalities")
        require_columns(table, [muni, *from_table], "municipalities")
        if table[muni].duplicated().any():
            raise _bad(
                f"column {muni!r} of municipalities",
                "one row per municipality",
                f"{int(table[muni].duplicated().sum())} duplicated ids",
                "drop duplicates",
            )
        absent = ids.difference(pd.Index(table[muni]))
        if len(absent):
            raise _bad(
                "municipalities table",
                "a row for every municipality of data",
                f"{len(absent)} missing (e.g. {', '.join(map(str, absent[:3]))})",
                "pass the full municipality table",
            )
        out = out.join(table.set_index(muni)[from_table])
    require_numeric(out, structural, "structural")
    require_no_missing(out, structural, "structural conditions per municipality")
    return out[structural]


def build_cells(
    data: pd.DataFrame,
    *,
    outcome: str,
    risk_factors: Sequence[str] | str | None,
    structural: Sequence[str] | str | None,
    municipality: str,
    country: str,
    year: str,
    person: str | None,
    municipalities: pd.DataFrame | None,
    bands: Mapping[str, Sequence[float]] | None,
    pool_countries: bool,
) -> Cells:
    """Validate ``data`` and collapse its person-years into binomial cells (never mutates ``data``)."""
    frame = require_frame(data)
    risk = column_names(risk_factors, "risk_factors")
    struct = column_names(structural, "structural")
    for name, value in (("municipality", municipality), ("country", country), ("year", year)):
        if not isinstance(value, str):
            raise _bad(name, "a column name (str)", repr(value), f"e.g. {name}='{name}'", SpecificationError)
    both = set(risk) & set(struct)
    if both:
        raise _bad(
            "risk_factors and structural", "disjoint", f"both name {sorted(both)}", "name each once", SpecificationError
        )
    used = list(dict.fromkeys([outcome, municipality, country, year, *risk, *([person] if person else [])]))
    require_columns(frame, used)
    require_no_missing(frame, used)
    require_numeric(frame, [outcome, *risk], "outcome/risk factor")
    values = pd.unique(frame[outcome])
    if not set(np.asarray(values).tolist()) <= {0, 1}:
        shown = ", ".join(map(str, sorted(values.tolist(), key=float)[:5]))
        raise _bad(
            f"outcome column {outcome!r}",
            "binary values 0/1 (a logistic model of e.g. NEET status)",
            f"values {shown}{', ...' if len(values) > 5 else ''}",
            "recode the outcome to 0/1",
        )
    nested = frame.groupby(municipality, sort=False)[country].nunique()
    if int(nested.max()) > 1:
        raise _bad(
            f"columns {municipality!r} and {country!r}",
            "every municipality within one country",
            f"{int((nested > 1).sum())} municipalities in several countries",
            "use unique municipality codes (e.g. prefixed with the country) or fix the country column",
        )
    counts = frame.groupby(country, sort=True)[municipality].nunique()
    if len(counts) > 1 and not pool_countries:
        raise _bad(
            f"column {country!r}",
            "one country (the federated design fits each country where its data live)",
            f"{len(counts)} countries ({', '.join(map(str, counts.index))})",
            "fit one country at a time (data[data.country == 'NO']) or pass pool_countries=True",
            SpecificationError,
        )
    few = counts[counts < MIN_MUNICIPALITIES]
    if len(few):
        raise _bad(
            f"municipalities per country in {municipality!r}",
            f"at least {MIN_MUNICIPALITIES} (deviance is relative to the other municipalities; deciles need ten)",
            ", ".join(f"{c}: {n}" for c, n in few.items()),
            "use all municipalities of the country",
        )
    n_years = frame[year].nunique()
    if n_years < MIN_YEARS:
        raise _bad(
            f"column {year!r}",
            f"at least {MIN_YEARS} years (consistency across years is part of the model)",
            f"{n_years} year",
            "use the panel of all years",
        )
    band_map = _bands(bands, risk)
    struct_frame = _structural(frame, struct, municipality, municipalities)
    raw, features = _features(frame, risk, band_map)
    x = raw - raw.mean(axis=0) if raw.shape[1] else raw

    country_codes, countries = pd.factorize(frame[country], sort=True)
    muni_codes, munis = pd.factorize(frame[municipality], sort=True)
    year_codes, years = pd.factorize(frame[year], sort=True)
    muni_country = np.zeros(len(munis), dtype=np.int64)
    muni_country[muni_codes] = country_codes
    y = frame[outcome].to_numpy(dtype=np.int64)

    svals = struct_frame.loc[munis].to_numpy(dtype=float) if struct else np.zeros((len(munis), 0))
    s_mean = svals.mean(axis=0) if struct else np.zeros(0)
    s_sd = svals.std(axis=0) if struct else np.zeros(0)
    constant = [c for c, sd in zip(struct, s_sd, strict=True) if sd == 0]
    if constant:
        raise _bad(
            f"structural column(s) {constant}",
            "variation across municipalities",
            "a single value",
            "drop the column",
        )
    s = (svals - s_mean) / s_sd if struct else svals

    n_years_total = len(years)
    slot_code = muni_codes.astype(np.int64) * n_years_total + year_codes
    slots, slot_of_row = np.unique(slot_code, return_inverse=True)
    key = pd.DataFrame(np.column_stack([slot_of_row, raw])) if raw.shape[1] else pd.DataFrame({"s": slot_of_row})
    codes, _ = pd.factorize(pd.MultiIndex.from_frame(key) if raw.shape[1] else key["s"], sort=True)
    codes = np.asarray(codes, dtype=np.int64)
    first = np.unique(codes, return_index=True)[1]
    k = first.size
    n = np.bincount(codes, minlength=k).astype(np.int64)
    ysum = np.bincount(codes, weights=y, minlength=k).astype(np.int64)

    person_ids = frame[person] if person else pd.Series(np.arange(len(frame)))
    persons = (
        pd.Series(person_ids.to_numpy()).groupby(muni_codes).nunique().reindex(range(len(munis)), fill_value=0)
    ).to_numpy(dtype=np.int64)
    py = np.bincount(muni_codes, minlength=len(munis)).astype(np.int64)
    events = np.bincount(muni_codes, weights=y, minlength=len(munis)).astype(np.int64)
    slot_py = np.bincount(slot_of_row, minlength=slots.size).astype(np.int64)
    slot_events = np.bincount(slot_of_row, weights=y, minlength=slots.size).astype(np.int64)
    if raw.shape[1]:
        pattern, first_of_pattern = _patterns(raw[first])
        xp = x[first][first_of_pattern]
    else:
        pattern, xp = np.zeros(k, dtype=np.int64), np.zeros((1, 0))
    if x.shape[1] and k > 0.5 * len(frame):
        warnings.warn(
            f"{k} cells for {len(frame)} person-years: risk factors with many values prevent collapsing, "
            "so sampling is slow; band continuous risk factors (bands={'col': (edges...)}).",
            O4OWarning,
            stacklevel=3,
        )
    arrays = {
        "n": n,
        "y": ysum,
        "pattern": pattern,
        "xp": np.ascontiguousarray(xp),
        "s": np.ascontiguousarray(s),
        "muni": muni_codes[first].astype(np.int64),
        "year": year_codes[first].astype(np.int64),
        "slot": slot_of_row[first].astype(np.int64),
        "muni_country": muni_country,
        "slot_muni": (slots // n_years_total).astype(np.int64),
        "slot_year": (slots % n_years_total).astype(np.int64),
        "structural_mean": s_mean,
        "structural_sd": s_sd,
        "persons": persons,
        "person_years": py,
        "events": events,
        "slot_person_years": slot_py,
        "slot_events": slot_events,
    }
    for arr in arrays.values():
        arr.flags.writeable = False
    return Cells(
        **arrays,
        countries=tuple(map(str, countries)),
        municipalities=tuple(map(str, munis)),
        years=tuple(int(v) for v in years),
        features=tuple(features),
        structural=tuple(struct),
        n_persons=int(person_ids.nunique()),
        n_person_years=len(frame),
        bands=band_map,
    )


def _patterns(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the pattern index of every row of ``values`` and the first row of every pattern."""
    codes, _ = pd.factorize(pd.MultiIndex.from_arrays([values[:, j] for j in range(values.shape[1])]), sort=True)
    codes = np.asarray(codes, dtype=np.int64)
    return codes, np.unique(codes, return_index=True)[1]


def tail_count(n_municipalities: int, tail: float) -> int:
    """Return how many municipalities form the top (or bottom) ``tail`` share (at least one)."""
    return max(1, math.ceil(tail * n_municipalities - 1e-9))


__all__ = ["AGE_BANDS", "MIN_MUNICIPALITIES", "RISK_FACTORS", "STRUCTURAL", "Cells", "build_cells", "tail_count"]

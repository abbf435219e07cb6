"""Writing a world as raw extracts shaped like the real registers (see registers.formats).

The inverse of harmonisation: monthly benefit states become spells (NO, SE) or weekly
DREAM codes (DK); earnings become monthly long tables; persons become constant tables
(NO, DK) or annual LISA files (SE). Random details that harmonisation must see through
(spell start/end days, a blank week inside a benefit month, levels within an education
band, days within the exit month) come from a stream derived from the world's seed, so
the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from o4o_causal import __version__
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.registers import formats
from o4o_causal.synth._common import STATE_CODE, CohortBlock, yyyymm
from o4o_causal.synth.dream import dream_table
from o4o_causal.synth.spells import spell_table

if TYPE_CHECKING:
    from o4o_causal.synth.world import World

FORMATS = ("parquet", "csv")
_BACKGROUND = {label: code for code, label in formats.BACKGROUND_CODES.items()}


def _education_ranges(country: str) -> dict[str, tuple[int, int]]:
    """Level codes of each band (inverse of formats.EDUCATION_BANDS within EDUCATION_LEVELS)."""
    first, last = formats.EDUCATION_LEVELS[country]
    low, medium = formats.EDUCATION_BANDS[country]
    return {"low": (first, low), "medium": (low + 1, medium), "high": (medium + 1, last)}


def _day_in_month(rng: np.random.Generator, months: np.ndarray, lo: int = 1, hi: int | None = None) -> np.ndarray:
    """Random dates within the given month indices (days lo..hi, hi default = last day)."""
    start = (np.datetime64("2000-01", "M") + months.astype(np.int64)).astype("datetime64[D]")
    end = (np.datetime64("2000-01", "M") + months.astype(np.int64) + 1).astype("datetime64[D]")
    last = (end - start).astype(np.int64)
    top = last if hi is None else np.minimum(hi, last)
    offset = rng.integers(0, 1 << 30, months.size) % (top - lo + 1) + lo - 1
    return np.asarray(start + offset.astype("timedelta64[D]"))


def _native_names(country: str, table: str) -> list[str]:
    return list(formats.COLUMNS[country][table])


def _population(country: str, blocks: list[CohortBlock], ids: list[np.ndarray]) -> pd.DataFrame:
    p = pd.concat([b.persons.assign(cohort=b.cohort) for b in blocks], ignore_index=True)
    values = [
        np.concatenate(ids),
        p["cohort"],
        yyyymm(p["index_month"].to_numpy()),
        yyyymm(p["window_start"].to_numpy()),
        yyyymm(p["window_end"].to_numpy()),
    ]
    return pd.DataFrame(dict(zip(_native_names(country, "population"), values, strict=True)))


def _education_level(rng: np.random.Generator, country: str, band: pd.Series) -> np.ndarray:
    ranges = _education_ranges(country)
    lo = band.map({k: v[0] for k, v in ranges.items()}).to_numpy()
    hi = band.map({k: v[1] for k, v in ranges.items()}).to_numpy()
    return (lo + rng.integers(0, 1 << 30, lo.size) % (hi - lo + 1)).astype(np.int64)


def _exit_dates(rng: np.random.Generator, exit_month: np.ndarray) -> pd.Series:
    dates = _day_in_month(rng, np.maximum(exit_month, 0))
    return pd.Series(np.where(exit_month >= 0, dates, np.datetime64("NaT")).astype("datetime64[ms]"))


def _constant_table(rng: np.random.Generator, country: str, p: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    code = p["municipality_id"].str.split("-", n=1).str[1].to_numpy()
    sex = np.where(p["female"] == 1, "K", "M") if country == "DK" else np.where(p["female"] == 1, 2, 1)
    values = [
        ids,
        p["birth_year"].to_numpy(),
        sex,
        p["background"].map(_BACKGROUND).to_numpy(),
        code,
        _education_level(rng, country, p["education"]),
        p["n_children"].to_numpy(),
        p["health_problem"].to_numpy(),
        _exit_dates(rng, p["exit_month"].to_numpy()),
    ]
    return pd.DataFrame(dict(zip(_native_names(country, "persons"), values, strict=True)))


def _earnings_table(country: str, blocks: list[CohortBlock], ids: list[np.ndarray]) -> pd.DataFrame:
    parts = []
    for block, native in zip(blocks, ids, strict=True):
        rows, cols = np.nonzero(block.earnings > 0)
        parts.append(
            pd.DataFrame(
                {"id": native[rows], "m": yyyymm(block.window_start[rows] + cols), "v": block.earnings[rows, cols]}
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out.columns = _native_names(country, "earnings")
    return out


def _followup_table(rng: np.random.Generator, country: str, p: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    has = p["followup_month"].to_numpy() >= 0
    dates = _day_in_month(rng, p["followup_month"].to_numpy()[has]).astype("datetime64[ms]")
    return pd.DataFrame(dict(zip(_native_names(country, "followup"), [ids[has], dates], strict=True)))


def _lisa_tables(rng: np.random.Generator, blocks: list[CohortBlock], ids: list[np.ndarray]) -> dict[str, pd.DataFrame]:
    p = pd.concat([b.persons for b in blocks], ignore_index=True)
    native = np.concatenate(ids)
    level = _education_level(rng, "SE", p["education"])
    code = p["municipality_id"].str.split("-", n=1).str[1].to_numpy()
    first_year = 2000 + p["window_start"].to_numpy() // 12
    last_year = 2000 + p["window_end"].to_numpy() // 12
    exit_year = np.where(p["exit_month"] >= 0, 2000 + p["exit_month"].to_numpy() // 12, 9999)
    november = _november_employment(blocks)
    tables = {}
    for year in range(int(first_year.min()), int(last_year.max()) + 1):
        sel = (first_year <= year) & (last_year >= year) & (exit_year >= year)
        if not sel.any():
            continue
        values = [
            native[sel],
            np.full(int(sel.sum()), year),
            p["birth_year"].to_numpy()[sel],
            np.where(p["female"].to_numpy()[sel] == 1, 2, 1),
            p["background"].map(_BACKGROUND).to_numpy()[sel],
            code[sel],
            level[sel],
            p["n_children"].to_numpy()[sel],
            p["health_problem"].to_numpy()[sel],
            november.get(year, np.zeros(len(p), dtype=np.int64))[sel],
        ]
        tables[f"lisa_{year}"] = pd.DataFrame(dict(zip(_native_names("SE", "lisa"), values, strict=True)))
    return tables


def _november_employment(blocks: list[CohortBlock]) -> dict[int, np.ndarray]:
    """Employed (0/1) in November of each year, per person (stacked over blocks)."""
    out: dict[int, list[np.ndarray]] = {}
    years = range(2008, 2025)
    for block in blocks:
        states = block.states()
        for year in years:
            rel = (year - 2000) * 12 + 10 - block.window_start
            ok = (rel >= 0) & (rel < block.months)
            value = np.zeros(block.n, dtype=np.int64)
            s = states[np.flatnonzero(ok), rel[ok]]
            value[ok] = np.isin(s, [STATE_CODE["EMP"], STATE_CODE["EMP_LOW"]]).astype(np.int64)
            out.setdefault(year, []).append(value)
    return {year: np.concatenate(v) for year, v in out.items()}


def _events_table(rng: np.random.Generator, p: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    has = p["exit_month"].to_numpy() >= 0
    dates = _exit_dates(rng, p["exit_month"].to_numpy())[has].to_numpy()
    reason = np.where(rng.random(int(has.sum())) < 0.6, "UTV", "DOD")
    return pd.DataFrame(dict(zip(_native_names("SE", "events"), [ids[has], dates, reason], strict=True)))


def country_tables(world: World, country: str, rng: np.random.Generator) -> dict[str, pd.DataFrame | pa.Table]:
    """Return the raw tables of one country, keyed by file stem."""
    members = [i for i, b in enumerate(world.blocks) if b.country == country]
    blocks = [world.blocks[i] for i in members]
    ids = [world.native_ids[i] for i in members]
    persons = pd.concat([b.persons for b in blocks], ignore_index=True)
    native = np.concatenate(ids)
    tables: dict[str, pd.DataFrame | pa.Table] = {"population": _population(country, blocks, ids)}
    if country == "SE":
        tables.update(_lisa_tables(rng, blocks, ids))
        tables["events"] = _events_table(rng, persons, native)
    else:
        tables["persons"] = _constant_table(rng, country, persons, native)
    if country == "DK":
        tables["dream"] = dream_table(rng, blocks, ids)
    else:
        tables["spells"] = spell_table(rng, country, blocks, ids)
    tables["earnings"] = _earnings_table(country, blocks, ids)
    tables["followup"] = _followup_table(rng, country, persons, native)
    return tables


def _write_table(table: pd.DataFrame | pa.Table, path: Path, fmt: str) -> None:
    arrow = table if isinstance(table, pa.Table) else pa.Table.from_pandas(table, preserve_index=False)
    for i, column in enumerate(arrow.schema):
        if pa.types.is_timestamp(column.type):  # register dates are calendar dates
            arrow = arrow.set_column(i, column.name, arrow.column(i).cast(pa.date32()))
    if fmt == "parquet":
        pq.write_table(arrow, path, compression="zstd")
    else:  # DuckDB writes plain CSV: unquoted header, ISO dates, empty cells for missing
        con = duckdb.connect()
        try:
            con.register("arrow_table", arrow)
            con.execute(f"COPY arrow_table TO '{path.as_posix()}' (FORMAT csv, HEADER true)")
        finally:
            con.close()


def write_world(world: World, path: Path, *, fmt: str = "parquet", overwrite: bool = False) -> Path:
    """Write ``<path>/raw`` (extracts) and ``<path>/truth`` (ground truth) atomically.

    Raises
    ------
    SpecificationError
        For an unknown format.
    DataError
        If ``<path>/raw`` or ``<path>/truth`` exists and ``overwrite`` is false: raw
        extracts are never overwritten by accident.
    """
    if fmt not in FORMATS:
        raise SpecificationError(
            format_error(what="fmt", expected=f"one of {FORMATS}", found=repr(fmt), fix="use parquet")
        )
    path.mkdir(parents=True, exist_ok=True)
    existing = [d for d in ("raw", "truth") if (path / d).exists()]
    if existing and not overwrite:
        raise DataError(
            format_error(
                what=f"output folder {path}",
                expected="no existing raw/ or truth/ folder",
                found=f"{', '.join(existing)} already present",
                fix="choose another folder, or pass overwrite=True (--overwrite) to replace them",
            )
        )
    tmp = Path(tempfile.mkdtemp(prefix=".world-", dir=path))
    try:
        _write_into(world, tmp, fmt)
        for name in ("raw", "truth"):
            if (path / name).exists():
                shutil.rmtree(path / name)
            os.replace(tmp / name, path / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _write_into(world: World, tmp: Path, fmt: str) -> None:
    seed_seq = np.random.SeedSequence([world.seed, 7])
    (tmp / "raw").mkdir()
    _write_table(world.municipalities, tmp / "raw" / f"municipalities.{fmt}", fmt)
    for k, country in enumerate(formats.COUNTRIES):
        folder = tmp / "raw" / country
        folder.mkdir()
        rng = np.random.default_rng(seed_seq.spawn(3)[k])
        for stem, table in country_tables(world, country, rng).items():
            _write_table(table, folder / f"{stem}.{fmt}", fmt)
    truth_dir = tmp / "truth"
    truth_dir.mkdir()
    for name, frame in world.truth.frames().items():
        _write_table(frame, truth_dir / f"{name}.parquet", "parquet")
    _write_table(world.calibration(), truth_dir / "calibration.parquet", "parquet")
    meta = {
        "scale": world.scale,
        "seed": world.seed,
        "settings": world.settings,
        "o4o_causal_version": __version__,
        "neet_rule": world.truth.neet_rule,
        "confounder": world.truth.confounder,
    }
    (truth_dir / "world.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")

"""Ingestion of a raw extract folder into a harmonised DuckDB store, atomically.

The store is built in a temporary file next to its final location and moved into place
with :func:`os.replace` only when every file validated and every table was written; on
any error the temporary file is removed and an existing store is left untouched. Raw
files are only read. The store's ``_meta`` table records the ingestion time, the
package and rules versions and the SHA-256 of every raw file (used by
:func:`~o4o_causal.registers.store.open_store` to detect a stale store).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

import duckdb
from tqdm import tqdm

from o4o_causal.exceptions import DataError, format_error
from o4o_causal.registers import checks, formats, harmonise
from o4o_causal.registers.dream import load_dream
from o4o_causal.registers.files import MUNICIPALITY_CODE_DIGITS, Extract, discover
from o4o_causal.registers.readers import ident, load_raw, one_row, sql_str, type_columns
from o4o_causal.registers.validate import Table

#: DuckDB memory limit during ingestion (it spills to a folder next to the store).
MEMORY_LIMIT = "6GB"

Step = tuple[str, Callable[[], None]]


def _stage(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    spec: dict[str, tuple[str, str]],
    *,
    pad: dict[str, str] | None = None,
) -> Table:
    raw = f"r_{table}"
    types = load_raw(con, path, raw)
    type_columns(con, path=path, raw=raw, types=types, spec=spec, table=table, pad=pad)
    (kind,) = one_row(con, "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [raw])
    con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {ident(raw)}")
    return Table(table, path, {meaning: native for native, (meaning, _) in spec.items()})


def _municipalities(con: duckdb.DuckDBPyConnection, extract: Extract) -> None:
    spec = {c: (c, d) for c, d in formats.MUNICIPALITY_COLUMNS.items()}
    width = "CASE upper(trim(CAST(country AS VARCHAR))) WHEN 'DK' THEN 3 ELSE 4 END"
    table = _stage(con, extract.municipalities, "s_municipalities", spec, pad={"code": width})
    table = Table(table.name, table.path, table.native, key=("municipality_id",))
    checks.check_municipalities(con, table)


def _population(con: duckdb.DuckDBPyConnection, extract: Extract, country: str) -> Table:
    path = extract.files[country]["population"]
    table = _stage(con, path, f"s_{country}_population", dict(formats.COLUMNS[country]["population"]))
    checks.check_population(con, table)
    return table


def _attributes(con: duckdb.DuckDBPyConnection, extract: Extract, country: str, pop: Table) -> None:
    pad = {"municipality_code": str(MUNICIPALITY_CODE_DIGITS[country])}
    files = extract.files[country]
    if country != "SE":
        persons = _stage(
            con, files["persons"], f"s_{country}_persons", dict(formats.COLUMNS[country]["persons"]), pad=pad
        )
        checks.check_persons(con, persons, country)
        checks.check_coverage(con, pop, persons)
        return
    names = []
    for kind in sorted(k for k in files if k.startswith("lisa_")):
        year = int(kind.removeprefix("lisa_"))
        lisa = _stage(con, files[kind], f"s_SE_{kind}", dict(formats.COLUMNS["SE"]["lisa"]), pad=pad)
        _lisa_year_in_window(con, lisa, year)
        checks.check_lisa(con, lisa, year)
        names.append(lisa.name)
    con.execute("CREATE TABLE s_SE_lisa AS " + " UNION ALL ".join(f"SELECT * FROM {n}" for n in names))
    folder = files["population"].parent
    target = Table("s_SE_lisa", folder / "lisa_<index year>", {"year": "ar", "person": "lopnr"})
    checks.check_coverage(con, pop, target, lisa=True)
    events = _stage(con, files["events"], "s_SE_events", dict(formats.COLUMNS["SE"]["events"]))
    checks.check_events(con, events, pop.name)


def _lisa_year_in_window(con: duckdb.DuckDBPyConnection, lisa: Table, year: int) -> None:
    if formats.STUDY_START // 100 <= year <= formats.STUDY_END // 100:
        return
    (rows,) = one_row(con, f"SELECT count(*) FROM {ident(lisa.name)}")
    raise DataError(
        format_error(
            what=f"file {lisa.path}, column {lisa.col('year')!r} (rule: study window)",
            expected=f"a year in {formats.STUDY_START // 100}..{formats.STUDY_END // 100}",
            found=f"year {year} ({rows} rows)",
            fix="remove LISA files of years outside the study window from the extract folder",
        )
    )


def _activity(con: duckdb.DuckDBPyConnection, extract: Extract, country: str, pop: Table) -> None:
    files = extract.files[country]
    cols = formats.COLUMNS[country]
    if country == "DK":
        load_dream(con, files["dream"], pop.name)
    else:
        spells = _stage(con, files["spells"], f"s_{country}_spells", dict(cols["spells"]))
        checks.check_spells(con, spells, country, pop.name)
    earnings = _stage(con, files["earnings"], f"s_{country}_earnings", dict(cols["earnings"]))
    checks.check_earnings(con, earnings, pop.name)
    followup = _stage(con, files["followup"], f"s_{country}_followup", dict(cols["followup"]))
    checks.check_followup(con, followup, pop.name)


def _harmonise(con: duckdb.DuckDBPyConnection, countries: list[str]) -> None:
    harmonise.build_population(con, countries)
    harmonise.build_persons(con, countries)
    benefits = [
        harmonise.build_dream_benefits(con) if c == "DK" else harmonise.build_spell_benefits(con, c) for c in countries
    ]
    harmonise.build_earnings(con, countries)
    harmonise.build_panel(con, benefits)
    harmonise.build_municipalities(con)


def _steps(con: duckdb.DuckDBPyConnection, extract: Extract) -> list[Step]:
    countries = [c for c in formats.COUNTRIES if c in extract.files]
    pops: dict[str, Table] = {}
    steps: list[Step] = [("municipalities", partial(_municipalities, con, extract))]

    def population(c: str) -> None:
        pops[c] = _population(con, extract, c)

    def attributes(c: str) -> None:
        _attributes(con, extract, c, pops[c])

    def activity(c: str) -> None:
        _activity(con, extract, c, pops[c])

    steps += [(f"{c} population", partial(population, c)) for c in countries]
    steps += [(f"{c} persons", partial(attributes, c)) for c in countries]
    steps += [(f"{c} benefits, earnings", partial(activity, c)) for c in countries]
    steps += [
        ("lookups", partial(harmonise.create_lookups, con)),
        ("harmonise", partial(_harmonise, con, countries)),
    ]
    return steps


def _connect(tmp: Path, spill: Path) -> duckdb.DuckDBPyConnection:
    """Open the staging database in ``spill`` and attach the new store file as ``store``.

    Staging tables live in a disk-backed database of their own (so DuckDB can evict
    them under the memory limit) that is deleted afterwards; the store file receives
    only the final tables.
    """
    from o4o_causal.config import threads

    spill.mkdir(parents=True)
    con = duckdb.connect(str(spill / "stage.duckdb"))
    try:
        con.execute(f"SET threads = {threads()}")
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute(f"SET temp_directory = {sql_str(str(spill / 'swap'))}")
        con.execute("SET preserve_insertion_order = false")  # ORDER BY still orders the store tables
        con.execute(f"ATTACH {sql_str(str(tmp))} AS {harmonise.STORE}")
    except BaseException:
        con.close()
        raise
    return con


def _write_meta(con: duckdb.DuckDBPyConnection, hashes: dict[str, str]) -> None:
    from o4o_causal import __version__

    rows = [
        ("ingested_at", dt.datetime.now(dt.UTC).isoformat(timespec="seconds")),
        ("o4o_causal_version", __version__),
        ("rules_version", harmonise.RULES_VERSION),
        ("duckdb_version", duckdb.__version__),
    ]
    rows += [(f"sha256:{label}", digest) for label, digest in sorted(hashes.items())]
    con.execute(f"CREATE TABLE {harmonise.STORE}._meta (key VARCHAR, value VARCHAR)")
    con.executemany(f"INSERT INTO {harmonise.STORE}._meta VALUES (?, ?)", rows)


def raw_hashes(extract: Extract) -> dict[str, str]:
    """Return ``relative path -> SHA-256`` of every raw file of ``extract``."""
    from o4o_causal._io import sha256_file

    return {extract.label(p): sha256_file(p) for p in extract.all_files()}


def _check_paths(raw: Path, store: Path, overwrite: bool) -> None:
    if store.is_relative_to(raw):
        raise DataError(
            format_error(
                what=f"store path {store}",
                expected="a path outside the raw extract folder (raw files are never modified)",
                found=f"a path inside {raw}",
                fix="write the store next to raw/, e.g. <extract>/store.duckdb",
            )
        )
    if store.exists() and not overwrite:
        raise DataError(
            format_error(
                what=f"store path {store}",
                expected="no existing file",
                found="an existing store",
                fix="pass overwrite=True to rebuild it, or choose another path",
            )
        )


def _build(tmp: Path, spill: Path, extract: Extract, hashes: dict[str, str], progress: bool) -> None:
    con = _connect(tmp, spill)
    try:
        bar = tqdm(_steps(con, extract), desc="ingest", unit="step", disable=not progress)
        for name, step in bar:
            bar.set_postfix_str(name)
            step()
        _write_meta(con, hashes)
        con.execute(f"CHECKPOINT {harmonise.STORE}")
        con.execute(f"DETACH {harmonise.STORE}")
    finally:
        con.close()


def ingest(
    raw_dir: str | os.PathLike[str],
    store_path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Validate and harmonise a raw extract folder into a DuckDB store.

    Parameters
    ----------
    raw_dir
        Folder with ``municipalities.<ext>`` and country folders ``NO``, ``SE``, ``DK``
        (each optional) in the shapes of :mod:`o4o_causal.registers.formats`.
    store_path
        The DuckDB file to write (outside ``raw_dir``).
    overwrite
        Replace an existing store (only once the new one is complete).
    progress
        Show a progress bar over the ingestion steps.

    Returns
    -------
    Path
        The store path.

    Raises
    ------
    DataError
        If a file is missing, ambiguous or unreadable, or any validation rule fails (the
        message names file, column, rule, number of offending rows and example keys).
    """
    raw, store = Path(raw_dir).resolve(), Path(store_path).resolve()
    extract = discover(raw)
    _check_paths(raw, store, overwrite)
    hashes = raw_hashes(extract)
    store.parent.mkdir(parents=True, exist_ok=True)
    tmp = store.parent / f".{store.name}.{uuid.uuid4().hex}.partial"
    spill = Path(f"{tmp}.spill")
    try:
        _build(tmp, spill, extract, hashes, progress)
        Path(f"{store}.wal").unlink(missing_ok=True)
        os.replace(tmp, store)
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    return store

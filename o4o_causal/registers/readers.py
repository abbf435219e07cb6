"""Find raw extract files and load them into DuckDB staging tables with checked types.

Every raw file is loaded in two steps. :func:`load_raw` exposes the file as a DuckDB
relation whose column names are lower-cased (real extracts vary: SAS upper-cases):
``.parquet`` through ``read_parquet`` (a view, native types), ``.csv`` through
``read_csv`` with every column read as text, ``.dta``/``.sas7bdat``/``.xpt`` through
pyreadstat in chunks. :func:`type_columns` then checks that the expected columns exist
(suggesting the closest name when one is misnamed), parses each column to its contract
dtype (``"int"``, ``"str"``, ``"date"``, ``"float"``, ``"yyyymm"``) in one DuckDB query,
refuses values that do not parse, and writes a staging table whose columns carry the
harmonised meaning (``person``, ``start_date`` ...). Raw files are only read.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from o4o_causal.exceptions import DataError, format_error

_CHUNK_ROWS = 500_000
_INT_FAMILY = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER")
_INT_FAMILY_MORE = ("UBIGINT", "UHUGEINT", "BOOLEAN")
_FLOAT_FAMILY = ("FLOAT", "DOUBLE", "REAL")


def sql_str(text: str) -> str:
    """Quote ``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def one_row(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] | None = None) -> tuple[Any, ...]:
    """Run ``sql`` and return its only row, consuming the whole result.

    DuckDB refuses some connection calls (e.g. ``register``) while a result is only
    partly fetched, so single-row queries fetch everything.
    """
    rows = con.execute(sql, list(params or [])).fetchall()
    if len(rows) != 1:
        raise RuntimeError(f"expected one row from {sql!r}, got {len(rows)}")
    return tuple(rows[0])


def ident(name: str) -> str:
    """Quote ``name`` as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _read_error(path: Path, exc: Exception) -> DataError:
    return DataError(
        format_error(
            what=f"file {path}",
            expected="a readable file in its format (rule: readable file)",
            found=f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            fix="check that the file is complete and in the format its extension says",
        )
    )


def _lowercase_select(path: Path, columns: Sequence[str]) -> str:
    lower = [c.lower() for c in columns]
    dupes = sorted({c for c in lower if lower.count(c) > 1})
    if dupes:
        raise DataError(
            format_error(
                what=f"file {path}, column {dupes[0]!r}",
                expected="unique column names ignoring case (rule: unique column)",
                found=f"{lower.count(dupes[0])} columns named {dupes[0]!r} ignoring case",
                fix="drop or rename the duplicated columns",
            )
        )
    return ", ".join(f"{ident(c)} AS {ident(c.lower())}" for c in columns)


def _load_readstat(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> None:
    import pandas as pd
    import pyreadstat

    readers: dict[str, Any] = {
        "dta": pyreadstat.read_dta,
        "sas7bdat": pyreadstat.read_sas7bdat,
        "xpt": pyreadstat.read_xport,
    }
    reader = readers[path.suffix.lower().lstrip(".")]
    first = True
    for chunk, _meta in pyreadstat.read_file_in_chunks(
        reader, str(path), chunksize=_CHUNK_ROWS, dates_as_pandas_datetime=True
    ):
        frame: pd.DataFrame = chunk
        casts = []
        for col in frame.columns:
            kind = frame[col].dtype.kind
            target = "DOUBLE" if kind in "biuf" else ("TIMESTAMP" if kind == "M" else "VARCHAR")
            casts.append(f"CAST({ident(col)} AS {target}) AS {ident(str(col).lower())}")
        con.register("_readstat_chunk", frame)
        try:
            verb = f"CREATE TABLE {ident(name)} AS" if first else f"INSERT INTO {ident(name)}"
            con.execute(f"{verb} SELECT {', '.join(casts)} FROM _readstat_chunk")
        finally:
            con.unregister("_readstat_chunk")
        first = False


def load_raw(con: duckdb.DuckDBPyConnection, path: Path, name: str) -> dict[str, str]:
    """Expose a raw file as relation ``name`` with lower-case column names.

    Parameters
    ----------
    con
        Connection to load into.
    path
        The raw file (``.parquet``, ``.csv``, ``.dta``, ``.sas7bdat`` or ``.xpt``).
    name
        Name of the temporary view or table to create.

    Returns
    -------
    dict of str to str
        Lower-case column name -> DuckDB type.

    Raises
    ------
    DataError
        If the file cannot be read or two columns differ only in case.
    """
    ext = path.suffix.lower().lstrip(".")
    try:
        if ext in ("parquet", "csv"):
            source = (
                f"read_parquet({sql_str(str(path))})"
                if ext == "parquet"
                else f"read_csv({sql_str(str(path))}, all_varchar = true, header = true)"
            )
            cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
            select = _lowercase_select(path, cols)
            kind = "VIEW" if ext == "parquet" else "TABLE"
            con.execute(f"CREATE {kind} {ident(name)} AS SELECT {select} FROM {source}")
        else:
            _load_readstat(con, path, name)
    except duckdb.Error as exc:
        raise _read_error(path, exc) from exc
    except DataError:
        raise
    except Exception as exc:  # pyreadstat raises its own error types
        raise _read_error(path, exc) from exc
    rows = con.execute(f"DESCRIBE SELECT * FROM {ident(name)}").fetchall()
    types = {str(r[0]): str(r[1]) for r in rows}
    if ext not in ("parquet", "csv"):
        _lowercase_select(path, list(types))
    return types


def _family(duck_type: str) -> str:
    base = duck_type.upper().split("(")[0].strip()
    if base in _INT_FAMILY or base in _INT_FAMILY_MORE:
        return "int"
    if base in _FLOAT_FAMILY or base == "DECIMAL":
        return "float"
    if base == "VARCHAR":
        return "str"
    if base == "DATE":
        return "date"
    if base.startswith("TIMESTAMP"):
        return "timestamp"
    return "other"


def missing_sql(col: str, duck_type: str) -> str:
    """Return a SQL condition: raw ``col`` is missing (NULL, empty text or NaN)."""
    x, fam = ident(col), _family(duck_type)
    if fam == "str":
        return f"({x} IS NULL OR trim({x}) = '')"
    if fam == "float":
        return f"({x} IS NULL OR isnan(CAST({x} AS DOUBLE)))"
    return f"({x} IS NULL)"


def _parse_text(x: str, dtype: str) -> str:
    t = f"trim({x})"
    if dtype in ("int", "yyyymm"):
        number = f"TRY_CAST({t} AS DOUBLE)"  # integral numbers only: "12" and "12.0", not "12.5"
        return f"CASE WHEN {number} = trunc({number}) THEN TRY_CAST({t} AS BIGINT) END"
    if dtype == "float":
        return f"TRY_CAST({t} AS DOUBLE)"
    if dtype == "date":
        return f"COALESCE(TRY_CAST({t} AS DATE), CAST(TRY_CAST({t} AS TIMESTAMP) AS DATE))"
    return t


def parse_sql(col: str, duck_type: str, dtype: str) -> str:
    """Return a SQL expression parsing raw ``col`` to contract ``dtype`` (NULL if it fails).

    Parameters
    ----------
    col
        Raw (lower-case) column name.
    duck_type
        DuckDB type of the raw column.
    dtype
        Contract dtype: ``"int"``, ``"yyyymm"``, ``"float"``, ``"date"`` or ``"str"``.

    Returns
    -------
    str
        A SQL expression of type BIGINT, DOUBLE, DATE or VARCHAR.
    """
    x, fam = ident(col), _family(duck_type)
    integral = f"CASE WHEN {x} = trunc({x}) THEN TRY_CAST({x} AS BIGINT) END"
    if fam == "str":
        return _parse_text(x, dtype)
    if dtype in ("int", "yyyymm"):
        return {"int": f"TRY_CAST({x} AS BIGINT)", "float": integral}.get(fam, "CAST(NULL AS BIGINT)")
    if dtype == "float":
        return f"CAST({x} AS DOUBLE)" if fam in ("int", "float") else "CAST(NULL AS DOUBLE)"
    if dtype == "date":
        return {"date": x, "timestamp": f"CAST({x} AS DATE)"}.get(fam, "CAST(NULL AS DATE)")
    if fam == "float":
        return f"CAST({integral} AS VARCHAR)"
    return f"CAST({x} AS VARCHAR)"


def _missing_columns(path: Path, present: Sequence[str], expected: Sequence[str]) -> None:
    missing = [c for c in expected if c not in present]
    if not missing:
        return
    spare = [c for c in present if c not in expected]
    hints = []
    for col in missing:
        close = difflib.get_close_matches(col, spare, n=1, cutoff=0.5)
        hints.append(f"rename {close[0]!r} to {col!r}" if close else f"add column {col!r}")
    raise DataError(
        format_error(
            what=f"file {path}, column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}",
            expected=f"columns {', '.join(expected)} (rule: required column; names are case-insensitive)",
            found=f"{len(missing)} missing (present: {', '.join(present)})",
            fix="; ".join(hints),
        )
    )


def type_columns(
    con: duckdb.DuckDBPyConnection,
    *,
    path: Path,
    raw: str,
    types: Mapping[str, str],
    spec: Mapping[str, tuple[str, str]],
    table: str,
    pad: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> None:
    """Check and parse the contract columns of a raw relation into a staging table.

    Parameters
    ----------
    con
        Connection holding relation ``raw``.
    path
        The raw file (named in error messages).
    raw
        Relation created by :func:`load_raw`.
    types
        Its column types, as returned by :func:`load_raw`.
    spec
        ``native column -> (meaning, dtype)`` (from :data:`formats.COLUMNS`).
    table
        Staging table to create; its columns are the meanings, in ``spec`` order.
    pad
        ``meaning -> SQL width``: left-pad numeric codes with zeros to that width.
    extra
        ``name -> SQL expression`` of additional columns (e.g. a literal file label).

    Raises
    ------
    DataError
        If a column is missing (with the closest present name) or has values that do
        not parse (with their number and up to five examples).
    """
    _missing_columns(path, list(types), list(spec))
    parsed = {col: parse_sql(col, types[col], dtype) for col, (_, dtype) in spec.items()}
    missing = {col: missing_sql(col, types[col]) for col in spec}
    fails = {col: f"(NOT {missing[col]} AND ({parsed[col]}) IS NULL)" for col in spec}
    counts = one_row(
        con, f"SELECT {', '.join(f'count(*) FILTER (WHERE {f})' for f in fails.values())} FROM {ident(raw)}"
    )
    for (col, (_, dtype)), n_bad in zip(spec.items(), counts, strict=True):
        if n_bad:
            _type_error(con, path=path, raw=raw, col=col, dtype=dtype, n_bad=int(n_bad), where=fails[col], spec=spec)
    pads = dict(pad or {})
    exprs = []
    for col, (meaning, _) in spec.items():
        value = f"CASE WHEN {missing[col]} THEN NULL ELSE {parsed[col]} END"
        if meaning in pads and _family(types[col]) in ("int", "float"):
            width = pads[meaning]
            value = f"CASE WHEN length({value}) < {width} THEN lpad({value}, {width}, '0') ELSE {value} END"
        exprs.append(f"{value} AS {ident(meaning)}")
    exprs += [f"{sql} AS {ident(name)}" for name, sql in (extra or {}).items()]
    con.execute(f"CREATE TABLE {ident(table)} AS SELECT {', '.join(exprs)} FROM {ident(raw)}")


def _type_error(
    con: duckdb.DuckDBPyConnection,
    *,
    path: Path,
    raw: str,
    col: str,
    dtype: str,
    n_bad: int,
    where: str,
    spec: Mapping[str, tuple[str, str]],
) -> None:
    key = next((c for c, (meaning, _) in spec.items() if meaning == "person" and c != col), None)
    key_sql = f"CAST({ident(key)} AS VARCHAR)" if key else "NULL"
    rows = con.execute(
        f"SELECT {key_sql}, CAST({ident(col)} AS VARCHAR) FROM {ident(raw)} WHERE {where} LIMIT 5"
    ).fetchall()
    shown = ", ".join(f"{key}={k}: {v!r}" if key else repr(v) for k, v in rows)
    total = one_row(con, f"SELECT count(*) FROM {ident(raw)}")
    described = {
        "int": "integers",
        "yyyymm": "integer months YYYYMM",
        "float": "numbers",
        "date": "dates YYYY-MM-DD",
        "str": "text",
    }[dtype]
    raise DataError(
        format_error(
            what=f"file {path}, column {col!r}",
            expected=f"{described} (rule: type {dtype})",
            found=f"{n_bad} of {total[0]} rows that do not parse (examples: {shown})",
            fix=f"correct or blank those values so that column {col!r} holds {described} only",
        )
    )

"""Read access to a harmonised store: :class:`RegisterStore` and :func:`open_store`."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import duckdb
import pandas as pd

from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.registers import formats, schemas
from o4o_causal.registers.cohorts import cohort_frame, fetch
from o4o_causal.registers.files import discover
from o4o_causal.registers.harmonise import RULES_VERSION
from o4o_causal.registers.ingestion import ingest, raw_hashes
from o4o_causal.registers.readers import one_row

#: File name of the store inside an extract folder.
STORE_NAME = "store.duckdb"
_TABLES = ("persons", "panel", "municipalities", "_meta")


class RegisterStore:
    """Read-only view of a harmonised DuckDB store.

    Every method returns a pandas DataFrame validated with the pandera schemas of
    :mod:`o4o_causal.registers.schemas`.

    Parameters
    ----------
    path
        The ``.duckdb`` file written by :func:`~o4o_causal.registers.ingestion`.

    Raises
    ------
    DataError
        If the file is not a store (missing tables).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        try:
            self._con = duckdb.connect(str(self._path), read_only=True)
        except duckdb.Error as exc:
            raise DataError(
                format_error(
                    what=f"store {self._path}",
                    expected="a DuckDB file written by o4o_causal.registers.ingestion",
                    found=f"{type(exc).__name__}: {exc}",
                    fix="re-run the ingestion (o4o ingest) or pass the right path",
                )
            ) from exc
        present = {r[0] for r in self._con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        missing = [t for t in _TABLES if t not in present]
        if missing:
            self._con.close()
            raise DataError(
                format_error(
                    what=f"store {self._path}",
                    expected=f"tables {', '.join(_TABLES)}",
                    found=f"missing {', '.join(missing)}",
                    fix="re-run the ingestion into a fresh file",
                )
            )

    @property
    def path(self) -> Path:
        """The store file."""
        return self._path

    def meta(self) -> dict[str, str]:
        """Return the ``_meta`` table (ingestion time, versions, raw file hashes)."""
        return {str(k): str(v) for k, v in self._con.execute("SELECT key, value FROM _meta").fetchall()}

    def persons(self) -> pd.DataFrame:
        """Return the ``persons`` table (``formats.PERSONS_COLUMNS``), sorted by person_id."""
        cols = ", ".join(formats.PERSONS_COLUMNS)
        return schemas.PERSONS.validate(fetch(self._con, f"SELECT {cols} FROM persons ORDER BY person_id"))

    def municipalities(self) -> pd.DataFrame:
        """Return the municipality table (``formats.MUNICIPALITY_COLUMNS``)."""
        cols = ", ".join(formats.MUNICIPALITY_COLUMNS)
        frame = fetch(self._con, f"SELECT {cols} FROM municipalities ORDER BY municipality_id")
        return schemas.MUNICIPALITIES.validate(frame)

    def panel(self, *, country: str | None = None, cohort: str | None = None) -> pd.DataFrame:
        """Return the person-month ``panel`` (``formats.PANEL_COLUMNS``), optionally filtered.

        Parameters
        ----------
        country
            Keep persons of this country (``"NO"``, ``"SE"``, ``"DK"``).
        cohort
            Keep persons of this cohort (one of ``formats.COHORTS``).

        Returns
        -------
        pandas.DataFrame
            Sorted by person_id, month.
        """
        _check_choice("country", country, formats.COUNTRIES)
        _check_choice("cohort", cohort, formats.COHORTS)
        where, params = ["true"], list[str]()
        if country is not None:
            where.append("p.country = ?")
            params.append(country)
        if cohort is not None:
            where.append("p.cohort = ?")
            params.append(cohort)
        join = "JOIN persons AS p USING (person_id) " if params else ""
        sql = (
            f"SELECT x.person_id, x.month, x.state, x.earnings FROM panel AS x {join}"
            f"WHERE {' AND '.join(where)} ORDER BY x.person_id, x.month"
        )
        return schemas.PANEL.validate(fetch(self._con, sql, params))

    def cohort(self, name: str) -> pd.DataFrame:
        """Return the analysis frame of cohort ``name`` (see :mod:`o4o_causal.registers.cohorts`).

        Parameters
        ----------
        name
            One of ``formats.COHORTS``: ``"core"``, ``"waa"``, ``"social_assistance"``,
            ``"neet"``.

        Returns
        -------
        pandas.DataFrame
            Validated with ``schemas.COHORT_SCHEMAS[name]``; the core frame carries
            ``attrs["excluded_incomplete"]``.
        """
        _check_choice("cohort", name, formats.COHORTS)
        frame = cohort_frame(self._con, name)
        attrs = dict(frame.attrs)
        out = schemas.COHORT_SCHEMAS[name].validate(frame)
        out.attrs.update(attrs)
        return out

    def sql(self, query: str) -> pd.DataFrame:
        """Run a read-only SQL query on the store (tables persons, panel, municipalities, _meta)."""
        return fetch(self._con, query)

    def close(self) -> None:
        """Close the connection."""
        self._con.close()

    def __enter__(self) -> RegisterStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        try:
            counts = ", ".join(
                f"{t}={one_row(self._con, f'SELECT count(*) FROM {t}')[0]:,}"
                for t in ("persons", "panel", "municipalities")
            )
        except duckdb.Error:
            counts = "closed"
        return f"RegisterStore({str(self._path)!r}, {counts})"


def _check_choice(what: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise SpecificationError(
            format_error(
                what=what, expected=f"one of {', '.join(allowed)}", found=repr(value), fix="pass a listed value"
            )
        )


def is_stale(store: Path, raw_dir: Path) -> bool:
    """Return True if ``store`` is missing, unreadable, or built from other raw files or rules."""
    if not store.is_file():
        return True
    expected = {f"sha256:{k}": v for k, v in raw_hashes(discover(raw_dir)).items()}
    try:
        con = duckdb.connect(str(store), read_only=True)
        try:
            meta = {str(k): str(v) for k, v in con.execute("SELECT key, value FROM _meta").fetchall()}
        finally:
            con.close()
    except duckdb.Error:
        return True
    recorded = {k: v for k, v in meta.items() if k.startswith("sha256:")}
    return recorded != expected or meta.get("rules_version") != RULES_VERSION


def open_store(path: str | os.PathLike[str], *, progress: bool = False) -> RegisterStore:
    """Open a store file, or an extract folder (ingesting ``raw/`` when needed).

    Parameters
    ----------
    path
        A ``.duckdb`` store (opened read-only), or a folder containing ``raw/``: then
        ``<path>/store.duckdb`` is used, (re)built from ``<path>/raw`` when it is
        missing or stale (raw file hashes or rules version differ from ``_meta``).
    progress
        Show ingestion progress when (re)building.

    Notes
    -----
    Close stores opened earlier on the same file before re-opening a folder whose raw
    files changed: DuckDB shares one database instance per file within a process, so an
    open connection would keep serving the replaced store.

    Returns
    -------
    RegisterStore
        The open store.

    Raises
    ------
    DataError
        If ``path`` is neither a ``.duckdb`` file nor a folder with ``raw/``, or the
        ingestion fails.
    """
    target = Path(path)
    if target.is_file() and target.suffix == ".duckdb":
        return RegisterStore(target)
    if target.is_dir() and (target / "raw").is_dir():
        store = target / STORE_NAME
        if is_stale(store, target / "raw"):
            ingest(target / "raw", store, overwrite=True, progress=progress)
        return RegisterStore(store)
    hint = " (this looks like a raw/ folder: pass its parent)" if target.is_dir() and target.name == "raw" else ""
    raise DataError(
        format_error(
            what=f"path {target}",
            expected="a .duckdb store file or an extract folder containing raw/",
            found=("a folder without raw/" + hint) if target.is_dir() else "no such store file",
            fix="pass the folder written by the synthetic world (or a real extract) or an ingested store",
        )
    )

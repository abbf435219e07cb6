"""Find the files of a raw extract folder (one format per file, required files present)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from o4o_causal.exceptions import DataError, format_error
from o4o_causal.registers import formats

#: File formats ingestion reads, by file extension.
EXTENSIONS: tuple[str, ...] = ("parquet", "csv", "dta", "sas7bdat", "xpt")

#: Files each country folder must hold (SE also needs at least one ``lisa_<YYYY>``).
REQUIRED_FILES: dict[str, tuple[str, ...]] = {
    "NO": ("population", "persons", "spells", "earnings", "followup"),
    "SE": ("population", "events", "spells", "earnings", "followup"),
    "DK": ("population", "persons", "earnings", "followup", "dream"),
}

#: Digits of national municipality codes (leading zeros restored for numeric columns).
MUNICIPALITY_CODE_DIGITS: dict[str, int] = {"NO": 4, "SE": 4, "DK": 3}

LISA_STEM = re.compile(r"^lisa_(\d{4})$")


@dataclass(frozen=True)
class Extract:
    """The raw files of one extract folder.

    Attributes
    ----------
    raw_dir
        The extract folder (``<path>/raw``).
    municipalities
        The municipality file.
    files
        ``country -> {kind: path}``; SE kinds include ``lisa_<YYYY>``.
    """

    raw_dir: Path
    municipalities: Path
    files: dict[str, dict[str, Path]] = field(default_factory=dict)

    def all_files(self) -> list[Path]:
        """Return every raw file ingestion reads, in a stable order."""
        out = [self.municipalities]
        for country in formats.COUNTRIES:
            out += [self.files[country][k] for k in sorted(self.files.get(country, {}))]
        return out

    def label(self, path: Path) -> str:
        """Return ``path`` relative to the extract folder, with forward slashes."""
        return path.relative_to(self.raw_dir).as_posix()


def _find(folder: Path, stem: str) -> Path | None:
    hits = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.stem.lower() == stem and p.suffix.lower().lstrip(".") in EXTENSIONS
    )
    if len(hits) > 1:
        raise DataError(
            format_error(
                what=f"file {stem!r} in {folder}",
                expected="exactly one format per file (rule: unambiguous file)",
                found=f"{len(hits)} files: {', '.join(p.name for p in hits)}",
                fix="keep one format of the file and move the others out of the extract folder",
            )
        )
    return hits[0] if hits else None


def _country_files(folder: Path, country: str) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for stem in REQUIRED_FILES[country]:
        hit = _find(folder, stem)
        if hit is None:
            raise DataError(
                format_error(
                    what=f"file {country}/{stem}.<ext> in {folder.parent}",
                    expected=f"one of {', '.join(stem + '.' + e for e in EXTENSIONS)} (rule: required file)",
                    found="no such file",
                    fix=f"add the {stem} extract of {country} or remove the {country} folder",
                )
            )
        files[stem] = hit
    if country == "SE":
        stems = sorted({p.stem.lower() for p in folder.iterdir() if p.is_file() and LISA_STEM.match(p.stem.lower())})
        for stem in stems:
            hit = _find(folder, stem)
            if hit is not None:
                files[stem] = hit
        if not stems:
            raise DataError(
                format_error(
                    what=f"files SE/lisa_<YYYY>.<ext> in {folder.parent}",
                    expected="at least one LISA annual file (rule: required file)",
                    found="none",
                    fix="add the LISA files, one per year, named lisa_<YYYY>",
                )
            )
    return files


def discover(raw_dir: Path) -> Extract:
    """Find the files of an extract folder.

    Parameters
    ----------
    raw_dir
        Folder holding ``municipalities.<ext>`` and country folders ``NO``, ``SE``, ``DK``.

    Returns
    -------
    Extract
        The files to ingest.

    Raises
    ------
    DataError
        If the folder, the municipality file or a required file is missing, no country
        folder exists, or one file exists in two formats.
    """
    if not raw_dir.is_dir():
        raise DataError(
            format_error(
                what=f"raw extract folder {raw_dir}",
                expected="an existing folder",
                found="no such folder",
                fix="pass the raw/ folder of an extract (e.g. written by synth)",
            )
        )
    munis = _find(raw_dir, "municipalities")
    if munis is None:
        raise DataError(
            format_error(
                what=f"file municipalities.<ext> in {raw_dir}",
                expected="the municipality table (rule: required file)",
                found="no such file",
                fix="add municipalities.parquet (or .csv) with the columns of formats.MUNICIPALITY_COLUMNS",
            )
        )
    folders = {p.name.upper(): p for p in raw_dir.iterdir() if p.is_dir()}
    files = {c: _country_files(folders[c], c) for c in formats.COUNTRIES if c in folders}
    if not files:
        raise DataError(
            format_error(
                what=f"country folders in {raw_dir}",
                expected=f"at least one of {', '.join(formats.COUNTRIES)}",
                found="none",
                fix="put each country's files in a folder named by its country code",
            )
        )
    return Extract(raw_dir=raw_dir, municipalities=munis, files=files)

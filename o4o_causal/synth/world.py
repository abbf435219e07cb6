"""The synthetic Nordic register world: ``generate_world`` and the :class:`World`."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.registers import formats
from o4o_causal.synth import core, neet, social_assistance, waa
from o4o_causal.synth._common import CohortBlock, month_start
from o4o_causal.synth.municipalities import generate_municipalities

#: Persons per scale. ``core``/``waa``: persons per country; ``sa_fraction``: sampling
#: fraction of adults in the ten cities; ``neet_per_municipality``: minimum youth per
#: municipality; ``core_pre_months``: months of history before the index month.
SCALES: dict[str, dict[str, Any]] = {
    "small": {
        "core": {"NO": 1500, "SE": 1500, "DK": 1000},
        "waa": {"NO": 800, "SE": 400, "DK": 300},
        "sa_fraction": 0.01,
        "neet_per_municipality": 4,
        "core_pre_months": 12,
    },
    "default": {
        "core": {"NO": 40_000, "SE": 50_000, "DK": 30_000},
        "waa": {"NO": 15_000, "SE": 8_000, "DK": 5_000},
        "sa_fraction": 0.03,
        "neet_per_municipality": 40,
        "core_pre_months": 12,
    },
    "register": {
        "core": {"NO": 300_000, "SE": 450_000, "DK": 250_000},
        "waa": {"NO": 15_000, "SE": 8_000, "DK": 5_000},
        "sa_fraction": 0.03,
        "neet_per_municipality": 40,
        "core_pre_months": 35,
    },
}


@dataclass(frozen=True)
class Truth:
    """Ground truth of a world (harmonised person ids throughout)."""

    core: pd.DataFrame
    core_effects: pd.DataFrame
    municipality_effects: pd.DataFrame
    waa_types: pd.DataFrame
    reform_effects: pd.DataFrame
    neet_deviance: pd.DataFrame
    neet_rule: str = neet.RULE
    confounder: str = (
        "service_resources (municipality table): raises integrated follow-up take-up and the employment "
        "entry hazard; observable only at municipality level"
    )

    def frames(self) -> dict[str, pd.DataFrame]:
        """Return the tables of the truth by name."""
        return {
            "core": self.core,
            "core_effects": self.core_effects,
            "municipality_effects": self.municipality_effects,
            "waa_types": self.waa_types,
            "reform_effects": self.reform_effects,
            "neet_deviance": self.neet_deviance,
        }


@dataclass(frozen=True)
class World:
    """A generated world: municipalities, cohorts with their monthly states, and truth.

    Harmonised tables (:attr:`persons`, :attr:`panel`) are built on first access; the
    raw, country-shaped extracts are produced by :meth:`write`.
    """

    scale: str
    seed: int
    settings: dict[str, Any]
    municipalities: pd.DataFrame
    blocks: tuple[CohortBlock, ...]
    native_ids: tuple[np.ndarray, ...]
    truth: Truth = field(repr=False)

    def __repr__(self) -> str:
        """Summary: scale, seed, persons per cohort."""
        counts = self.persons.groupby("cohort").size().to_dict()
        return (
            f"World(scale={self.scale!r}, seed={self.seed}, persons={counts}, person_months={self.n_person_months:,})"
        )

    @property
    def n_person_months(self) -> int:
        """Number of panel rows."""
        return int(sum((b.benefit >= 0).sum() for b in self.blocks))

    def person_ids(self, i: int) -> np.ndarray:
        """Harmonised person ids of block ``i``."""
        return harmonised_ids(self.blocks[i].country, self.native_ids[i])

    @functools.cached_property
    def persons(self) -> pd.DataFrame:
        """Harmonised ``persons`` table (formats.PERSONS_COLUMNS), sorted by person_id."""
        frames = []
        for i, block in enumerate(self.blocks):
            p = block.persons.copy()
            for col in ("index_month", "window_start", "window_end", "exit_month", "followup_month"):
                values = p[col].to_numpy()
                p[col] = np.where(values >= 0, month_start(np.maximum(values, 0)), np.datetime64("NaT"))
            p.insert(0, "person_id", self.person_ids(i))
            p.insert(1, "country", block.country)
            p.insert(2, "cohort", block.cohort)
            frames.append(p)
        out = pd.concat(frames, ignore_index=True)[list(formats.PERSONS_COLUMNS)]
        return out.sort_values("person_id", ignore_index=True).astype(_dtypes(formats.PERSONS_COLUMNS))

    @property
    def panel(self) -> pd.DataFrame:
        """Harmonised person-month ``panel`` (formats.PANEL_COLUMNS), sorted by person and month."""
        frames = []
        for i, block in enumerate(self.blocks):
            states = block.states()
            rows, cols = np.nonzero(states >= 0)
            frames.append(
                pd.DataFrame(
                    {
                        "person_id": self.person_ids(i)[rows],
                        "month": month_start(block.window_start[rows] + cols),
                        "state": np.asarray(formats.STATES, dtype=object)[states[rows, cols]],
                        "earnings": block.earnings[rows, cols].astype(np.float64),
                    }
                )
            )
        out = pd.concat(frames, ignore_index=True)
        return out.sort_values(["person_id", "month"], ignore_index=True).astype(_dtypes(formats.PANEL_COLUMNS))

    def write(self, path: str | Path, *, fmt: str = "parquet", overwrite: bool = False) -> Path:
        """Write raw country-shaped extracts to ``<path>/raw`` and truth to ``<path>/truth``.

        See :func:`o4o_causal.synth.extracts.write_world`.
        """
        from o4o_causal.synth.extracts import write_world

        return write_world(self, Path(path), fmt=fmt, overwrite=overwrite)

    def calibration(self) -> pd.DataFrame:
        """Return the calibration table: target vs synthetic value with bands."""
        from o4o_causal.synth.calibration import calibration_table

        return calibration_table(self)


def harmonised_ids(country: str, native: np.ndarray) -> np.ndarray:
    """Return harmonised person ids ``"<country>:<native id>"``."""
    sep = formats.PERSON_ID_SEPARATOR
    return np.array([f"{country}{sep}{x}" for x in native], dtype=object)


def _dtypes(spec: Mapping[str, str]) -> dict[str, Any]:
    return {k: (object if v == "str" else v) for k, v in spec.items()}


def _settings(scale: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    if scale not in SCALES:
        raise SpecificationError(
            format_error(
                what="scale", expected=f"one of {sorted(SCALES)}", found=repr(scale), fix="use scale='small' for tests"
            )
        )
    settings = {k: (dict(v) if isinstance(v, dict) else v) for k, v in SCALES[scale].items()}
    unknown = sorted(set(overrides) - set(settings))
    if unknown:
        raise SpecificationError(
            format_error(
                what=f"generate_world override(s) {unknown}",
                expected=f"names among {sorted(settings)}",
                found="unknown names",
                fix="check the spelling; see o4o_causal.synth.world.SCALES",
            )
        )
    settings.update(overrides)
    return settings


def generate_world(scale: str = "small", seed: int = 0, **overrides: Any) -> World:
    """Generate the synthetic Nordic register world.

    Parameters
    ----------
    scale
        ``"small"`` (tests, seconds), ``"default"`` (reproduction runs, about 240,000
        persons) or ``"register"`` (one million persons in the core cohort, 60 months).
    seed
        Seed; the world is a deterministic function of ``(scale, seed, overrides)``.
    **overrides
        Replace entries of the scale's settings (see :data:`SCALES`), e.g.
        ``core={"NO": 500, "SE": 500, "DK": 500}``.

    Returns
    -------
    World
    """
    settings = _settings(scale, overrides)
    streams = np.random.SeedSequence(seed).spawn(8)
    rng = np.random.default_rng(streams[0])
    munis = generate_municipalities(rng)
    deviance = neet.municipal_deviance(np.random.default_rng(streams[1]), munis)
    blocks: list[CohortBlock] = []
    for k, country in enumerate(formats.COUNTRIES):
        sub = np.random.default_rng(streams[2].spawn(3)[k])
        blocks.append(core.generate_core(sub, munis, country, settings["core"][country], settings["core_pre_months"]))
        blocks.append(waa.generate_waa(sub, munis, country, settings["waa"][country]))
        blocks.append(neet.generate_neet(sub, munis, deviance, country, settings["neet_per_municipality"]))
    blocks.append(
        social_assistance.generate_social_assistance(np.random.default_rng(streams[3]), munis, settings["sa_fraction"])
    )
    ids = _native_ids(np.random.default_rng(streams[4]), blocks)
    from o4o_causal.synth.truth import build_truth

    truth = build_truth(blocks, ids, munis, deviance)
    return World(scale, int(seed), settings, munis, tuple(blocks), ids, truth=truth)


def _native_ids(rng: np.random.Generator, blocks: list[CohortBlock]) -> tuple[np.ndarray, ...]:
    """Pseudonymous national ids: integers for NO/SE, 10-character hex strings for DK."""
    out: list[np.ndarray] = [np.empty(0)] * len(blocks)
    for country in formats.COUNTRIES:
        members = [i for i, b in enumerate(blocks) if b.country == country]
        total = sum(blocks[i].n for i in members)
        if country == "DK":
            raw = rng.choice(16**10 - 16**9, size=total, replace=False) + 16**9
            ids: np.ndarray = np.array([format(int(v), "010x") for v in raw], dtype=object)
        else:
            ids = rng.choice(9_000_000 if total < 4_000_000 else 90_000_000, size=total, replace=False) + 1_000_000
        start = 0
        for i in members:
            out[i] = ids[start : start + blocks[i].n]
            start += blocks[i].n
    return tuple(out)

"""Calibration of the synthetic world against published magnitudes (domain brief)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from o4o_causal.registers import formats
from o4o_causal.synth._common import STATE_CODE, CohortBlock
from o4o_causal.synth.municipalities import BERGEN_ID

if TYPE_CHECKING:
    from o4o_causal.synth.world import World

S = STATE_CODE
_EMPLOYED = [S["EMP"], S["EMP_LOW"]]


def _block(world: World, country: str, cohort: str) -> CohortBlock:
    return next(b for b in world.blocks if b.country == country and b.cohort == cohort)


def _waa_rows(world: World) -> list[tuple[str, float, float, float, float, str]]:
    st = _block(world, "NO", "waa").states()
    on_waa = np.isin(st, [S["WAA"], S["WAA_M"]])
    return [
        (
            "NO young WAA entrants 2010: on WAA all 48 months",
            0.55,
            0.50,
            0.65,
            float(on_waa.all(axis=1).mean()),
            "arbeidogvelferd.nav.no 2015/3: more than half",
        ),
        (
            "NO young WAA entrants: employed at month 48",
            0.18,
            0.10,
            0.30,
            float(np.isin(st[:, -1], _EMPLOYED).mean()),
            "Nossen & Gjerde 2022: 18% in work after 5 years",
        ),
        (
            "NO young WAA entrants: disability pension at month 48",
            0.15,
            0.05,
            0.25,
            float((st[:, -1] == S["DP"]).mean()),
            "[A] 'some go to disability pension'",
        ),
    ]


def _sa_rows(world: World) -> list[tuple[str, float, float, float, float, str]]:
    block = _block(world, "NO", "social_assistance")
    st = block.states()
    alive, on_sa = st >= 0, st == S["SA"]
    year = np.arange(block.months) // 12
    in_2019 = on_sa[:, year == 3]
    recipients = in_2019.any(axis=1)
    bergen = (block.persons["municipality_id"] == BERGEN_ID).to_numpy()
    fraction = float(world.settings["sa_fraction"])
    per_year = [on_sa[bergen][:, year == y].any(axis=1).sum() / fraction for y in range(year.max() + 1)]
    return [
        (
            "NO ten cities: monthly social-assistance rate (adults)",
            0.012,
            0.010,
            0.020,
            float(on_sa.sum() / alive.sum()),
            "SSB: about 1.2% of adults in a month (national)",
        ),
        (
            "NO: months on social assistance per year among recipients (2019)",
            5.5,
            4.5,
            6.5,
            float(in_2019.sum(axis=1)[recipients].mean()),
            "SSB: mean 5.5 months",
        ),
        (
            "NO: share of recipients on social assistance all year (2019)",
            0.14,
            0.10,
            0.20,
            float((in_2019.sum(axis=1) == 12)[recipients].mean()),
            "SSB: 14% all year",
        ),
        (
            "Bergen: social-assistance recipients per year (population scale)",
            7000.0,
            5000.0,
            9500.0,
            float(np.mean(per_year)),
            "Bergen about 7,000 recipients a year 2020-22",
        ),
    ]


def _neet_rows(world: World) -> list[tuple[str, float, float, float, float, str]]:
    block = _block(world, "NO", "neet")
    st = block.states()
    november = st[:, [10 + 12 * y for y in range(block.months // 12)]]
    age = (2019 - block.persons["birth_year"].to_numpy())[:, None] + np.arange(november.shape[1])[None, :]
    keep = (november >= 0) & (age <= 29)
    neet = ~np.isin(november, [*_EMPLOYED, S["EDU"]])
    return [
        (
            "NO NEET rate 16-29 (register-based, November)",
            0.10,
            0.085,
            0.115,
            float(neet[keep].mean()),
            "SSB: 9.5-11% register-based 2019-22",
        )
    ]


def calibration_table(world: World) -> pd.DataFrame:
    """Return ``quantity, target, band_low, band_high, synthetic, within_band, source``."""
    munis = world.municipalities
    rows: list[tuple[str, float, float, float, float, str]] = [
        (f"{c}: number of municipalities", n, n, n, float((munis["country"] == c).sum()), "regjeringen.no, finsam.se")
        for c, n in formats.N_MUNICIPALITIES.items()
    ]
    no = munis[munis["country"] == "NO"]
    rows.append(
        (
            "NO: non-Western immigrant share of population",
            0.11,
            0.08,
            0.15,
            float((no["nonwestern_share"] * no["population"]).sum() / no["population"].sum()),
            "SSB: about 11%",
        )
    )
    rows += _waa_rows(world) + _sa_rows(world) + _neet_rows(world)
    ate = world.truth.core_effects.query("estimand == 'ATE' and outcome == 'employed_24'")["value"].iloc[0]
    rows.append(
        (
            "Core cohort: true ATE of integrated follow-up on employment at 24 months",
            0.10,
            0.03,
            0.15,
            float(ate),
            "IPS RCT Norway (Reme et al. 2019): +9.5 pp at 12 months",
        )
    )
    out = pd.DataFrame(rows, columns=["quantity", "target", "band_low", "band_high", "synthetic", "source"])
    out["within_band"] = (out["synthetic"] >= out["band_low"]) & (out["synthetic"] <= out["band_high"])
    return out[["quantity", "target", "band_low", "band_high", "synthetic", "within_band", "source"]]

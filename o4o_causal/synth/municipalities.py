"""Municipalities of the synthetic world: size, labour market, population, configuration.

Each country has its real number of municipalities. Service-integration conditions are
drawn with country-specific probabilities that mirror how the systems are organised
([A] = modelling assumption, see the domain brief):

* Norway: NAV partnership offices -> co-location almost everywhere; variation in joint
  case management, shared IT, early youth intervention.
* Sweden: fragmented responsibilities; most municipalities (about 87%) in a coordination
  association (Samordningsforbund), which raises joint case management and broad
  collaboration; co-location is rare.
* Denmark: municipal jobcentres with rehabilitation teams in every municipality ->
  co-location and joint case management common.

``service_resources`` (standardised municipal service resources per capita) is the
municipality-level confounder: it raises the chance of integrated configurations and of
individual integrated follow-up, and it raises employment. It exists only in the
municipality table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from o4o_causal.registers import formats
from o4o_causal.synth._common import expit

#: The ten large Norwegian cities of the social-assistance study (ASSS network [U]) with
#: real municipality numbers (2020 codes) and approximate populations.
ASSS_CITIES: dict[str, tuple[str, int]] = {
    "Bergen": ("4601", 290_000),
    "Oslo": ("0301", 700_000),
    "Trondheim": ("5001", 210_000),
    "Stavanger": ("1103", 145_000),
    "Bærum": ("3024", 130_000),
    "Kristiansand": ("4204", 113_000),
    "Drammen": ("3005", 102_000),
    "Fredrikstad": ("3004", 84_000),
    "Sandnes": ("1108", 82_000),
    "Tromsø": ("5401", 78_000),
}
BERGEN_ID = "NO-4601"

#: Country totals and labour markets [A].
POPULATION: dict[str, int] = {"NO": 5_500_000, "SE": 10_500_000, "DK": 5_900_000}
UNEMPLOYMENT: dict[str, float] = {"NO": 0.035, "SE": 0.070, "DK": 0.050}
CASELOAD: dict[str, float] = {"NO": 60.0, "SE": 80.0, "DK": 45.0}

#: Intercepts (logit) of the configuration conditions by country, and their dependence
#: on service_resources [A].
_CONDITIONS: dict[str, dict[str, float]] = {
    "NO": {
        "co_location": 3.0,
        "joint_case_management": 0.0,
        "shared_it": 0.4,
        "early_intervention": -0.2,
        "health_employment_integration": -0.9,
        "broad_collaboration": -0.2,
        "holistic_health": -0.4,
    },
    "SE": {
        "co_location": -1.7,
        "joint_case_management": -1.2,
        "shared_it": -1.4,
        "early_intervention": -0.4,
        "health_employment_integration": -1.1,
        "broad_collaboration": -0.7,
        "holistic_health": -0.6,
    },
    "DK": {
        "co_location": 2.2,
        "joint_case_management": 1.2,
        "shared_it": 0.8,
        "early_intervention": 0.0,
        "health_employment_integration": -0.8,
        "broad_collaboration": 0.4,
        "holistic_health": -0.2,
    },
}
_RESOURCE_SLOPE: dict[str, float] = {
    "co_location": 0.3,
    "joint_case_management": 0.8,
    "shared_it": 0.4,
    "early_intervention": 0.6,
    "health_employment_integration": 0.6,
    "broad_collaboration": 0.5,
    "holistic_health": 0.5,
}


def _codes(country: str, n: int, reserved: set[str]) -> list[str]:
    width = 3 if country == "DK" else 4
    start = 101 if country == "DK" else 1001 if country == "NO" else 114
    codes: list[str] = []
    candidate = start
    while len(codes) < n:
        code = str(candidate).zfill(width)
        if code not in reserved:
            codes.append(code)
        candidate += 7 if country == "SE" else 3
    return codes


def _populations(rng: np.random.Generator, country: str, n: int, fixed: int) -> np.ndarray:
    raw = rng.lognormal(mean=8.9, sigma=1.1, size=n)
    return np.asarray(np.maximum(np.round(raw / raw.sum() * (POPULATION[country] - fixed)), 400), dtype=np.int64)


def generate_municipalities(rng: np.random.Generator) -> pd.DataFrame:
    """Return the municipality table (formats.MUNICIPALITY_COLUMNS) for all countries."""
    frames = []
    for country in formats.COUNTRIES:
        n = formats.N_MUNICIPALITIES[country]
        named = ASSS_CITIES if country == "NO" else {}
        fixed_pop = sum(pop for _, pop in named.values())
        codes = [code for code, _ in named.values()] + _codes(country, n - len(named), {c for c, _ in named.values()})
        names = list(named) + [f"{country} municipality {c}" for c in codes[len(named) :]]
        pop = np.concatenate(
            [
                np.array([p for _, p in named.values()], dtype=np.int64),
                _populations(rng, country, n - len(named), fixed_pop),
            ]
        )
        log_pop = np.log(pop)
        urbanity = np.clip(expit((log_pop - np.log(20_000)) / 0.9) + rng.normal(0, 0.08, n), 0.0, 1.0)
        resources = 0.4 * (urbanity - urbanity.mean()) / urbanity.std() + rng.normal(0, 0.9, n)
        resources = (resources - resources.mean()) / resources.std()
        frame = pd.DataFrame(
            {
                "municipality_id": [f"{country}-{c}" for c in codes],
                "country": country,
                "code": codes,
                "name": names,
                "population": pop,
                "urbanity": urbanity.round(4),
                "unemployment_rate": np.clip(
                    UNEMPLOYMENT[country] * np.exp(rng.normal(0, 0.25, n)) + 0.01 * (0.5 - urbanity), 0.01, 0.2
                ).round(4),
                "nonwestern_share": np.clip(0.03 + 0.14 * urbanity + rng.normal(0, 0.025, n), 0.005, 0.35).round(4),
                "service_resources": resources.round(4),
            }
        )
        coordination = (rng.random(n) < 0.87).astype(np.int64) if country == "SE" else np.zeros(n, dtype=np.int64)
        for name, intercept in _CONDITIONS[country].items():
            logit = intercept + _RESOURCE_SLOPE[name] * resources
            if country == "SE" and name in {"joint_case_management", "broad_collaboration"}:
                logit = logit + 1.3 * coordination
            frame[name] = (rng.random(n) < expit(logit)).astype(np.int64)
        frame["caseload"] = (CASELOAD[country] * np.exp(rng.normal(0, 0.15, n)) - 4.0 * resources).round(1)
        frame["coordination_association"] = coordination
        frame["rehabilitation_team"] = np.int64(1 if country == "DK" else 0)
        frame["asss_city"] = frame["name"].isin(list(named)).astype(np.int64)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    return out[list(formats.MUNICIPALITY_COLUMNS)]

"""Youth 16-29 in every municipality, 2019-2022: NEET with a planted configurational rule.

Each person-year has one status held all year (education, work, or NEET -- inactive, job
seeking, social assistance or WAA). NEET log-odds combine individual risk factors
(age, health, education, immigrant background), structural municipal conditions
(unemployment, urbanity) and a true municipal *deviance*:

    deviance = -0.55 x [early intervention AND (broad collaboration OR holistic health)] + u,
    u ~ Normal(0, 0.25)

so, as in the published fsQCA result, low NEET is reached by two routes (equifinality):
proactive early intervention combined with either broad collaboration or holistic
health services. The true deviance and the rule are stored per municipality.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from o4o_causal.synth._common import STATE_CODE, CohortBlock, exit_months, expit, month_index, monthly_earnings, wages

START = month_index(201901)
YEARS = 4
MONTHS = 12 * YEARS
RULE = "early_intervention * (broad_collaboration + holistic_health)"
RULE_EFFECT = -0.55
DEVIANCE_SD = 0.25
COUNTRY_NEET = {"NO": -2.70, "SE": -2.95, "DK": -2.75}
WAGE_MEDIAN = {"NO": 22_000.0, "SE": 20_000.0, "DK": 19_000.0}


def rule_holds(municipalities: pd.DataFrame) -> pd.Series:
    """Return whether the planted configuration rule holds per municipality (0/1)."""
    m = municipalities
    return (
        m["early_intervention"].astype(bool) & (m["broad_collaboration"] | m["holistic_health"]).astype(bool)
    ).astype(np.int64)


def municipal_deviance(rng: np.random.Generator, municipalities: pd.DataFrame) -> pd.DataFrame:
    """Draw the true NEET deviance (log-odds) of every municipality."""
    rule = rule_holds(municipalities).to_numpy()
    u = rng.normal(0.0, DEVIANCE_SD, len(municipalities))
    return pd.DataFrame(
        {
            "municipality_id": municipalities["municipality_id"].to_numpy(),
            "rule": rule,
            "rule_effect": RULE_EFFECT * rule,
            "random_deviance": u,
            "true_deviance": RULE_EFFECT * rule + u,
        }
    )


def generate_neet(
    rng: np.random.Generator, munis: pd.DataFrame, deviance: pd.DataFrame, country: str, per_municipality: int
) -> CohortBlock:
    """Generate youth in every municipality of ``country`` (at least ``per_municipality`` each)."""
    m = munis[munis["country"] == country].reset_index(drop=True)
    size = np.maximum(per_municipality, np.round(per_municipality * m["population"] / m["population"].median() * 0.5))
    idx = np.repeat(np.arange(len(m)), size.astype(np.int64))
    n = idx.size
    mm = m.iloc[idx].reset_index(drop=True)
    dev = deviance.set_index("municipality_id").loc[mm["municipality_id"], "true_deviance"].to_numpy()
    age0 = rng.integers(16, 30, n)
    health = rng.random(n) < 0.12
    low_edu = rng.random(n) < 0.3
    nonwestern = rng.random(n) < np.clip(1.3 * mm["nonwestern_share"].to_numpy(), 0, 0.6)
    female = rng.random(n) < 0.49
    person = rng.normal(0.0, 0.8, n)
    states = np.empty((n, MONTHS), dtype=np.int8)
    earnings = np.zeros((n, MONTHS))
    wage = wages(rng, WAGE_MEDIAN[country], n, sigma=0.45)
    for y in range(YEARS):
        age = age0 + y
        logit = (
            COUNTRY_NEET[country]
            + 1.4 * health
            + 0.7 * low_edu * (age >= 20)
            + 0.45 * nonwestern
            - 0.1 * female
            + 0.05 * (age - 22)
            + 8.0 * (mm["unemployment_rate"].to_numpy() - 0.05)
            - 0.3 * (mm["urbanity"].to_numpy() - 0.5)
            + dev
            + person
        )
        neet = rng.random(n) < expit(logit)
        in_edu = rng.random(n) < expit(3.0 - 0.45 * (age - 16) - 0.8 * low_edu)
        kind = rng.random(n)
        neet_state = np.select(
            [kind < 0.5, kind < 0.75, kind < 0.85],
            [STATE_CODE["INACTIVE"], STATE_CODE["JOBSEEK"], STATE_CODE["SA"]],
            STATE_CODE["WAA"],
        )
        status = np.where(neet, neet_state, np.where(in_edu, STATE_CODE["EDU"], STATE_CODE["EMP"]))
        states[:, 12 * y : 12 * (y + 1)] = status[:, None]
        working = status == STATE_CODE["EMP"]
        earnings[:, 12 * y : 12 * (y + 1)] = monthly_earnings(rng, wage, np.repeat(working[:, None], 12, axis=1))
    benefit = np.where(states == STATE_CODE["EMP"], STATE_CODE["INACTIVE"], states).astype(np.int8)
    exit_rel = exit_months(rng, n, MONTHS, 0.0003, earliest=1)
    after = np.arange(MONTHS)[None, :] >= exit_rel[:, None]
    benefit[after], earnings[after] = -1, 0.0
    persons = pd.DataFrame(
        {
            "index_month": np.full(n, START),
            "window_start": np.full(n, START),
            "window_end": np.full(n, START + MONTHS - 1),
            "birth_year": 2019 - age0,
            "female": female.astype(np.int64),
            "background": np.where(nonwestern, "nonwestern", "native"),
            "municipality_id": mm["municipality_id"].to_numpy(),
            "education": np.where(low_edu, "low", "medium"),
            "n_children": np.zeros(n, dtype=np.int64),
            "health_problem": health.astype(np.int64),
            "exit_month": np.where(exit_rel < MONTHS, START + exit_rel, -1),
            "followup_month": np.full(n, -1),
        }
    )
    return CohortBlock(country, "neet", persons, np.full(n, START), benefit, earnings)

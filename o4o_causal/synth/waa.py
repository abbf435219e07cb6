"""Young WAA entrants followed 48 months, with planted latent trajectory types.

Norway: 18-29-year-olds entering Work Assessment Allowance (AAP) between March and
December 2010; Sweden and Denmark: analogous young entrants to activity compensation
(AKE) and resource-based rehabilitation. Each person has a true latent type, drawn
with probabilities that depend on health and education, and a type-specific monthly
process [A]:

* ``stable_waa`` (about 55%): WAA for all 48 months, alternating with WAA-with-measure
  spells -- "more than half stay on WAA the whole four years, with or without measures";
* ``work``: WAA for a while, then work (often low-paid first) with setbacks (sickness
  benefit episodes, occasional return to WAA);
* ``disability``: WAA, then disability pension (absorbing);
* ``churning``: short spells of low-paid work, job seeking, social assistance and WAA.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from o4o_causal.synth._common import STATE_CODE, CohortBlock, exit_months, month_index, monthly_earnings, wages

MONTHS = 48
TYPES: tuple[str, ...] = ("stable_waa", "work", "disability", "churning")
WAGE_MEDIAN = {"NO": 24_000.0, "SE": 21_000.0, "DK": 21_000.0}
S = STATE_CODE


def type_probabilities(health: np.ndarray, low_edu: np.ndarray) -> np.ndarray:
    """Return P(type | health, low education), one row per person (multinomial logit) [A]."""
    logits = np.stack(
        [
            np.zeros(health.size),
            -1.05 - 0.5 * health - 0.3 * low_edu,
            -1.55 + 0.6 * health,
            -1.30 + 0.3 * low_edu - 0.3 * health,
        ],
        axis=1,
    )
    p = np.exp(logits)
    return np.asarray(p / p.sum(axis=1, keepdims=True))


def _types(rng: np.random.Generator, health: np.ndarray, low_edu: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(type_probabilities(health, low_edu), axis=1)
    u = rng.random(health.size)[:, None]
    return np.asarray((u > cumulative).sum(axis=1), dtype=np.int64)


def _stable(rng: np.random.Generator, n: int) -> np.ndarray:
    out = np.full((n, MONTHS), S["WAA"], dtype=np.int8)
    state = np.zeros(n, bool)
    for t in range(1, MONTHS):
        u = rng.random(n)
        state = np.where(state, u >= 0.18, u < 0.06)
        out[:, t] = np.where(state, S["WAA_M"], S["WAA"])
    return out


def _work(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    out = np.full((n, MONTHS), S["WAA"], dtype=np.int8)
    start = rng.integers(4, 30, n)
    low = rng.random(n) < 0.5
    state = np.full(n, S["WAA"], dtype=np.int8)
    for t in range(1, MONTHS):
        u = rng.random(n)
        working = state == S["EMP"]
        nxt = np.where(working & (u < 0.025), S["SICK"], state)
        nxt = np.where(working & (u >= 0.025) & (u < 0.032), S["WAA"], nxt)
        nxt = np.where((state == S["SICK"]) & (u < 0.5), S["EMP"], nxt)
        nxt = np.where((state == S["WAA"]) & (t >= start) & (u < 0.35), S["EMP"], nxt)
        state = nxt.astype(np.int8)
        out[:, t] = state
    return out, low


def _disability(rng: np.random.Generator, n: int) -> np.ndarray:
    onset = rng.integers(14, 44, n)
    cols = np.arange(MONTHS)
    return np.where(cols[None, :] >= onset[:, None], S["DP"], S["WAA"]).astype(np.int8)


def _churning(rng: np.random.Generator, n: int) -> np.ndarray:
    choices = np.array([S["EMP"], S["JOBSEEK"], S["SA"], S["WAA"]], dtype=np.int8)
    out = np.full((n, MONTHS), S["WAA"], dtype=np.int8)
    state = out[:, 0].copy()
    for t in range(1, MONTHS):
        switch = rng.random(n) < 0.28
        state = np.where(switch, choices[rng.integers(0, 4, n)], state).astype(np.int8)
        out[:, t] = state
    return out


def generate_waa(rng: np.random.Generator, munis: pd.DataFrame, country: str, n: int) -> CohortBlock:
    """Generate ``n`` young WAA (or analogue) entrants of one country."""
    m = munis[munis["country"] == country].reset_index(drop=True)
    weights = m["population"].to_numpy(dtype=float)
    muni = m["municipality_id"].to_numpy()[rng.choice(len(m), size=n, p=weights / weights.sum())]
    age = rng.integers(18, 30, n)
    health = (rng.random(n) < 0.6).astype(np.int64)
    low_edu = (rng.random(n) < 0.5).astype(np.int64)
    nonwestern = rng.random(n) < 0.12
    kind = _types(rng, health, low_edu)
    state = np.empty((n, MONTHS), dtype=np.int8)
    low_pay = rng.random(n) < 0.45
    for k in range(len(TYPES)):
        rows = np.flatnonzero(kind == k)
        if k == 1:
            work_block, low = _work(rng, rows.size)
            state[rows], low_pay[rows] = work_block, low
        else:
            state[rows] = (_stable, _work, _disability, _churning)[k](rng, rows.size)
    low_pay |= kind == 3
    wage = np.where(low_pay, 0.45, 1.0) * wages(rng, WAGE_MEDIAN[country], n, sigma=0.2)
    employed = state == S["EMP"]
    earnings = monthly_earnings(rng, wage, employed)
    benefit = np.where(employed, S["INACTIVE"], state).astype(np.int8)
    exit_rel = exit_months(rng, n, MONTHS, 0.0004, earliest=1)
    after = np.arange(MONTHS)[None, :] >= exit_rel[:, None]
    benefit[after], earnings[after] = -1, 0.0
    first = month_index(201003 if country == "NO" else 201001)
    index = first + rng.integers(0, month_index(201012) - first + 1, n)
    persons = pd.DataFrame(
        {
            "index_month": index,
            "window_start": index,
            "window_end": index + MONTHS - 1,
            "birth_year": 2010 - age,
            "female": (rng.random(n) < 0.48).astype(np.int64),
            "background": np.where(nonwestern, "nonwestern", "native"),
            "municipality_id": muni,
            "education": np.where(low_edu == 1, "low", "medium"),
            "n_children": rng.poisson(0.3, n).astype(np.int64),
            "health_problem": health,
            "exit_month": np.where(exit_rel < MONTHS, index + exit_rel, -1),
            "followup_month": np.full(n, -1),
        }
    )
    truth = pd.DataFrame({"row": np.arange(n), "trajectory_type": np.asarray(TYPES)[kind]})
    return CohortBlock(country, "waa", persons, index, benefit, earnings, {"waa_types": truth})


__all__ = ["MONTHS", "TYPES", "generate_waa", "type_probabilities"]

"""Adults in the ten large Norwegian cities, monthly 2016-2023, and Bergen's 2020 reform.

Bergen raises its social-assistance rates in January 2020. The cohort is a random
sample (sampling fraction ``fraction``) of adults 18-66 in the ten cities of the
policy study. Social-assistance receipt follows a person-specific monthly Markov
chain (entry and exit hazards depend on immigrant background, family, education,
health and a persistent person effect), giving a monthly rate of about 1.5% of adults
and mean durations of about five months [A].

Employment is Bernoulli each month with a person-specific probability that falls while
on social assistance, dips in 2020 (a common shock), and -- the planted reform effect,
as published -- falls in Bergen from 2020 only for *at-risk* persons (stationary
social-assistance probability >= 5%) in families with children, non-Western
immigrants, and non-Western immigrant families with children. Receipt of social
assistance is untouched by the reform (no effect on the number of recipients or on
durations) and work participation overall changes little. The true effects are exact:
the mean over Bergen post-reform person-months of ``p(employed | reform) - p(employed | no reform)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from o4o_causal.synth._common import STATE_CODE, CohortBlock, exit_months, expit, month_index, monthly_earnings, wages
from o4o_causal.synth.municipalities import BERGEN_ID

START, END, REFORM = month_index(201601), month_index(202312), month_index(202001)
MONTHS = END - START + 1
#: Planted reform effects on the log-odds of monthly employment, at-risk persons only.
REFORM_LOGIT = {"families_children": -0.45, "nonwestern": -0.55, "nonwestern_families_children": -0.80}
AT_RISK = 0.05
GROUPS = ("all", "families_children", "nonwestern", "nonwestern_families_children", "neither")


def _group(children: np.ndarray, nonwestern: np.ndarray) -> np.ndarray:
    return np.where(
        children & nonwestern,
        "nonwestern_families_children",
        np.where(children, "families_children", np.where(nonwestern, "nonwestern", "neither")),
    )


def _sa_paths(rng: np.random.Generator, risk: np.ndarray, exit_logit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h_in, h_out = expit(risk), expit(exit_logit)
    stationary = h_in / (h_in + h_out)
    state = rng.random(risk.size) < stationary
    out = np.empty((risk.size, MONTHS), dtype=bool)
    for t in range(MONTHS):
        u = rng.random(risk.size)
        state = np.where(state, u >= h_out, u < h_in)
        out[:, t] = state
    return out, stationary


def generate_social_assistance(rng: np.random.Generator, munis: pd.DataFrame, fraction: float) -> CohortBlock:
    """Generate the social-assistance cohort (Norwegian ten-city sample)."""
    cities = munis[munis["asss_city"] == 1].reset_index(drop=True)
    adults = np.round(cities["population"].to_numpy() * 0.78 * fraction).astype(np.int64)
    city = np.repeat(np.arange(len(cities)), adults)
    n = city.size
    c = cities.iloc[city].reset_index(drop=True)
    nonwestern = rng.random(n) < np.clip(1.1 * c["nonwestern_share"].to_numpy(), 0, 0.6)
    children = rng.random(n) < 0.35
    single = rng.random(n) < 0.35
    low_edu = rng.random(n) < 0.25
    health = rng.random(n) < 0.12
    age = rng.integers(18, 67, n)
    person = rng.normal(0.0, 1.0, n)
    risk = -8.3 + 1.5 * nonwestern + 0.8 * (children & single) + 0.9 * low_edu + 1.1 * health + 1.3 * person
    risk = risk - 0.8 * c["service_resources"].to_numpy() * 0.1
    on_sa, stationary = _sa_paths(rng, risk, -1.6 - 0.9 * rng.normal(0.0, 1.0, n))
    months = START + np.arange(MONTHS)
    covid = ((months >= month_index(202004)) & (months <= month_index(202012))) * -0.3
    base = 1.7 - 1.1 * nonwestern - 0.8 * low_edu - 1.3 * health - 0.4 * person - 0.02 * np.abs(age - 42)
    logit0 = base[:, None] + covid[None, :] + 0.01 * (months[None, :] - REFORM) / 12 - 1.6 * on_sa
    group = _group(children, nonwestern)
    shift = pd.Series(group).map(REFORM_LOGIT).fillna(0.0).to_numpy()
    treated = (c["municipality_id"].to_numpy() == BERGEN_ID) & (stationary >= AT_RISK)
    reform = (months >= REFORM)[None, :] & treated[:, None]
    p0, p1 = expit(logit0), expit(logit0 + shift[:, None])
    p = np.where(reform, p1, p0)
    employed = rng.random((n, MONTHS)) < p
    wage = wages(rng, 32_000.0 * np.where(stationary >= AT_RISK, 0.6, 1.0), n)
    earnings = monthly_earnings(rng, wage, employed)
    jobseek = rng.random((n, MONTHS)) < 0.25
    benefit = np.where(
        on_sa, STATE_CODE["SA"], np.where(jobseek & ~employed, STATE_CODE["JOBSEEK"], STATE_CODE["INACTIVE"])
    )
    exit_rel = exit_months(rng, n, MONTHS, 0.0005, earliest=1)
    after = np.arange(MONTHS)[None, :] >= exit_rel[:, None]
    benefit = np.where(after, -1, benefit).astype(np.int8)
    earnings[after] = 0.0
    persons = pd.DataFrame(
        {
            "index_month": np.full(n, REFORM),
            "window_start": np.full(n, START),
            "window_end": np.full(n, END),
            "birth_year": 2020 - age,
            "female": (rng.random(n) < 0.5).astype(np.int64),
            "background": np.where(nonwestern, "nonwestern", "native"),
            "municipality_id": c["municipality_id"].to_numpy(),
            "education": np.where(low_edu, "low", "medium"),
            "n_children": np.where(children, 1 + rng.poisson(0.8, n), 0).astype(np.int64),
            "health_problem": health.astype(np.int64),
            "exit_month": np.where(exit_rel < MONTHS, START + exit_rel, -1),
            "followup_month": np.full(n, -1),
        }
    )
    in_bergen = c["municipality_id"].to_numpy() == BERGEN_ID
    effect = np.where(reform, p1 - p0, 0.0)  # true individual effect on P(employed)
    truth = _reform_truth(group, in_bergen, ~after, effect, wage, on_sa)
    rows = pd.DataFrame({"row": np.arange(n), "at_risk": (stationary >= AT_RISK).astype(np.int64), "group": group})
    return CohortBlock(
        "NO",
        "social_assistance",
        persons,
        np.full(n, START),
        benefit,
        earnings,
        {"reform_effects": truth, "sa_persons": rows},
    )


def _reform_truth(
    group: np.ndarray, in_bergen: np.ndarray, alive: np.ndarray, dp: np.ndarray, wage: np.ndarray, on_sa: np.ndarray
) -> pd.DataFrame:
    """Exact true reform effects by group, among all Bergen adults and among 2019 recipients."""
    months = START + np.arange(MONTHS)
    in_2019 = (months >= month_index(201901)) & (months <= month_index(201912))
    recipients_2019 = on_sa[:, in_2019].any(axis=1)
    post = START + np.arange(MONTHS) >= REFORM
    rows = []
    for population, members in (("bergen_adults", np.ones(group.size, bool)), ("recipients_2019", recipients_2019)):
        for g in GROUPS:
            sel = members & in_bergen & (np.ones(group.size, bool) if g == "all" else group == g)
            cells = post[None, :] & sel[:, None] & alive
            n_pm = int(cells.sum())
            rows.append(
                {
                    "population": population,
                    "group": g,
                    "att_employment": float(dp[cells].mean()) if n_pm else 0.0,
                    "att_earnings": float((dp * wage[:, None])[cells].mean()) if n_pm else 0.0,
                    "att_social_assistance": 0.0,
                    "person_months": n_pm,
                    "persons": int(sel.sum()),
                }
            )
    return pd.DataFrame(rows)

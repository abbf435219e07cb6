"""Core question cohort: integrated follow-up -> employment, with heterogeneous effects.

Persons with complex needs enter services at an index month in 2018-2019 (all three
countries). Employment after the index month follows a monthly two-state Markov chain
(entry hazard ``h_in``, exit hazard ``h_out``), starting from non-employment at the
index month. Integrated follow-up (the treatment) shifts the log-odds of the entry
hazard by a person-specific ``tau``:

    tau = 0.15 + 0.25 health + 0.45 health x IPS-like integration (municipality)
          + 0.30 joint case management (municipality) - 0.30 non-western + country term

so effects vary with the person, with the municipality's configuration (cross-level
interaction) and by country. Treatment take-up depends on needs, on the configuration
and on ``service_resources`` -- a municipality-level confounder that also raises the
entry hazard. Estimators that ignore the municipality level are therefore biased.

Because the chain is Markov with constant hazards, the probability of being employed
``t`` months after the index month is exact:
``P_t = pi (1 - lambda^t)`` with ``pi = h_in / (h_in + h_out)``, ``lambda = 1 - h_in - h_out``.
The true CATE on "employed at month 24" is ``P_24(treated) - P_24(untreated)`` per person.
Both potential employment paths are simulated with common random numbers and stored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from o4o_causal.synth._common import STATE_CODE, CohortBlock, exit_months, expit, month_index, monthly_earnings, wages

H_OUT = 0.035
HORIZON = 24
COUNTRY_TAU = {"NO": 0.0, "SE": -0.10, "DK": 0.05}
COUNTRY_BASE = {"NO": 0.0, "SE": -0.10, "DK": 0.10}
WAGE_MEDIAN = {"NO": 29_000.0, "SE": 26_000.0, "DK": 25_000.0}
EXIT_HAZARD = 0.0008


def _covariates(rng: np.random.Generator, munis: pd.DataFrame, n: int) -> pd.DataFrame:
    weights = munis["population"].to_numpy(dtype=float)
    pick = rng.choice(len(munis), size=n, p=weights / weights.sum())
    m = munis.iloc[pick].reset_index(drop=True)
    nonwestern_p = np.clip(2.2 * m["nonwestern_share"].to_numpy(), 0.02, 0.7)
    u = rng.random(n)
    background = np.where(u < nonwestern_p, "nonwestern", np.where(u < nonwestern_p + 0.06, "western", "native"))
    return pd.DataFrame(
        {
            "municipality_id": m["municipality_id"].to_numpy(),
            "age": np.clip(np.round(18 + rng.gamma(2.2, 8.0, n)), 18, 62).astype(np.int64),
            "female": (rng.random(n) < 0.5).astype(np.int64),
            "background": background,
            "health_problem": (rng.random(n) < 0.5).astype(np.int64),
            "low_education": (rng.random(n) < 0.45).astype(np.int64),
            "n_children": rng.poisson(0.8, n).astype(np.int64),
            "attachment": rng.normal(0.0, 1.0, n),
        }
    )


def _hazard_logits(x: pd.DataFrame, m: pd.DataFrame, country: str) -> tuple[np.ndarray, np.ndarray]:
    nonwestern = (x["background"] == "nonwestern").to_numpy()
    health = x["health_problem"].to_numpy()
    eta0 = (
        -3.55
        + 0.45 * x["attachment"].to_numpy()
        - 0.55 * health
        - 0.35 * x["low_education"].to_numpy()
        - 0.30 * nonwestern
        - 0.012 * np.maximum(x["age"].to_numpy() - 35, 0)
        - 6.0 * (m["unemployment_rate"].to_numpy() - 0.05)
        + 0.40 * m["service_resources"].to_numpy()
        + COUNTRY_BASE[country]
    )
    tau = (
        0.15
        + 0.25 * health
        + 0.45 * health * m["health_employment_integration"].to_numpy()
        + 0.30 * m["joint_case_management"].to_numpy()
        - 0.30 * nonwestern
        + COUNTRY_TAU[country]
    )
    return eta0, tau


def _take_up(x: pd.DataFrame, m: pd.DataFrame, prior_employment: np.ndarray) -> np.ndarray:
    """Log-odds of integrated follow-up: needs, observed work history, configuration, resources."""
    return (
        -1.4
        + 0.7 * x["health_problem"].to_numpy()
        - 0.12 * (prior_employment - 3)
        + 0.3 * x["low_education"].to_numpy()
        + 0.8 * m["joint_case_management"].to_numpy()
        + 0.4 * m["co_location"].to_numpy()
        + 0.8 * m["service_resources"].to_numpy()
    )


def p_employed(h_in: np.ndarray, t: int | np.ndarray) -> np.ndarray:
    """Exact P(employed t months after starting non-employed) for the Markov chain."""
    lam = 1.0 - h_in - H_OUT
    return h_in / (h_in + H_OUT) * (1.0 - lam**t)


def expected_months(h_in: np.ndarray, horizon: int = HORIZON) -> np.ndarray:
    """Exact expected number of employed months among months 1..horizon."""
    return sum(p_employed(h_in, t) for t in range(1, horizon + 1))  # type: ignore[return-value]


def _chain(u: np.ndarray, h_in: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Run the employment chain over the columns of ``u`` (common random numbers)."""
    out = np.empty(u.shape, dtype=bool)
    state = start.copy()
    for t in range(u.shape[1]):
        state = np.where(state, u[:, t] >= H_OUT, u[:, t] < h_in)
        out[:, t] = state
    return out


def generate_core(rng: np.random.Generator, munis: pd.DataFrame, country: str, n: int, pre_months: int) -> CohortBlock:
    """Generate the core cohort of one country (``n`` persons)."""
    m_all = munis[munis["country"] == country].reset_index(drop=True)
    x = _covariates(rng, m_all, n)
    m = m_all.set_index("municipality_id").loc[x["municipality_id"]].reset_index()
    eta0, tau = _hazard_logits(x, m, country)
    h0, h1 = expit(eta0), expit(eta0 + tau)
    months = pre_months + 1 + HORIZON
    index = month_index(201801) + rng.integers(0, 24, n)
    # pre-period: stationary start, untreated hazards; index month: not employed
    start_pre = rng.random(n) < h0 / (h0 + H_OUT)
    pre = _chain(rng.random((n, pre_months)), h0, start_pre)
    # take-up depends on observed history (employed months in the 12 months before index)
    treated = rng.random(n) < expit(_take_up(x, m, pre[:, -12:].sum(axis=1)))
    u_post = rng.random((n, HORIZON))
    post0, post1 = _chain(u_post, h0, np.zeros(n, bool)), _chain(u_post, h1, np.zeros(n, bool))
    post = np.where(treated[:, None], post1, post0)
    employed = np.concatenate([pre, np.zeros((n, 1), bool), post], axis=1)
    wage = wages(rng, WAGE_MEDIAN[country] * np.where(x["low_education"] == 1, 0.8, 1.0), n)
    pay = monthly_earnings(rng, wage, np.ones((n, months), dtype=bool))  # pay if employed that month
    earnings = np.where(employed, pay, 0.0)
    benefit = _benefits(rng, x, employed, treated, pre_months)
    exit_rel = exit_months(rng, n, months, EXIT_HAZARD, earliest=pre_months + 1)
    cols = np.arange(months)
    after = cols[None, :] >= exit_rel[:, None]
    benefit[after], earnings[after] = -1, 0.0
    follow = np.where(treated, index + rng.integers(0, 3, n), -1)
    exit_abs = np.where(exit_rel < months, index - pre_months + exit_rel, -1)
    persons = _persons(x, index, pre_months, months, exit_abs, follow)
    truth = pd.DataFrame(
        {
            "row": np.arange(n),
            "treated": treated.astype(np.int64),
            "complete": (exit_rel > pre_months + HORIZON).astype(np.int64),
            "p0": p_employed(h0, HORIZON),
            "p1": p_employed(h1, HORIZON),
            "y0_employed_24": post0[:, -1].astype(np.int64),
            "y1_employed_24": post1[:, -1].astype(np.int64),
            "y0_months_employed_24": post0.sum(axis=1),
            "y1_months_employed_24": post1.sum(axis=1),
            "m0": expected_months(h0),
            "m1": expected_months(h1),
            "y0_earnings_24": (post0 * pay[:, pre_months + 1 :]).sum(axis=1),
            "y1_earnings_24": (post1 * pay[:, pre_months + 1 :]).sum(axis=1),
            "tau_logit": tau,
        }
    )
    truth["cate"] = truth["p1"] - truth["p0"]
    return CohortBlock(country, "core", persons, index - pre_months, benefit, earnings, {"core": truth})


def _benefits(
    rng: np.random.Generator, x: pd.DataFrame, employed: np.ndarray, treated: np.ndarray, pre_months: int
) -> np.ndarray:
    """Benefit state in non-employed months: a main benefit per person, some noise."""
    n, months = employed.shape
    health = x["health_problem"].to_numpy() == 1
    main = np.where(health, STATE_CODE["WAA"], np.where(rng.random(n) < 0.5, STATE_CODE["SA"], STATE_CODE["JOBSEEK"]))
    benefit = np.broadcast_to(main[:, None], (n, months)).copy()
    noise = rng.random((n, months))
    benefit[noise < 0.04] = STATE_CODE["INACTIVE"]
    benefit[(noise >= 0.04) & (noise < 0.06)] = STATE_CODE["EDU"]
    # integrated follow-up of WAA recipients comes with labour-market measures for 6 months
    cols = np.arange(months)
    measure = treated[:, None] & (cols[None, :] > pre_months) & (cols[None, :] <= pre_months + 6)
    benefit[measure & (benefit == STATE_CODE["WAA"])] = STATE_CODE["WAA_M"]
    benefit[employed] = STATE_CODE["INACTIVE"]
    # some SA recipients keep a small supplement while employed (SA outranks employment)
    supplement = employed & (main == STATE_CODE["SA"])[:, None] & (rng.random((n, months)) < 0.05)
    benefit[supplement] = STATE_CODE["SA"]
    return benefit.astype(np.int8)


def _persons(
    x: pd.DataFrame, index: np.ndarray, pre: int, months: int, exit_abs: np.ndarray, follow: np.ndarray
) -> pd.DataFrame:
    education = np.where(x["low_education"] == 1, "low", np.where(x["attachment"] > 0.8, "high", "medium"))
    return pd.DataFrame(
        {
            "index_month": index,
            "window_start": index - pre,
            "window_end": index - pre + months - 1,
            "birth_year": (2000 + index // 12) - x["age"].to_numpy(),
            "female": x["female"].to_numpy(),
            "background": x["background"].to_numpy(),
            "municipality_id": x["municipality_id"].to_numpy(),
            "education": education,
            "n_children": x["n_children"].to_numpy(),
            "health_problem": x["health_problem"].to_numpy(),
            "exit_month": exit_abs,
            "followup_month": follow,
        }
    )


__all__ = ["HORIZON", "H_OUT", "expected_months", "generate_core", "p_employed"]

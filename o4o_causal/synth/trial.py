"""A randomised trial with a binary employment outcome and a known effect.

Default rates are those of the Norwegian Individual Placement and Support (IPS) trial
(Reme et al. 2019): competitive employment at 12 months 27.1% in the control group and
36.6% with IPS, a true effect of +9.5 percentage points.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from o4o_causal import config
from o4o_causal.baselines import difference_in_means
from o4o_causal.exceptions import SpecificationError, format_error

IPS_CONTROL_RATE = 0.271
IPS_TREATED_RATE = 0.366


def _check(n: int, p0: float, p1: float, share_treated: float) -> None:
    if int(n) < 4:
        raise SpecificationError(format_error(what="n", expected="at least 4 persons", found=repr(n), fix="raise n"))
    for name, p in (("p0", p0), ("p1", p1), ("share_treated", share_treated)):
        if not 0.0 < p < 1.0:
            raise SpecificationError(
                format_error(what=name, expected="a probability strictly between 0 and 1", found=repr(p), fix="fix it")
            )


def simulate_trial(
    n: int,
    *,
    p0: float = IPS_CONTROL_RATE,
    p1: float = IPS_TREATED_RATE,
    share_treated: float = 0.5,
    seed: int | np.random.SeedSequence = 0,
) -> pd.DataFrame:
    """Simulate a two-arm trial with potential outcomes.

    Parameters
    ----------
    n
        Number of persons.
    p0, p1
        Employment probability without and with the intervention.
    share_treated
        Probability of assignment to the intervention (complete randomisation by coin).
    seed
        Seed (or seed sequence) of the random generator.

    Returns
    -------
    DataFrame
        ``person, treated, employed, employed_if_untreated, employed_if_treated``;
        the true effect in the population is ``p1 - p0``.
    """
    _check(n, p0, p1, share_treated)
    rng = np.random.default_rng(seed)
    u = rng.random(n)
    y0 = (u < p0).astype(np.int8)
    y1 = (u < p1).astype(np.int8)  # coupled potential outcomes: monotone effect
    d = (rng.random(n) < share_treated).astype(np.int8)
    return pd.DataFrame(
        {
            "person": np.arange(n),
            "treated": d,
            "employed": np.where(d == 1, y1, y0),
            "employed_if_untreated": y0,
            "employed_if_treated": y1,
        }
    )


def replicate_trial(
    n: int,
    reps: int,
    *,
    p0: float = IPS_CONTROL_RATE,
    p1: float = IPS_TREATED_RATE,
    seed: int = 0,
    ci_level: float = config.CI_LEVEL,
) -> pd.DataFrame:
    """Repeat the trial and the difference-in-means analysis ``reps`` times.

    Each replication has its own independent seed spawned from ``seed``, so results do
    not depend on the order or grouping in which replications run.

    Returns
    -------
    DataFrame
        One row per replication: ``rep, value, se, ci_low, ci_high, truth, covers``.
    """
    if int(reps) < 1:
        raise SpecificationError(format_error(what="reps", expected=">= 1", found=repr(reps), fix="raise reps"))
    truth = p1 - p0
    rows = []
    for rep, child in enumerate(np.random.SeedSequence(seed).spawn(int(reps))):
        est = difference_in_means(
            simulate_trial(n, p0=p0, p1=p1, seed=child), outcome="employed", treatment="treated", ci_level=ci_level
        )
        rows.append(
            {
                "rep": rep,
                "value": est.value,
                "se": est.se,
                "ci_low": est.ci_low,
                "ci_high": est.ci_high,
                "truth": truth,
                "covers": est.covers(truth),
            }
        )
    return pd.DataFrame(rows)

"""A clustered world for simulation studies: knobs for municipality confounding and heterogeneity.

:func:`simulation_world` draws persons in municipalities with a binary employment
outcome and a binary treatment. Each knob of a simulation design is one parameter:

* ``confounding``: strength of the *observed* municipality covariate ``resources`` on
  both treatment take-up and the outcome (0 = no municipality-level confounding);
* ``cluster_sd``: SD of an unobserved municipality intercept on the outcome (logit
  scale): within-municipality correlation that makes i.i.d. standard errors too small;
* ``heterogeneity``: scale of the effect variation: by the person-level modifier ``x3``,
  by the municipality configuration ``config`` and by an unobserved municipality
  deviation ``v_m ~ N(0, (0.5 heterogeneity)²)`` (0 = the same effect on the logit scale).

``eta0 = -0.4 + 0.8 x1 - 0.5 x2 + 0.3 x4 + 0.8 confounding r_m + u_m`` and
``effect = 0.5 + heterogeneity (0.5 (x3 - 0.5) + 0.4 (config_m - 0.5) + w_m)``, with
``P(D = 1) = expit(-0.3 + confounding r_m + 0.6 x1 - 0.4 x2 + 0.4 config_m)``.
Person-level covariates are binary, so the Bayesian multilevel model can use sufficient
statistics, and the model class of :func:`o4o_causal.bayes.fit_multilevel` (covariates
``x1..x4, resources, config``; modifiers ``x3, config``) contains the truth.

The truth is exact per person (``p0``, ``p1``); :func:`population_ate` gives the
superpopulation average effect (municipalities and persons redrawn), the target of
cluster-robust intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from o4o_causal.exceptions import SpecificationError, format_error

#: Probabilities of the binary person-level covariates x1..x4.
X_PROBS = (0.5, 0.4, 0.5, 0.3)
#: Seed and size of the Monte Carlo integration in :func:`population_ate` (MC SD ~ 1e-4).
POPULATION_SEED = 20_261_130
POPULATION_DRAWS = 2_000_000


@dataclass(frozen=True)
class SimWorld:
    """Data drawn from :func:`simulation_world` and its truth.

    Attributes
    ----------
    data
        ``municipality, x1..x4, resources, config, treated, employed`` (one row per person).
    truth
        ``p0, p1, cate`` per person (same row order as ``data``).
    municipality_effects
        True average effect (mean ``cate``) of every municipality, indexed by label.
    """

    data: pd.DataFrame
    truth: pd.DataFrame
    municipality_effects: pd.Series

    @property
    def sate(self) -> float:
        """Sample average treatment effect (mean of the persons' true effects)."""
        return float(self.truth["cate"].mean())


def _check(n: int, municipalities: int, values: dict[str, float]) -> None:
    if not isinstance(municipalities, int | np.integer) or municipalities < 2:
        raise SpecificationError(
            format_error(
                what="municipalities", expected="an integer >= 2", found=repr(municipalities), fix="use e.g. 100"
            )
        )
    if not isinstance(n, int | np.integer) or n < 10 * municipalities:
        raise SpecificationError(
            format_error(
                what="n",
                expected=f"an integer >= 10 x municipalities (= {10 * municipalities})",
                found=repr(n),
                fix="use more persons or fewer municipalities",
            )
        )
    for name, value in values.items():
        if not np.isfinite(value) or value < 0:
            raise SpecificationError(
                format_error(what=name, expected="a finite number >= 0", found=repr(value), fix="use e.g. 0.5")
            )


def _linear(
    x: np.ndarray, r: np.ndarray, config: np.ndarray, u: np.ndarray, w: np.ndarray, p: dict[str, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Return (eta0, effect) on the logit scale for persons with covariates ``x`` (n x 4)."""
    eta0 = -0.4 + 0.8 * x[:, 0] - 0.5 * x[:, 1] + 0.3 * x[:, 3] + 0.8 * p["confounding"] * r + u
    effect = 0.5 + p["heterogeneity"] * (0.5 * (x[:, 2] - 0.5) + 0.4 * (config - 0.5) + w)
    return eta0, effect


def _municipalities(rng: np.random.Generator, g: int, p: dict[str, float]) -> dict[str, np.ndarray]:
    return {
        "resources": rng.normal(0.0, 1.0, g),
        "config": (rng.random(g) < 0.5).astype(float),
        "u": rng.normal(0.0, 1.0, g) * p["cluster_sd"],
        "w": rng.normal(0.0, 0.5, g),
    }


def simulation_world(
    n: int = 10_000,
    *,
    municipalities: int = 100,
    confounding: float = 0.5,
    heterogeneity: float = 1.0,
    cluster_sd: float = 0.5,
    size_sd: float = 0.5,
    seed: int = 0,
) -> SimWorld:
    """Draw one data set of the simulation world.

    Parameters
    ----------
    n
        Persons (>= 10 per municipality).
    municipalities
        Number of municipalities; sizes are log-normal with log-SD ``size_sd``.
    confounding
        Strength of municipality-level confounding through the observed ``resources``.
    heterogeneity
        Scale of the effect variation (persons, configuration, municipality deviations).
    cluster_sd
        SD of the unobserved municipality intercept on the outcome (logit scale).
    size_sd
        Log-SD of municipality sizes (0 = equal expected sizes).
    seed
        Seed.

    Returns
    -------
    SimWorld
        Data, per-person truth and municipality effects.
    """
    par = {"confounding": confounding, "heterogeneity": heterogeneity, "cluster_sd": cluster_sd, "size_sd": size_sd}
    _check(n, municipalities, par)
    rng = np.random.default_rng(seed)
    muni = _municipalities(rng, municipalities, par)
    size = rng.lognormal(0.0, size_sd, municipalities)
    code = np.sort(rng.choice(municipalities, size=n, p=size / size.sum()))
    x = (rng.random((n, len(X_PROBS))) < np.asarray(X_PROBS)).astype(float)
    r, cfg = muni["resources"][code], muni["config"][code]
    eta0, effect = _linear(x, r, cfg, muni["u"][code], muni["w"][code], par)
    e = expit(-0.3 + confounding * r + 0.6 * x[:, 0] - 0.4 * x[:, 1] + 0.4 * cfg)
    d = (rng.random(n) < e).astype(np.int8)
    p0, p1 = expit(eta0), expit(eta0 + effect)
    y = (rng.random(n) < np.where(d == 1, p1, p0)).astype(np.int8)
    labels = np.array([f"m{c:04d}" for c in range(municipalities)])
    data = pd.DataFrame({"municipality": labels[code]})
    for j in range(len(X_PROBS)):
        data[f"x{j + 1}"] = x[:, j].astype(np.int8)
    data["resources"] = r
    data["config"] = cfg.astype(np.int8)
    data["treated"] = d
    data["employed"] = y
    truth = pd.DataFrame({"p0": p0, "p1": p1, "cate": p1 - p0})
    effects = truth["cate"].groupby(data["municipality"].to_numpy()).mean()
    effects.index.name = "municipality"
    return SimWorld(data=data, truth=truth, municipality_effects=effects)


def population_ate(
    *,
    confounding: float = 0.5,
    heterogeneity: float = 1.0,
    cluster_sd: float = 0.5,
    draws: int = POPULATION_DRAWS,
    seed: int = POPULATION_SEED,
) -> float:
    """Superpopulation average treatment effect of the world (Monte Carlo, MC SD about 1e-4).

    Municipality attributes are independent of municipality size, so the person-weighted
    average equals the average over independent draws of (municipality, person); it does
    not depend on ``n``, the number of municipalities or ``size_sd``.

    Parameters
    ----------
    confounding, heterogeneity, cluster_sd
        As in :func:`simulation_world`.
    draws
        Monte Carlo draws.
    seed
        Seed of the integration (fixed, so the truth of a design is a constant).

    Returns
    -------
    float
        ``E[p1 - p0]``.
    """
    par: dict[str, Any] = {"confounding": confounding, "heterogeneity": heterogeneity, "cluster_sd": cluster_sd}
    _check(10 * 2, 2, par)
    rng = np.random.default_rng(seed)
    total = 0.0
    chunk = 500_000
    for start in range(0, draws, chunk):
        m = min(chunk, draws - start)
        muni = _municipalities(rng, m, par)
        x = (rng.random((m, len(X_PROBS))) < np.asarray(X_PROBS)).astype(float)
        eta0, effect = _linear(x, muni["resources"], muni["config"], muni["u"], muni["w"], par)
        total += float(np.sum(expit(eta0 + effect) - expit(eta0)))
    return total / draws


__all__ = ["SimWorld", "population_ate", "simulation_world"]

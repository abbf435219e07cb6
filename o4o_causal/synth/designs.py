"""Small parametric designs with known heterogeneous effects, for studies and benchmarks.

:func:`cate_design` draws persons nested in municipalities with a binary employment
outcome, a binary treatment confounded by an observed municipality covariate and by
individual covariates, an outcome random effect per municipality (the within-cluster
correlation that makes naive standard errors too small), and a treatment effect that
varies with individual covariates and with the municipality's integration. The truth
is exact: every person's potential outcome probabilities ``p0`` and ``p1`` are known.
Unlike :func:`~o4o_causal.synth.generate_world` it has no registers and no country
structure; it scales to millions of rows in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit

from o4o_causal.exceptions import SpecificationError, format_error


@dataclass(frozen=True)
class Design:
    """Data drawn from :func:`cate_design` and its truth."""

    data: pd.DataFrame
    truth: pd.DataFrame
    effect_modifiers: tuple[str, ...]
    controls: tuple[str, ...]

    @property
    def ate(self) -> float:
        """Sample average treatment effect (mean of the persons' true effects)."""
        return float(self.truth["cate"].mean())


def cate_design(
    n: int = 20_000,
    *,
    n_clusters: int = 200,
    n_covariates: int = 10,
    cluster_sd: float = 0.5,
    confounding: float = 0.6,
    heterogeneity: float = 1.0,
    treatment_cluster_sd: float = 0.0,
    seed: int = 0,
) -> Design:
    """Draw a clustered observational data set with a known heterogeneous effect.

    Parameters
    ----------
    n
        Number of persons.
    n_clusters
        Number of municipalities (sizes are log-normal: many small, a few large).
    n_covariates
        Individual covariates ``x1..xK`` (K >= 5; ``x1``-``x5`` matter, the rest are noise;
        odd-numbered ones are binary).
    cluster_sd
        Standard deviation of the municipality random effect on the outcome (logit scale).
    confounding
        Strength of the observed municipality confounder ``resources`` on treatment and outcome.
    heterogeneity
        Scale of the effect variation (0 = constant effect on the logit scale).
    treatment_cluster_sd
        Standard deviation of an unobserved municipality shock on treatment (logit scale),
        independent of the outcome: it does not confound, but it makes treatment rates
        differ between otherwise similar municipalities.
    seed
        Seed.

    Returns
    -------
    Design
        ``data`` (municipality, x1..xK, resources, integrated, treated, employed) and
        ``truth`` (p0, p1, cate per person).
    """
    if n_covariates < 5:
        raise SpecificationError(
            format_error(what="n_covariates", expected=">= 5", found=str(n_covariates), fix="use 5 or more")
        )
    if n_clusters < 2 or n < 10 * n_clusters:
        raise SpecificationError(
            format_error(
                what="n_clusters",
                expected="2 <= n_clusters <= n / 10",
                found=f"n_clusters={n_clusters}, n={n}",
                fix="use fewer clusters or more persons",
            )
        )
    rng = np.random.default_rng(seed)
    size = rng.lognormal(0.0, 1.0, n_clusters)
    cluster = rng.choice(n_clusters, size=n, p=size / size.sum())
    cluster = np.sort(cluster)
    resources = rng.normal(0.0, 1.0, n_clusters)
    integrated = (rng.random(n_clusters) < expit(0.5 * resources - 0.3)).astype(np.int8)
    u = rng.normal(0.0, cluster_sd, n_clusters)
    shift = rng.normal(0.0, 0.5, n_clusters)  # covariates differ between municipalities
    v = rng.normal(0.0, treatment_cluster_sd, n_clusters) if treatment_cluster_sd > 0 else np.zeros(n_clusters)
    x = np.empty((n, n_covariates), dtype=np.float32)
    for j in range(n_covariates):
        latent = rng.normal(0.0, 1.0, n) + shift[cluster] * (j % 3 == 0)
        x[:, j] = (latent > 0.3) if j % 2 == 0 else latent
    r = resources[cluster]
    z = integrated[cluster].astype(float)
    x1, x2, x3, x4, x5 = (x[:, j].astype(float) for j in range(5))
    e = expit(-0.4 + confounding * r + 0.5 * x1 - 0.4 * x2 + 0.3 * z + v[cluster])
    d = (rng.random(n) < e).astype(np.int8)
    base = -0.4 + 0.6 * x1 + 0.5 * x2 - 0.4 * x4 + confounding * 0.8 * r + u[cluster]
    tau = 0.45 + heterogeneity * (0.5 * x3 - 0.35 * x2 + 0.6 * z * x3 - 0.25 * x5)
    p0, p1 = expit(base), expit(base + tau)
    y = (rng.random(n) < np.where(d == 1, p1, p0)).astype(np.int8)
    names = [f"x{j + 1}" for j in range(n_covariates)]
    data = pd.DataFrame(x, columns=names)
    data.insert(0, "municipality", pd.Series(cluster, dtype="int32").map(lambda c: f"m{c:04d}"))
    data["resources"] = r.astype(np.float32)
    data["integrated"] = z.astype(np.int8)
    data["treated"] = d
    data["employed"] = y
    truth = pd.DataFrame({"p0": p0, "p1": p1, "cate": p1 - p0})
    modifiers = (*names, "integrated")
    return Design(data=data, truth=truth, effect_modifiers=modifiers, controls=("resources",))


def multilevel_design(
    n: int = 4000,
    *,
    per_country: int = 20,
    family: str = "bernoulli",
    n_binary: int = 2,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.Series]:
    """Draw persons in municipalities in three countries from the multilevel model class itself.

    ``eta = -0.4 + a_c + x'b + u_m + D (0.6 + t_c + 0.5 (config_m - mean) + v_m)`` with
    ``u_m ~ N(0, 0.5)``, ``v_m ~ N(0, 0.35)``, country effects ``a = (0, 0.3, -0.2)``,
    ``t = (0, -0.2, -0.4)`` for DK, NO, SE, binary covariates ``x1..xK`` and a binary
    municipality configuration ``config`` that raises treatment take-up and the effect.

    Parameters
    ----------
    n
        Persons.
    per_country
        Municipalities per country.
    family
        ``"bernoulli"`` (logit) or ``"normal"`` (identity, residual SD 1).
    n_binary
        Number of binary person-level covariates (>= 2).
    seed
        Seed.

    Returns
    -------
    (DataFrame, Series)
        Data (country, municipality, x1..xK, config, treated, y) and the true average
        effect of every municipality (probability scale for bernoulli).
    """
    if family not in ("bernoulli", "normal"):
        raise SpecificationError(
            format_error(what="family", expected="'bernoulli' or 'normal'", found=repr(family), fix="pick one")
        )
    if n_binary < 2:
        raise SpecificationError(
            format_error(what="n_binary", expected=">= 2", found=str(n_binary), fix="use 2 or more")
        )
    rng = np.random.default_rng(seed)
    countries = np.repeat(["DK", "NO", "SE"], per_country)
    g = countries.size
    muni = rng.integers(0, g, n)
    c = pd.factorize(countries, sort=True)[0]
    config = rng.random(g) < 0.5
    u, v = rng.normal(0, 0.5, g), rng.normal(0, 0.35, g)
    x = rng.random((n, n_binary)) < np.linspace(0.4, 0.5, n_binary)
    coefs = np.concatenate([[0.8, -0.5], np.full(n_binary - 2, 0.2)])
    d = rng.random(n) < expit(-0.3 + 0.6 * x[:, 0] + 0.5 * config[muni])
    a_c, t_c = np.array([0.0, 0.3, -0.2]), np.array([0.0, -0.2, -0.4])
    eta0 = -0.4 + a_c[c[muni]] + x @ coefs + u[muni]
    effect = 0.6 + t_c[c[muni]] + 0.5 * (config[muni] - config.mean()) + v[muni]
    if family == "bernoulli":
        y: np.ndarray = (rng.random(n) < expit(eta0 + d * effect)).astype(int)
        person_effect = expit(eta0 + effect) - expit(eta0)
    else:
        y = eta0 + d * effect + rng.normal(0, 1.0, n)
        person_effect = effect
    labels = np.array([f"{countries[m]}-{m:03d}" for m in range(g)])
    data = pd.DataFrame({"country": countries[muni], "municipality": labels[muni]})
    for j in range(n_binary):
        data[f"x{j + 1}"] = x[:, j].astype(int)
    data["config"] = config[muni].astype(int)
    data["treated"] = d.astype(int)
    data["y"] = y
    truth = pd.Series(person_effect).groupby(data["municipality"]).mean()
    return data, truth

"""The PyMC model of :func:`~o4o_causal.bayes.fit_multilevel` and its priors."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from o4o_causal.bayes.design import Design


@dataclass(frozen=True)
class Priors:
    """Weakly informative priors (logit scale for binary outcomes; outcome-SD units otherwise).

    Normal(0, sd) for the intercept, covariate coefficients, country fixed effects,
    average treatment effect and the treatment-modifier (incl. cross-level) interactions;
    half-normal(scale) for the municipality standard deviations of intercepts and of
    treatment effects and, for a normal outcome, for the residual SD.
    """

    intercept_sd: float = 2.0
    coef_sd: float = 1.0
    country_sd: float = 1.0
    effect_sd: float = 1.0
    interaction_sd: float = 0.5
    municipality_intercept_scale: float = 1.0
    municipality_effect_scale: float = 0.5
    residual_scale: float = 1.0

    def __post_init__(self) -> None:
        bad = {k: v for k, v in asdict(self).items() if not (isinstance(v, int | float) and np.isfinite(v) and v > 0)}
        if bad:
            from o4o_causal.exceptions import SpecificationError, format_error

            raise SpecificationError(
                format_error(what="priors", expected="positive finite scales", found=str(bad), fix="use e.g. 1.0")
            )

    def table(self, *, scale: float = 1.0, centre: float = 0.0) -> pd.DataFrame:
        """Return the priors as a table (parameter, distribution, scale).

        ``scale``/``centre``: the outcome SD and mean for a normal outcome (priors are in
        outcome-SD units and the intercept is centred on the mean); the table then shows
        the priors actually used (:meth:`MultilevelResult.prior_table`).
        """
        labels = {
            "intercept_sd": ("alpha (intercept)", "Normal(0, {})"),
            "coef_sd": ("beta (covariates)", "Normal(0, {})"),
            "country_sd": ("country effects on intercept and treatment effect", "Normal(0, {})"),
            "effect_sd": ("theta (treatment effect, reference country)", "Normal(0, {})"),
            "interaction_sd": ("delta (treatment x modifiers / conditions)", "Normal(0, {})"),
            "municipality_intercept_scale": ("sigma_u (municipality intercepts)", "HalfNormal({})"),
            "municipality_effect_scale": ("sigma_v (municipality treatment effects)", "HalfNormal({})"),
            "residual_scale": ("sigma (residual, normal family)", "HalfNormal({})"),
        }
        rows = []
        for k, v in asdict(self).items():
            text = labels[k][1].format(f"{v * scale:.4g}")
            if k == "intercept_sd" and centre:
                text = text.replace("Normal(0,", f"Normal({centre:.4g},")
            rows.append({"parameter": labels[k][0], "prior": text})
        return pd.DataFrame(rows)


def build_model(design: Design, priors: Priors, *, varying_effects: bool = True, centred: bool = False) -> Any:
    """Return the PyMC model (non-centred municipality intercepts and, optionally, treatment effects)."""
    import pymc as pm

    coords = {
        "country_other": list(design.countries[1:]),
        "municipality": list(design.municipalities),
        "covariate": list(design.covariates),
        "modifier": list(design.modifiers),
    }
    normal = design.family == "normal"
    scale = design.y_sd if normal else 1.0
    with pm.Model(coords=coords) as model:
        alpha = pm.Normal("alpha", design.y_mean if normal else 0.0, priors.intercept_sd * scale)
        a_c = pm.Normal("country_intercept", 0.0, priors.country_sd * scale, dims="country_other")
        theta = pm.Normal("theta", 0.0, priors.effect_sd * scale)
        t_c = pm.Normal("country_effect", 0.0, priors.country_sd * scale, dims="country_other")
        sigma_u = pm.HalfNormal("sigma_u", priors.municipality_intercept_scale * scale)
        if centred:
            u = pm.Normal("u", 0.0, sigma_u, dims="municipality")
        else:
            e_u = pm.Normal("u_raw", 0.0, 1.0, dims="municipality")
            u = pm.Deterministic("u", sigma_u * e_u, dims="municipality")
        a_full = pm.math.concatenate([np.zeros(1), a_c])
        t_full = pm.math.concatenate([np.zeros(1), t_c])
        eta = alpha + a_full[design.country] + u[design.municipality]
        effect = theta + t_full[design.country]
        if varying_effects:
            sigma_v = pm.HalfNormal("sigma_v", priors.municipality_effect_scale * scale)
            if centred:
                v = pm.Normal("v", 0.0, sigma_v, dims="municipality")
            else:
                e_v = pm.Normal("v_raw", 0.0, 1.0, dims="municipality")
                v = pm.Deterministic("v", sigma_v * e_v, dims="municipality")
            effect = effect + v[design.municipality]
        if design.x.shape[1]:
            beta = pm.Normal("beta", 0.0, priors.coef_sd * scale, dims="covariate")
            eta = eta + pm.math.dot(design.x, beta)
        if design.z.shape[1]:
            delta = pm.Normal("delta", 0.0, priors.interaction_sd * scale, dims="modifier")
            effect = effect + pm.math.dot(design.z, delta)
        eta = eta + design.d * effect
        _likelihood(pm, design, eta, priors, scale)
    return model


def _likelihood(pm: Any, design: Design, eta: Any, priors: Priors, scale: float) -> None:
    if design.family == "bernoulli":
        if design.collapsed:
            pm.Binomial("y", n=design.weight.astype(np.int64), logit_p=eta, observed=design.y.astype(np.int64))
        else:
            pm.Bernoulli("y", logit_p=eta, observed=design.y.astype(np.int64))
        return
    sigma = pm.HalfNormal("sigma", priors.residual_scale * scale)
    if not design.collapsed:
        pm.Normal("y", mu=eta, sigma=sigma, observed=design.y)
        return
    # sum over a cell of log N(y_i | eta, sigma), with c = y_mean, e = eta - c and S1, S2 the sums of
    # (y - c) and (y - c)^2: -n log(sigma sqrt(2 pi)) - (S2 - 2 e S1 + n e^2) / (2 sigma^2)
    assert design.y2 is not None and design.yc is not None
    n, s1, s2 = design.weight, design.yc, design.y2
    e = eta - design.y_mean
    loglik = -n * (pm.math.log(sigma) + 0.5 * np.log(2 * np.pi)) - (s2 - 2 * e * s1 + n * e**2) / (2 * sigma**2)
    pm.Potential("y_cells", loglik.sum())

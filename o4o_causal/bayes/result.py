"""The result of :func:`~o4o_causal.bayes.fit_multilevel`: effects on the probability scale."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import expit

from o4o_causal import config
from o4o_causal.bayes.design import Design
from o4o_causal.bayes.loo import LooResult, person_loo
from o4o_causal.bayes.model import Priors
from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.results import Estimate

CHUNK = 200  # at most this many posterior draws per block when computing effects
CHUNK_VALUES = 5_000_000  # and at most this many draws x rows values per block


@dataclass(frozen=True)
class Effects:
    """Posterior draws (draws x groups) of average treatment effects on the outcome scale."""

    overall: np.ndarray
    country: np.ndarray
    municipality: np.ndarray


@dataclass(frozen=True, repr=False)
class MultilevelResult:
    """Posterior of the multilevel model, with effects as average marginal effects.

    Effects are average marginal effects over the persons of a group: the mean over
    persons of ``P(Y=1 | D=1) - P(Y=1 | D=0)`` (binary outcome) under each posterior draw.
    Intervals are equal-tailed at ``ci_level``.
    """

    outcome: str
    treatment: str
    levels: tuple[str, ...]
    design: Design = field(repr=False)
    priors: Priors
    idata: Any = field(repr=False)
    model: Any = field(repr=False)
    diagnostics_table: pd.DataFrame = field(repr=False)
    seed: int
    ci_level: float
    timings: dict[str, float] = field(default_factory=dict)

    def draws(self, name: str) -> np.ndarray:
        """Return the posterior draws of ``name`` stacked over chains (draws first)."""
        arr = np.asarray(self.idata["posterior"][name].values)
        return arr.reshape(arr.shape[0] * arr.shape[1], *arr.shape[2:])

    @cached_property
    def _params(self) -> dict[str, np.ndarray]:
        names = ("alpha", "theta", "u", "v", "beta", "delta", "country_intercept", "country_effect", "sigma")
        return {n: self.draws(n) for n in names if n in self.idata["posterior"].data_vars}

    @property
    def n_draws(self) -> int:
        """Number of posterior draws (all chains)."""
        return int(self._params["alpha"].size)

    def _linear(
        self, idx: np.ndarray | slice | None = None, *, rows: np.ndarray | slice | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return (eta0, effect) on the linear-predictor scale for draws ``idx`` and ``rows``, draws x rows."""
        d = self.design
        r = slice(None) if rows is None else rows
        country, muni = d.country[r], d.municipality[r]
        p = {k: v[slice(None) if idx is None else idx] for k, v in self._params.items()}
        zeros = np.zeros((p["alpha"].size, 1))
        a = np.column_stack([zeros, p["country_intercept"]]) if len(d.countries) > 1 else zeros
        t = np.column_stack([zeros, p["country_effect"]]) if len(d.countries) > 1 else zeros
        eta0 = p["alpha"][:, None] + a[:, country] + p["u"][:, muni]
        effect = p["theta"][:, None] + t[:, country]
        if "v" in p:
            effect = effect + p["v"][:, muni]
        if d.x.shape[1]:
            eta0 = eta0 + p["beta"] @ d.x[r].T
        if d.z.shape[1]:
            effect = effect + p["delta"] @ d.z[r].T
        return eta0, effect

    def _row_effects(self, eta0: np.ndarray, effect: np.ndarray) -> np.ndarray:
        if self.design.family == "normal":
            return effect
        return np.asarray(expit(eta0 + effect) - expit(eta0))

    @cached_property
    def effects(self) -> Effects:
        """Posterior draws of the average effects overall, by country and by municipality."""
        d = self.design
        w = d.weight
        n_rows = w.size
        agg_m = sparse.csr_matrix((w, (d.municipality, np.arange(n_rows))), shape=(len(d.municipalities), n_rows))
        agg_c = sparse.csr_matrix((w, (d.country, np.arange(n_rows))), shape=(len(d.countries), n_rows))
        per_m = np.asarray(agg_m.sum(axis=1)).ravel()
        per_c = np.asarray(agg_c.sum(axis=1)).ravel()
        out_m, out_c, out_all = [], [], []
        chunk = max(1, min(CHUNK, CHUNK_VALUES // n_rows))
        for start in range(0, self.n_draws, chunk):
            rows = self._row_effects(*self._linear(slice(start, start + chunk)))
            out_m.append(np.asarray((agg_m @ rows.T).T) / per_m)
            out_c.append(np.asarray((agg_c @ rows.T).T) / per_c)
            out_all.append(rows @ w / w.sum())
        return Effects(np.concatenate(out_all), np.vstack(out_c), np.vstack(out_m))

    def _interval(self, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = (1 - self.ci_level) / 2
        return np.quantile(draws, q, axis=0), np.quantile(draws, 1 - q, axis=0)

    def ame(self) -> Estimate:
        """Average marginal effect of the treatment over all persons (posterior mean, sd, interval)."""
        draws = self.effects.overall
        low, high = self._interval(draws)
        return Estimate(
            value=float(draws.mean()),
            se=float(draws.std()),
            ci_low=float(low),
            ci_high=float(high),
            n=self.design.n_persons,
            method="Bayesian multilevel (posterior mean, sd, equal-tailed interval)",
            ci_level=self.ci_level,
            estimand="ATE",
        )

    def group_effects(self, level: str = "municipality", *, suppress: bool = True) -> pd.DataFrame:
        """Average effects by ``"country"`` or ``"municipality"`` with posterior intervals.

        Columns: group, (country), persons, mean, sd, ci_low, ci_high, p_positive; groups
        with fewer persons than the disclosure threshold are flagged ``small``.
        """
        d = self.design
        if level == "country":
            draws, labels, codes = self.effects.country, d.countries, d.country
        elif level == "municipality":
            draws, labels, codes = self.effects.municipality, d.municipalities, d.municipality
        else:
            raise SpecificationError(
                format_error(what="level", expected="'country' or 'municipality'", found=repr(level), fix="pick one")
            )
        low, high = self._interval(draws)
        table = pd.DataFrame(
            {
                "group": list(labels),
                "persons": np.bincount(codes, weights=d.weight, minlength=len(labels)).astype(int),
                "mean": draws.mean(axis=0),
                "sd": draws.std(axis=0),
                "ci_low": low,
                "ci_high": high,
                "p_positive": (draws > 0).mean(axis=0),
            }
        )
        if level == "municipality":
            table.insert(1, "country", [d.countries[c] for c in d.muni_country])
        table["small"] = table["persons"] < config.DISCLOSURE.threshold
        if suppress:
            table.loc[table["small"], ["persons", "mean", "sd", "ci_low", "ci_high", "p_positive"]] = np.nan
        return table

    def country_contrasts(self) -> pd.DataFrame:
        """Pairwise differences of the country average effects with intervals and P(difference > 0)."""
        draws, labels = self.effects.country, self.design.countries
        rows = []
        for i, j in itertools.combinations(range(len(labels)), 2):
            diff = draws[:, i] - draws[:, j]
            low, high = self._interval(diff)
            rows.append(
                {
                    "contrast": f"{labels[i]} - {labels[j]}",
                    "mean": float(diff.mean()),
                    "sd": float(diff.std()),
                    "ci_low": float(low),
                    "ci_high": float(high),
                    "p_positive": float((diff > 0).mean()),
                }
            )
        return pd.DataFrame(rows)

    def shrinkage(self) -> pd.DataFrame:
        """Raw municipality effects (difference in means) next to the partially pooled ones.

        ``raw`` is the treated minus untreated mean outcome, shown only where both arms have
        at least the disclosure threshold of persons (counts below it are blanked too).
        ``shrinkage`` is ``1 - var(pooled) / var(raw)``: the share of the raw estimate's
        sampling variance removed by partial pooling (0 = none, 1 = complete); the raw
        variance is the binomial (or, for a normal outcome, residual) variance of the
        difference. Note ``raw`` is unadjusted while ``pooled`` is covariate-adjusted.
        """
        d = self.design
        m = len(d.municipalities)
        threshold = config.DISCLOSURE.threshold
        count, mean = {}, {}
        for arm in (0, 1):
            sel = d.d == arm
            count[arm] = np.bincount(d.municipality[sel], weights=d.weight[sel], minlength=m)
            total = np.bincount(d.municipality[sel], weights=d.y[sel], minlength=m)
            mean[arm] = np.divide(total, count[arm], out=np.full(m, np.nan), where=count[arm] > 0)
        enough = (count[0] >= threshold) & (count[1] >= threshold)
        if d.family == "bernoulli":
            var_raw = sum(mean[a] * (1 - mean[a]) / np.where(count[a] > 0, count[a], np.nan) for a in (0, 1))
        else:
            s2 = float(np.mean(self._params["sigma"] ** 2))
            var_raw = s2 * (1 / np.where(count[0] > 0, count[0], np.nan) + 1 / np.where(count[1] > 0, count[1], np.nan))
        effects = self.group_effects("municipality")
        table = effects[["group", "country", "persons"]].copy()
        table["treated"] = np.where(count[1] >= threshold, count[1], np.nan)
        table["untreated"] = np.where(count[0] >= threshold, count[0], np.nan)
        table["raw"] = np.where(enough, mean[1] - mean[0], np.nan)
        table["pooled"] = effects["mean"]
        table["ci_low"], table["ci_high"] = effects["ci_low"], effects["ci_high"]
        with np.errstate(invalid="ignore", divide="ignore"):
            shrink = 1 - effects["sd"].to_numpy() ** 2 / var_raw
        table["shrinkage"] = np.where(enough & (var_raw > 0), shrink, np.nan)
        return table

    def summary(self) -> pd.DataFrame:
        """Posterior summary of the model's scalar and vector parameters (not the municipality ones).

        Logit scale for binary outcomes; mean, sd, equal-tailed interval, R-hat and ESS.
        """
        rows = []
        post = self.idata["posterior"]
        for name in (
            "alpha",
            "theta",
            "sigma_u",
            "sigma_v",
            "sigma",
            "country_intercept",
            "country_effect",
            "beta",
            "delta",
        ):
            if name not in post.data_vars:
                continue
            draws = self.draws(name)
            labels = [name] if draws.ndim == 1 else [f"{name}[{c}]" for c in post[name][post[name].dims[-1]].values]
            flat = draws.reshape(draws.shape[0], -1)
            low, high = self._interval(flat)
            for j, label in enumerate(labels):
                rows.append(
                    {
                        "parameter": label,
                        "mean": float(flat[:, j].mean()),
                        "sd": float(flat[:, j].std()),
                        "ci_low": float(low[j]),
                        "ci_high": float(high[j]),
                    }
                )
        table = pd.DataFrame(rows)
        diag = self.diagnostics_table
        if {"parameter", "rhat"} <= set(diag.columns):
            table = table.merge(diag, on="parameter", how="left")
        return table

    def loo(self) -> LooResult:
        """Person-level PSIS-LOO (exact for cells; see :mod:`o4o_causal.bayes.loo`)."""
        return person_loo(self)

    def prior_table(self) -> pd.DataFrame:
        """Return the priors actually used (scaled by the outcome SD for a normal outcome)."""
        if self.design.family == "normal":
            return self.priors.table(scale=self.design.y_sd, centre=self.design.y_mean)
        return self.priors.table()

    def ppc(self, by: str = "country", *, draws: int = 500) -> pd.DataFrame:
        """Posterior predictive check: observed vs replicated outcome means by group and arm.

        Replicated data are drawn from the posterior predictive (binomial counts or normal
        means per row, seeded); a well-fitting model has the observed mean inside the
        replicated interval in most groups. ``by`` is ``"country"`` or ``"overall"``.
        """
        d = self.design
        rng = np.random.default_rng(self.seed)
        size = min(draws, self.n_draws, max(50, 4 * CHUNK_VALUES // d.weight.size))  # bounded memory
        pick = np.sort(rng.choice(self.n_draws, size=size, replace=False))
        eta0, effect = self._linear(pick)
        eta = eta0 + d.d * effect
        if d.family == "bernoulli":
            rep = rng.binomial(d.weight.astype(np.int64), expit(eta)).astype(float)
        else:
            sigma = self._params["sigma"][pick][:, None]
            rep = (eta + rng.normal(size=eta.shape) * sigma / np.sqrt(d.weight)) * d.weight
        if by == "country":
            group, labels = d.country, d.countries
        elif by == "overall":
            group, labels = np.zeros(d.weight.size, dtype=np.int64), ("all",)
        else:
            raise SpecificationError(
                format_error(what="by", expected="'country' or 'overall'", found=repr(by), fix="pick one")
            )
        rows = []
        for g, label in enumerate(labels):
            for arm in (0, 1):
                sel = (group == g) & (d.d == arm)
                n = d.weight[sel].sum()
                if n == 0:
                    continue
                if n < config.DISCLOSURE.threshold:
                    continue  # too few persons to show their mean outcome
                sims = rep[:, sel].sum(axis=1) / n
                low, high = self._interval(sims)
                observed = float(d.y[sel].sum() / n)
                rows.append(
                    {
                        "group": label,
                        "treated": arm,
                        "persons": int(n),
                        "observed": observed,
                        "replicated_mean": float(sims.mean()),
                        "ci_low": float(low),
                        "ci_high": float(high),
                        "inside": bool(low <= observed <= high),
                    }
                )
        return pd.DataFrame(rows)

    def diagnostics(self) -> pd.DataFrame:
        """Convergence diagnostics (R-hat, bulk/tail ESS per parameter; divergences, E-BFMI in attrs)."""
        return self.diagnostics_table.copy()

    def __repr__(self) -> str:
        a = self.ame()
        path = "sufficient statistics" if self.design.collapsed else "individual level"
        return (
            f"MultilevelResult({self.outcome} ~ {self.treatment}; {self.design.n_persons} persons, "
            f"{len(self.design.municipalities)} municipalities, {len(self.design.countries)} countries; "
            f"{path}, {self.design.weight.size} rows; AME {a.value:.4f} [{a.ci_low:.4f}, {a.ci_high:.4f}])"
        )

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
from o4o_causal.bayes.model import Priors
from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.results import Estimate

CHUNK = 200  # posterior draws per block when computing effects


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

    def _linear(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (eta0, effect) on the linear-predictor scale, draws x rows."""
        d = self.design
        zeros = np.zeros((self.draws("alpha").size, 1))
        a = np.column_stack([zeros, self.draws("country_intercept")]) if len(d.countries) > 1 else zeros
        t = np.column_stack([zeros, self.draws("country_effect")]) if len(d.countries) > 1 else zeros
        eta0 = self.draws("alpha")[:, None] + a[:, d.country] + self.draws("u")[:, d.municipality]
        effect = self.draws("theta")[:, None] + t[:, d.country]
        if "v" in self.idata["posterior"].data_vars:
            effect = effect + self.draws("v")[:, d.municipality]
        if d.x.shape[1]:
            eta0 = eta0 + self.draws("beta") @ d.x.T
        if d.z.shape[1]:
            effect = effect + self.draws("delta") @ d.z.T
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
        eta0, effect = self._linear()
        out_m, out_c, out_all = [], [], []
        for start in range(0, eta0.shape[0], CHUNK):
            rows = self._row_effects(eta0[start : start + CHUNK], effect[start : start + CHUNK])
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

    def group_effects(self, level: str = "municipality") -> pd.DataFrame:
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

        The raw difference exists only where both arms have persons; ``pull`` is how far the
        posterior mean moved from the raw difference towards the country effect.
        """
        d = self.design
        m = len(d.municipalities)
        per = {}
        for arm in (0, 1):
            sel = d.d == arm
            n = np.bincount(d.municipality[sel], weights=d.weight[sel], minlength=m)
            s = np.bincount(d.municipality[sel], weights=d.y[sel], minlength=m)
            per[arm] = (n, np.divide(s, n, out=np.full(m, np.nan), where=n > 0))
        table = self.group_effects("municipality")[["group", "country", "persons", "mean", "ci_low", "ci_high"]]
        table = table.rename(columns={"mean": "pooled"})
        table.insert(3, "treated", per[1][0].astype(int))
        table.insert(4, "untreated", per[0][0].astype(int))
        table.insert(5, "raw", per[1][1] - per[0][1])
        country_mean = dict(zip(d.countries, self.effects.country.mean(axis=0), strict=True))
        target = table["country"].map(country_mean)
        with np.errstate(invalid="ignore", divide="ignore"):
            table["pull"] = (table["raw"] - table["pooled"]) / (table["raw"] - target)
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

    def pointwise_log_likelihood(self, *, max_values: int = 20_000_000) -> np.ndarray:
        """Return the log-likelihood of every row (person or cell), chains x draws x rows.

        Draws are thinned so that the array holds at most ``max_values`` numbers. With
        sufficient statistics a row is a cell: LOO then leaves out a cell of persons.
        """
        from scipy import stats

        d = self.design
        eta0, effect = self._linear()
        chains = int(self.idata["posterior"].sizes["chain"])
        per_chain = eta0.shape[0] // chains
        step = max(1, int(np.ceil(eta0.shape[0] * d.weight.size / max_values)))
        keep = np.arange(0, per_chain, step)
        idx = (np.arange(chains)[:, None] * per_chain + keep[None, :]).ravel()
        eta = eta0[idx] + d.d * effect[idx]
        if d.family == "bernoulli":
            ll = stats.binom.logpmf(d.y, d.weight, expit(eta))
        else:
            sigma = self.draws("sigma")[idx][:, None]
            if d.collapsed:
                assert d.y2 is not None
                ll = -d.weight * (np.log(sigma) + 0.5 * np.log(2 * np.pi)) - (
                    d.y2 - 2 * eta * d.y + d.weight * eta**2
                ) / (2 * sigma**2)
            else:
                ll = stats.norm.logpdf(d.y, eta, sigma)
        return np.asarray(ll).reshape(chains, keep.size, -1)

    def loo(self) -> Any:
        """Return PSIS-LOO (ArviZ ``ELPDData``) from the pointwise log-likelihood."""
        import arviz as az

        ll = self.pointwise_log_likelihood()
        tree = az.from_dict(
            {
                "posterior": {"alpha": self.draws("alpha")[: ll.shape[0] * ll.shape[1]].reshape(ll.shape[:2])},
                "log_likelihood": {"y": ll},
            }
        )
        return az.loo(tree)

    def ppc(self, by: str = "country", *, draws: int = 500) -> pd.DataFrame:
        """Posterior predictive check: observed vs replicated outcome means by group and arm.

        Replicated data are drawn from the posterior predictive (binomial counts or normal
        means per row, seeded); a well-fitting model has the observed mean inside the
        replicated interval in most groups. ``by`` is ``"country"`` or ``"overall"``.
        """
        d = self.design
        rng = np.random.default_rng(self.seed)
        eta0, effect = self._linear()
        pick = rng.choice(eta0.shape[0], size=min(draws, eta0.shape[0]), replace=False)
        eta = eta0[pick] + d.d * effect[pick]
        if d.family == "bernoulli":
            rep = rng.binomial(d.weight.astype(np.int64), expit(eta)).astype(float)
        else:
            sigma = self.draws("sigma")[pick][:, None]
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


def compare(results: dict[str, MultilevelResult]) -> pd.DataFrame:
    """Compare candidate models by PSIS-LOO (ArviZ ``compare``); all must use the same rows."""
    import arviz as az

    sizes = {name: r.design.weight.size for name, r in results.items()}
    if len(set(sizes.values())) > 1:
        raise SpecificationError(
            format_error(
                what="results to compare",
                expected="models fitted to the same rows (persons or the same cells)",
                found=f"row counts {sizes}",
                fix="fit the candidates on the same data with the same sufficient_statistics setting",
            )
        )
    return pd.DataFrame(az.compare({name: r.loo() for name, r in results.items()}))

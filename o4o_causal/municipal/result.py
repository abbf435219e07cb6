"""``DevianceResult``: aggregate tables of the municipal deviance model and the selection of deviants.

Signs: the deviance ``u_m`` is on the log-odds scale of the outcome (NEET). Negative
``u_m`` = fewer NEET than risk factors and structure predict = **positive deviance**;
positive ``u_m`` = **negative deviance**.

Everything here is aggregate: per municipality and per municipality-year counts, rates,
posterior summaries, and posterior draws of the municipality parameters (``u``, ``w``,
``sigma_u``, ``sigma_w``). No person rows and no binomial cells are kept. Published tables
blank counts and rates below :data:`o4o_causal.config.DISCLOSURE` ``.threshold``
(``suppress=False`` only for validation against a synthetic truth).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from o4o_causal import config
from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.municipal._design import Cells, tail_count

#: Draws per chunk when expected rates are computed over cells.
_CHUNK = 200

#: Columns blanked for municipalities with fewer persons than the disclosure threshold.
_MODEL_COLUMNS = (
    "expected_rate",
    "deviance_mean",
    "deviance_sd",
    "deviance_low",
    "deviance_high",
    "rate_difference",
    "rate_difference_low",
    "rate_difference_high",
    "p_below",
    "p_below_every_year",
    "p_above_every_year",
    "share_years_below",
    "p_bottom",
    "p_top",
    "rank_mean",
)
_COUNT_COLUMNS = ("events", "observed_rate", "raw_deviance", "raw_low", "raw_high")


def _flat(posterior: Any, name: str) -> np.ndarray:
    """Return posterior variable ``name`` with chains and draws stacked into the first axis."""
    values = np.asarray(posterior[name].transpose("chain", "draw", ...).values, dtype=np.float64)
    return values.reshape(-1, *values.shape[2:])


def _logit(p: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(p / (1 - p)))


def _expit(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1 + np.tanh(0.5 * x)))


def _aggregator(groups: np.ndarray, weights: np.ndarray, size: int) -> sparse.csr_matrix:
    """Return the (cells x groups) matrix that averages cell values within groups, weighted."""
    totals = np.bincount(groups, weights=weights, minlength=size)
    data = weights / totals[groups]
    return sparse.csr_matrix((data, (np.arange(groups.size), groups)), shape=(groups.size, size))


def _rates(cells: Cells, posterior: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return per draw: expected rate per municipality and per slot (u = w = 0), and rate with u (w = 0)."""
    alpha = _flat(posterior, "alpha")
    n_draws = alpha.size
    n_countries = len(cells.countries)
    a = np.zeros((n_draws, n_countries))
    if "country_intercept" in posterior.data_vars:
        a[:, 1:] = _flat(posterior, "country_intercept")
    b = np.zeros((n_draws, n_countries, len(cells.years)))
    b[:, :, 1:] = _flat(posterior, "year_effect")
    beta = _flat(posterior, "beta") if "beta" in posterior.data_vars else np.zeros((n_draws, 0))
    gamma = _flat(posterior, "gamma") if "gamma" in posterior.data_vars else np.zeros((n_draws, 0))
    u = _flat(posterior, "u")
    cell_country = cells.muni_country[cells.muni]
    weights = cells.n.astype(np.float64)
    to_muni = _aggregator(cells.muni, weights, len(cells.municipalities))
    to_slot = _aggregator(cells.slot, weights, cells.slot_muni.size)
    expected = np.empty((n_draws, len(cells.municipalities)))
    with_u = np.empty_like(expected)
    slot_expected = np.empty((n_draws, cells.slot_muni.size))
    for lo in range(0, n_draws, _CHUNK):
        hi = min(lo + _CHUNK, n_draws)
        eta = (
            alpha[lo:hi, None]
            + a[lo:hi][:, cell_country]
            + b[lo:hi][:, cell_country, cells.year]
            + (beta[lo:hi] @ cells.xp.T)[:, cells.pattern]
            + (gamma[lo:hi] @ cells.s.T)[:, cells.muni]
        )
        p0 = _expit(eta)
        expected[lo:hi] = np.asarray(to_muni.T @ p0.T).T
        slot_expected[lo:hi] = np.asarray(to_slot.T @ p0.T).T
        with_u[lo:hi] = np.asarray(to_muni.T @ _expit(eta + u[lo:hi][:, cells.muni]).T).T
    return expected, slot_expected, with_u


def _quantiles(values: np.ndarray, ci_level: float) -> tuple[np.ndarray, np.ndarray]:
    lo = (1 - ci_level) / 2
    q = np.quantile(values, [lo, 1 - lo], axis=0)
    return q[0], q[1]


def summarise(
    cells: Cells,
    posterior: Any,
    *,
    outcome: str,
    diagnostics: pd.DataFrame,
    seed: int,
    ci_level: float,
    tail: float,
    timings: dict[str, float],
) -> DevianceResult:
    """Reduce the posterior and the cells to the aggregate tables of a :class:`DevianceResult`."""
    u = _flat(posterior, "u")
    w = _flat(posterior, "w")
    expected, slot_expected, with_u = _rates(cells, posterior)
    n_munis = len(cells.municipalities)
    z = stats.norm.ppf(0.5 + ci_level / 2)

    # per municipality-year: deviations and the total u + w
    total = u[:, cells.slot_muni] + w
    total_lo, total_hi = _quantiles(total, ci_level)
    below = total < 0
    slot_obs = cells.slot_events / cells.slot_person_years
    slot_exp = slot_expected.mean(axis=0)
    years = pd.DataFrame(
        {
            "country": [cells.countries[cells.muni_country[m]] for m in cells.slot_muni],
            "municipality": [cells.municipalities[m] for m in cells.slot_muni],
            "year": [cells.years[t] for t in cells.slot_year],
            "person_years": cells.slot_person_years,
            "events": cells.slot_events,
            "observed_rate": slot_obs,
            "expected_rate": slot_exp,
            "deviation_mean": w.mean(axis=0),
            "total_mean": total.mean(axis=0),
            "total_low": total_lo,
            "total_high": total_hi,
            "p_below": below.mean(axis=0),
        }
    )

    # consistency over the observed years of each municipality
    slot_to_muni = sparse.csr_matrix(
        (np.ones(cells.slot_muni.size), (np.arange(cells.slot_muni.size), cells.slot_muni)),
        shape=(cells.slot_muni.size, n_munis),
    )
    n_years = np.asarray(slot_to_muni.sum(axis=0)).ravel()
    years_below = np.asarray(slot_to_muni.T @ below.T.astype(np.float64)).T  # draws x municipalities
    p_below_every = (years_below == n_years).mean(axis=0)
    p_above_every = (years_below == 0).mean(axis=0)
    share_below = (years_below / n_years).mean(axis=0)

    # ranks within country, per draw (rank 1 = lowest u = least NEET relative to expectation)
    p_bottom = np.zeros(n_munis)
    p_top = np.zeros(n_munis)
    rank_mean = np.zeros(n_munis)
    for c in range(len(cells.countries)):
        idx = np.flatnonzero(cells.muni_country == c)
        ranks = np.argsort(np.argsort(u[:, idx], axis=1, kind="stable"), axis=1, kind="stable")
        k = tail_count(idx.size, tail)
        p_bottom[idx] = (ranks < k).mean(axis=0)
        p_top[idx] = (ranks >= idx.size - k).mean(axis=0)
        rank_mean[idx] = ranks.mean(axis=0) + 1

    observed = cells.events / cells.person_years
    exp_mean = expected.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = 1 / np.sqrt(cells.person_years * observed * (1 - observed))
    raw = _logit(observed) - _logit(exp_mean)
    raw = np.where(np.isfinite(raw) & np.isfinite(se), raw, np.nan)
    diff = with_u - expected
    u_lo, u_hi = _quantiles(u, ci_level)
    d_lo, d_hi = _quantiles(diff, ci_level)
    munis = pd.DataFrame(
        {
            "country": [cells.countries[c] for c in cells.muni_country],
            "municipality": list(cells.municipalities),
            "persons": cells.persons,
            "person_years": cells.person_years,
            "events": cells.events,
            "observed_rate": observed,
            "expected_rate": exp_mean,
            "deviance_mean": u.mean(axis=0),
            "deviance_sd": u.std(axis=0),
            "deviance_low": u_lo,
            "deviance_high": u_hi,
            "rate_difference": diff.mean(axis=0),
            "rate_difference_low": d_lo,
            "rate_difference_high": d_hi,
            "raw_deviance": raw,
            "raw_low": raw - z * se,
            "raw_high": raw + z * se,
            "p_below": (u < 0).mean(axis=0),
            "p_below_every_year": p_below_every,
            "p_above_every_year": p_above_every,
            "share_years_below": share_below,
            "years": n_years.astype(np.int64),
            "p_bottom": p_bottom,
            "p_top": p_top,
            "rank_mean": rank_mean,
        }
    )
    params = summary_table(posterior, diagnostics, ci_level)
    info = {
        "persons": cells.n_persons,
        "person_years": cells.n_person_years,
        "cells": int(cells.n.size),
        "municipalities": n_munis,
        "years": cells.years,
        "risk_factors": cells.features,
        "structural": cells.structural,
        "bands": dict(cells.bands),
        "structural_mean": dict(zip(cells.structural, cells.structural_mean.tolist(), strict=True)),
        "structural_sd": dict(zip(cells.structural, cells.structural_sd.tolist(), strict=True)),
    }
    for arr in (u, w):
        arr.flags.writeable = False
    sig_u, sig_w = _flat(posterior, "sigma_u"), _flat(posterior, "sigma_w")
    for arr in (sig_u, sig_w):
        arr.flags.writeable = False
    return DevianceResult(
        outcome=outcome,
        countries=cells.countries,
        municipalities=cells.municipalities,
        years=cells.years,
        municipality_table=munis,
        year_table=years,
        parameters=params,
        diagnostics=diagnostics,
        u_draws=u,
        w_draws=w,
        sigma_u_draws=sig_u,
        sigma_w_draws=sig_w,
        design=info,
        seed=seed,
        ci_level=ci_level,
        tail=tail,
        timings=timings,
    )


def summary_table(posterior: Any, diagnostics: pd.DataFrame, ci_level: float) -> pd.DataFrame:
    """Return mean, SD and interval of the non-municipality parameters, with R-hat and ESS."""
    rows: list[dict[str, Any]] = []
    for name in ("alpha", "country_intercept", "year_effect", "beta", "gamma", "sigma_u", "sigma_w"):
        if name not in posterior.data_vars:
            continue
        var = posterior[name]
        dims = [d for d in var.dims if d not in ("chain", "draw")]
        values = _flat(posterior, name).reshape(-1, int(np.prod([var.sizes[d] for d in dims], dtype=np.int64)))
        labels = [[str(v) for v in var.coords[d].values] for d in dims]
        for j, index in enumerate(np.ndindex(*(var.sizes[d] for d in dims))):
            label = f"{name}[{', '.join(labels[k][i] for k, i in enumerate(index))}]" if dims else name
            lo, hi = _quantiles(values[:, j], ci_level)
            col = values[:, j]
            rows.append({"parameter": label, "mean": col.mean(), "sd": col.std(), "low": float(lo), "high": float(hi)})
    table = pd.DataFrame(rows)
    diag = diagnostics.set_index("parameter")[["rhat", "ess_bulk", "ess_tail"]]
    return table.join(diag, on="parameter")


def _threshold(threshold: int | None) -> int:
    limit = config.DISCLOSURE.threshold if threshold is None else int(threshold)
    if limit < 1:
        raise SpecificationError(
            format_error(what="threshold", expected="an integer >= 1", found=repr(threshold), fix="use e.g. 5")
        )
    return limit


@dataclass(frozen=True)
class DevianceResult:
    """Municipal deviance from expected outcome rates (see :func:`~o4o_causal.municipal.deviance`).

    Attributes
    ----------
    outcome
        Name of the outcome column.
    countries, municipalities, years
        Labels (municipalities sorted; the columns of ``u_draws``).
    municipality_table
        Unsuppressed per-municipality table (internal; publish :meth:`table`).
    year_table
        Unsuppressed per municipality-year table (internal; publish :meth:`years_table`).
    parameters
        Posterior summaries of ``alpha``, country and year effects, ``beta`` (risk factors),
        ``gamma`` (structural, per SD), ``sigma_u``, ``sigma_w`` with R-hat and ESS.
    diagnostics
        :func:`o4o_causal.bayes.diagnostics_table` of every gated parameter.
    u_draws
        Posterior draws of ``u_m`` (draws x municipalities, read-only).
    w_draws
        Posterior draws of ``w_m,t`` (draws x municipality-years in ``year_table`` order).
    sigma_u_draws, sigma_w_draws
        Posterior draws of the two standard deviations.
    design
        Persons, person-years, cells, risk-factor features, bands, structural means and SDs.
    seed, ci_level, tail, timings
        Sampler seed, interval level, tail share of :meth:`select`, seconds per stage.
    """

    outcome: str
    countries: tuple[str, ...]
    municipalities: tuple[str, ...]
    years: tuple[int, ...]
    municipality_table: pd.DataFrame = field(repr=False)
    year_table: pd.DataFrame = field(repr=False)
    parameters: pd.DataFrame = field(repr=False)
    diagnostics: pd.DataFrame = field(repr=False)
    u_draws: np.ndarray = field(repr=False)
    w_draws: np.ndarray = field(repr=False)
    sigma_u_draws: np.ndarray = field(repr=False)
    sigma_w_draws: np.ndarray = field(repr=False)
    design: Mapping[str, Any] = field(repr=False)
    seed: int = 0
    ci_level: float = 0.9
    tail: float = 0.1
    timings: Mapping[str, float] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        d = self.design
        return (
            f"DevianceResult({self.outcome!r}: {', '.join(self.countries)}, {d['municipalities']} municipalities, "
            f"{d['person_years']} person-years in {d['cells']} binomial cells, years {self.years[0]}-{self.years[-1]}; "
            f"sigma_u={self.sigma_u:.3f}, sigma_w={self.sigma_w:.3f})"
        )

    @property
    def sigma_u(self) -> float:
        """Posterior mean SD of the persistent municipality deviance (log-odds)."""
        return float(self.sigma_u_draws.mean())

    @property
    def sigma_w(self) -> float:
        """Posterior mean SD of the municipality-year deviations (log-odds)."""
        return float(self.sigma_w_draws.mean())

    def table(self, *, suppress: bool = True, threshold: int | None = None) -> pd.DataFrame:
        """Return one row per municipality: counts, observed and expected rates, deviance, consistency, ranks.

        Columns: ``country, municipality, persons, person_years, events`` (outcomes),
        ``observed_rate``, ``expected_rate`` (posterior mean of the rate predicted by risk
        factors, structure, country and year with ``u = w = 0``), ``deviance_mean/sd/low/high``
        (``u_m``, log-odds; negative = fewer outcomes than expected), ``rate_difference``
        (+ ``_low/_high``: the rate with ``u_m`` minus the expected rate), ``raw_deviance``
        (+ ``raw_low/raw_high``: the unpooled ``logit(observed) - logit(expected)`` with a
        Wald interval, approximate; compare with the shrunk ``deviance_*``),
        ``p_below`` (P(u_m < 0)), ``p_below_every_year`` / ``p_above_every_year``
        (P(u_m + w_m,t < 0 / > 0 in every observed year)), ``share_years_below`` (posterior
        mean share of years with u_m + w_m,t < 0), ``years``, ``years_observed_below`` /
        ``years_compared`` (years whose observed rate is below the expected rate, out of
        the years whose rate can be shown), ``p_bottom`` / ``p_top`` (P(u_m among the lowest
        / highest ``tail`` share of the country's municipalities) -- positive / negative
        deviance), ``rank_mean`` (1 = lowest deviance), ``small``, ``suppressed``.

        Parameters
        ----------
        suppress
            Blank everything of municipalities with fewer persons than the threshold
            (``small``), and counts and observed rates where outcomes or non-outcomes are
            fewer than the threshold (``suppressed``). ``False`` only for validation.
        threshold
            Disclosure threshold (default :data:`o4o_causal.config.DISCLOSURE` ``.threshold``).

        Returns
        -------
        pandas.DataFrame
        """
        limit = _threshold(threshold)
        out = self.municipality_table.copy()
        years = self.years_table(suppress=suppress, threshold=limit)
        comparable = years["observed_rate"].notna()
        below = (years["observed_rate"] < years["expected_rate"]) & comparable
        grouped = pd.DataFrame({"m": years["municipality"], "b": below, "c": comparable}).groupby("m", sort=False)
        out["years_observed_below"] = out["municipality"].map(grouped["b"].sum()).fillna(0).astype(np.int64)
        out["years_compared"] = out["municipality"].map(grouped["c"].sum()).fillna(0).astype(np.int64)
        out["small"] = out["persons"] < limit
        out["suppressed"] = (out["events"] < limit) | (out["person_years"] - out["events"] < limit) | out["small"]
        if suppress:
            out = out.astype({c: "float64" for c in ("persons", "person_years", "events", "years_observed_below")})
            out = out.astype({"years_compared": "float64"})
            out.loc[out["suppressed"], list(_COUNT_COLUMNS)] = np.nan
            small = out["small"]
            out.loc[small, ["persons", "person_years", "years_observed_below", "years_compared", *_MODEL_COLUMNS]] = (
                np.nan
            )
        out.attrs.update({"threshold": limit, "suppressed": bool(suppress), "tail": self.tail})
        return out

    def years_table(self, *, suppress: bool = True, threshold: int | None = None) -> pd.DataFrame:
        """Return one row per municipality-year: counts, rates, ``w`` and the total ``u + w``.

        Columns: ``country, municipality, year, person_years, events, observed_rate,
        expected_rate`` (``u = w = 0``), ``deviation_mean`` (``w_m,t``), ``total_mean/low/high``
        (``u_m + w_m,t``), ``p_below`` (P(u_m + w_m,t < 0)), ``suppressed``. With
        ``suppress``, counts and observed rates are blanked where outcomes or non-outcomes
        are fewer than the threshold, and whole rows of municipalities with fewer persons
        than the threshold.

        Parameters
        ----------
        suppress
            Apply disclosure suppression (``False`` only for validation).
        threshold
            Disclosure threshold (default :data:`o4o_causal.config.DISCLOSURE` ``.threshold``).

        Returns
        -------
        pandas.DataFrame
        """
        limit = _threshold(threshold)
        out = self.year_table.copy()
        persons = self.municipality_table.set_index("municipality")["persons"]
        small = out["municipality"].map(persons) < limit
        out["suppressed"] = (out["events"] < limit) | (out["person_years"] - out["events"] < limit) | small
        if suppress:
            out = out.astype({"person_years": "float64", "events": "float64"})
            out.loc[out["suppressed"], ["events", "observed_rate"]] = np.nan
            model = [
                "person_years",
                "expected_rate",
                "deviation_mean",
                "total_mean",
                "total_low",
                "total_high",
                "p_below",
            ]
            out.loc[small.to_numpy(), model] = np.nan
        out.attrs.update({"threshold": limit, "suppressed": bool(suppress)})
        return out

    def select(
        self,
        k: int,
        *,
        by: str = "probability",
        min_persons: int | None = None,
        country: str | None = None,
    ) -> pd.DataFrame:
        """Return the ``k`` strongest positive and ``k`` strongest negative deviants of each country.

        Positive deviants have the fewest outcomes relative to expectation (lowest ``u_m``),
        negative deviants the most.

        Parameters
        ----------
        k
            Municipalities per side and country.
        by
            ``"probability"``: highest posterior probability of lying in the bottom (positive)
            or top (negative) ``tail`` share of the country (ties by posterior mean);
            ``"mean"``: lowest / highest posterior mean of ``u_m``.
        min_persons
            Only municipalities with at least this many persons (default: the disclosure
            threshold; never below it).
        country
            Select in this country only (default: every country).

        Returns
        -------
        pandas.DataFrame
            Rows of :meth:`table` (suppressed) with ``side`` (``"positive"``/``"negative"``),
            ``rank`` (1 = strongest) and ``probability`` (``p_bottom`` for positive,
            ``p_top`` for negative deviants) and ``p_consistent`` (P(below / above
            expectation in every year)) in front.

        Raises
        ------
        SpecificationError
            Bad ``k``, ``by``, ``min_persons`` or ``country``, or fewer than ``2k`` eligible municipalities.
        """
        if by not in ("probability", "mean"):
            raise SpecificationError(
                format_error(what="by", expected="'probability' or 'mean'", found=repr(by), fix="pick one")
            )
        if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 1:
            raise SpecificationError(format_error(what="k", expected="a positive integer", found=repr(k), fix="e.g. 9"))
        limit = _threshold(None)
        floor = limit if min_persons is None else max(int(min_persons), limit)
        countries = self.countries if country is None else (country,)
        unknown = [c for c in countries if c not in self.countries]
        if unknown:
            raise SpecificationError(
                format_error(what="country", expected=f"one of {self.countries}", found=repr(country), fix="pick one")
            )
        published = self.table()
        internal = self.municipality_table
        frames: list[pd.DataFrame] = []
        for c in countries:
            eligible = internal[(internal["country"] == c) & (internal["persons"] >= floor)]
            if len(eligible) < 2 * k:
                raise SpecificationError(
                    format_error(
                        what=f"select(k={k}) in {c}",
                        expected=f"at least {2 * k} municipalities with >= {floor} persons",
                        found=f"{len(eligible)}",
                        fix="lower k or min_persons",
                    )
                )
            for side, prob, consistent, ascending in (
                ("positive", "p_bottom", "p_below_every_year", True),
                ("negative", "p_top", "p_above_every_year", False),
            ):
                if by == "probability":
                    order = eligible.assign(_tie=eligible["deviance_mean"] * (1 if ascending else -1)).sort_values(
                        [prob, "_tie"], ascending=[False, True], kind="stable"
                    )
                else:
                    order = eligible.sort_values("deviance_mean", ascending=ascending, kind="stable")
                chosen = order.head(k)
                rows = published.set_index("municipality").loc[chosen["municipality"]].reset_index()
                rows.insert(0, "rank", np.arange(1, k + 1))
                rows.insert(0, "side", side)
                rows.insert(3, "probability", chosen[prob].to_numpy())
                rows.insert(4, "p_consistent", chosen[consistent].to_numpy())
                frames.append(rows)
        out = pd.concat(frames, ignore_index=True)
        out.attrs.update({"by": by, "k": int(k), "min_persons": floor, "tail": self.tail})
        return out

    def shrinkage(self, *, suppress: bool = True) -> pd.DataFrame:
        """Return the unpooled (raw) and the partially pooled deviance interval per municipality.

        Columns ``country, municipality, persons, raw_deviance, raw_low, raw_high,
        deviance_mean, deviance_low, deviance_high, pull`` (``raw_deviance - deviance_mean``:
        how far partial pooling moved the estimate towards 0). The raw interval ignores the
        uncertainty of the expected rate and the year-to-year deviations ``w``; the posterior
        interval of the *persistent* deviance includes both, so it need not be narrower.
        Rows with suppressed raw rates have blank raw columns.

        Parameters
        ----------
        suppress
            Apply disclosure suppression (``False`` only for validation).

        Returns
        -------
        pandas.DataFrame
        """
        t = self.table(suppress=suppress)
        cols = ["country", "municipality", "persons", "raw_deviance", "raw_low", "raw_high"]
        out = t[[*cols, "deviance_mean", "deviance_low", "deviance_high"]].copy()
        out["pull"] = out["raw_deviance"] - out["deviance_mean"]
        return out

    def summary(self) -> pd.DataFrame:
        """Return the posterior summary of the model's parameters other than ``u`` and ``w``.

        ``alpha``, ``country_intercept``, ``year_effect``, ``beta`` (risk factors; band
        indicators against the first band), ``gamma`` (structural, per SD over
        municipalities), ``sigma_u``, ``sigma_w``: mean, sd, equal-tailed interval at
        ``ci_level``, R-hat, bulk and tail ESS.

        Returns
        -------
        pandas.DataFrame
        """
        return self.parameters.copy()

    def diagnostics_table(self) -> pd.DataFrame:
        """Return the convergence diagnostics of every gated parameter (see :mod:`o4o_causal.bayes.diagnostics`)."""
        out = self.diagnostics.copy()
        out.attrs.update(self.diagnostics.attrs)
        return out


__all__ = ["DevianceResult", "summarise", "summary_table"]

"""Person-level PSIS-LOO for multilevel fits on persons or on cells, and model comparison.

With sufficient statistics a row is a cell of persons, but leaving out a cell is not the
question (and a binomial cell carries the constant ``log C(n, k)``). The persons of a
binomial cell have one of two log-likelihood vectors (``log p`` or ``log(1 - p)`` per
draw), so Pareto-smoothed importance sampling is run once per (cell, outcome) and the
result counted for every person who shares it: exact person-level LOO at the cost of
two units per cell. Normal outcomes are evaluated per person (chunked). All draws are
used; units are processed in blocks to bound memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from o4o_causal.exceptions import SpecificationError, format_error

if TYPE_CHECKING:
    from o4o_causal.bayes.result import MultilevelResult

#: Log-likelihood values per block (draws x units).
BLOCK_VALUES = 10_000_000


@dataclass(frozen=True)
class LooResult:
    """Expected log pointwise predictive density by PSIS-LOO, per person."""

    elpd: float
    se: float
    p_loo: float
    n: int
    max_k: float
    share_k_above_07: float
    pointwise: np.ndarray  # elpd_i per person, input order
    fingerprint: str

    def to_frame(self) -> pd.DataFrame:
        """Return the totals as a one-row table."""
        return pd.DataFrame(
            [
                {
                    "elpd": self.elpd,
                    "se": self.se,
                    "p_loo": self.p_loo,
                    "n": self.n,
                    "max_pareto_k": self.max_k,
                    "share_k_above_0.7": self.share_k_above_07,
                }
            ]
        )


def _psis(ll: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (elpd_loo, lppd, pareto k) per unit for log-likelihoods of shape draws x units."""
    from arviz_stats.base.array import array_stats

    log_w, khat = array_stats.psislw(ll.T, r_eff=1.0, axis=-1)  # type: ignore[no-untyped-call]
    log_w = np.asarray(log_w)
    elpd = logsumexp(ll.T + log_w, axis=-1) - logsumexp(log_w, axis=-1)  # weights normalised here
    lppd = logsumexp(ll.T, axis=-1) - np.log(ll.shape[0])
    return np.asarray(elpd), np.asarray(lppd), np.asarray(khat)


def _log_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(-np.logaddexp(0.0, -x))


def person_loo(result: MultilevelResult) -> LooResult:
    """Compute person-level PSIS-LOO for a fitted multilevel model (all draws)."""
    d = result.design
    n_rows = d.weight.size
    if d.family == "bernoulli":
        elpd_units = np.empty((n_rows, 2))
        lppd_units = np.empty((n_rows, 2))
        k_units = np.empty((n_rows, 2))
        block = max(1, BLOCK_VALUES // (2 * result.n_draws))
        for start in range(0, n_rows, block):
            rows = slice(start, min(start + block, n_rows))
            eta0, effect = result._linear(None, rows=rows)
            eta = eta0 + d.d[rows] * effect
            for y, ll in ((1, _log_sigmoid(eta)), (0, _log_sigmoid(-eta))):
                e, lp, k = _psis(ll)
                elpd_units[rows, y], lppd_units[rows, y], k_units[rows, y] = e, lp, k
        y_person = d.person_y.astype(np.int64)
        pointwise = elpd_units[d.person_row, y_person]
        lppd = lppd_units[d.person_row, y_person]
        khat = k_units[d.person_row, y_person]
    else:
        sigma = result._params["sigma"]
        pointwise = np.empty(d.n_persons)
        lppd = np.empty(d.n_persons)
        khat = np.empty(d.n_persons)
        block = max(1, BLOCK_VALUES // result.n_draws)
        for start in range(0, d.n_persons, block):
            persons = slice(start, min(start + block, d.n_persons))
            person_rows = d.person_row[persons]
            eta0, effect = result._linear(None, rows=person_rows)
            mu = eta0 + d.d[person_rows] * effect
            resid = (d.person_y[persons][None, :] - mu) / sigma[:, None]
            ll = -0.5 * resid**2 - np.log(sigma)[:, None] - 0.5 * np.log(2 * np.pi)
            pointwise[persons], lppd[persons], khat[persons] = _psis(ll)
    total = float(pointwise.sum())
    pointwise.flags.writeable = False
    return LooResult(
        elpd=total,
        se=float(np.sqrt(pointwise.size * pointwise.var())),
        p_loo=float(lppd.sum() - total),
        n=int(pointwise.size),
        max_k=float(np.max(khat)),
        share_k_above_07=float(np.mean(khat > 0.7)),
        pointwise=pointwise,
        fingerprint=d.fingerprint,
    )


def compare(results: dict[str, MultilevelResult]) -> pd.DataFrame:
    """Rank candidate models by person-level PSIS-LOO (higher elpd is better).

    All candidates must be fitted to the same persons in the same order (checked by a
    fingerprint of municipality, treatment and outcome), whether on persons or on cells
    and whatever their covariates. ``elpd_diff`` and its standard error ``dse`` are
    paired over persons, relative to the best model.
    """
    if len(results) < 2:
        raise SpecificationError(
            format_error(what="results", expected="at least two fitted models", found=str(len(results)), fix="add one")
        )
    loos = {name: person_loo(r) for name, r in results.items()}
    prints = {name: lo.fingerprint[:12] for name, lo in loos.items()}
    if len(set(prints.values())) > 1:
        raise SpecificationError(
            format_error(
                what="results to compare",
                expected="models fitted to the same persons in the same order",
                found=f"different data fingerprints {prints}",
                fix="fit every candidate on the same frame",
            )
        )
    best = max(loos, key=lambda k: loos[k].elpd)
    rows = []
    for name, lo in sorted(loos.items(), key=lambda kv: -kv[1].elpd):
        diff = lo.pointwise - loos[best].pointwise
        rows.append(
            {
                "model": name,
                "elpd": lo.elpd,
                "se": lo.se,
                "p_loo": lo.p_loo,
                "elpd_diff": float(diff.sum()),
                "dse": float(np.sqrt(diff.size * diff.var())),
                "max_pareto_k": lo.max_k,
            }
        )
    return pd.DataFrame(rows).set_index("model")

"""Cross-fitted nuisance functions and the report on their quality.

For every fold (whole clusters when a cluster is given; ``GroupKFold`` over a seeded
random relabelling of the clusters, so fold membership does not follow the sort order of
municipality codes) three models are trained on the other folds: the propensity
``m(z) = P(D=1 | z)`` and the outcome regressions ``g_d(z) = E[Y | D=d, z]`` in each arm,
with ``z`` = effect modifiers and controls. The marginal regression used for the
residual-on-residual forest is ``l(z) = m g_1 + (1-m) g_0``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from o4o_causal.dml import learners
from o4o_causal.dml._prepare import Prepared

#: Propensity scores are clipped to [CLIP, 1 - CLIP] in the doubly robust scores.
CLIP = 0.01


@dataclass(frozen=True)
class Nuisance:
    """Out-of-fold nuisance predictions (read-only arrays) and the fold of every row."""

    m: np.ndarray
    g0: np.ndarray
    g1: np.ndarray
    fold: np.ndarray

    @property
    def l(self) -> np.ndarray:  # noqa: E743 - the usual name of E[Y|Z] in the DML literature
        """Marginal outcome regression ``m g1 + (1 - m) g0``."""
        return np.asarray(self.m * self.g1 + (1 - self.m) * self.g0)


def fold_ids(n: int, clusters: np.ndarray | None, folds: int, seed: int) -> np.ndarray:
    """Return the fold (0..folds-1) of every row; whole clusters stay together, sizes balanced."""
    rng = np.random.default_rng(seed)
    if clusters is None:
        return rng.permutation(np.arange(n) % folds)
    g = int(clusters.max()) + 1
    sizes = np.bincount(clusters, minlength=g)
    # greedy balancing of cluster sizes over folds, in a seeded random order (deterministic)
    order = rng.permutation(g)
    order = order[np.argsort(-sizes[order], kind="stable")]
    load = np.zeros(folds)
    assignment = np.empty(g, dtype=np.int64)
    for c in order:
        k = int(np.argmin(load))
        assignment[c] = k
        load[k] += sizes[c]
    return np.asarray(assignment[clusters])


def _splits(fold: np.ndarray, folds: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for k in range(folds):
        yield np.flatnonzero(fold != k), np.flatnonzero(fold == k)


def cross_fit(
    prep: Prepared,
    *,
    learner: str | Mapping[str, Any],
    folds: int,
    seed: int,
    progress: bool,
) -> Nuisance:
    """Fit the nuisance models with cross-fitting and return out-of-fold predictions."""
    from tqdm.auto import tqdm

    z = np.column_stack([prep.x, prep.w]) if prep.w.shape[1] else np.asarray(prep.x)
    n = z.shape[0]
    fold = fold_ids(n, prep.clusters, folds, seed)
    m, g0, g1 = np.empty(n), np.empty(n), np.empty(n)
    bar = tqdm(total=3 * folds, desc="nuisance models", disable=not progress, leave=False)
    for k, (train, test) in enumerate(_splits(fold, folds)):
        base = int(np.random.SeedSequence([seed, k]).generate_state(1)[0] % (2**31 - 1))
        prop = learners.make(learner, "propensity", seed=base, n_train=train.size)
        prop.fit(z[train], prep.d[train])
        m[test] = prop.predict_proba(z[test])[:, 1]
        bar.update()
        for arm, target in ((0, g0), (1, g1)):
            rows = train[prep.d[train] == arm]
            model = learners.make(learner, "outcome", seed=base + 1 + arm, n_train=rows.size)
            model.fit(z[rows], prep.y[rows])
            target[test] = model.predict(z[test])
            bar.update()
    bar.close()
    for arr in (m, g0, g1, fold):
        arr.flags.writeable = False
    return Nuisance(m=m, g0=g0, g1=g1, fold=fold)


def dr_scores(y: np.ndarray, d: np.ndarray, nuisance: Nuisance) -> np.ndarray:
    """Return the doubly robust (AIPW) scores of the effect, one per row."""
    e = np.clip(nuisance.m, CLIP, 1 - CLIP)
    g0, g1 = nuisance.g0, nuisance.g1
    return np.asarray(g1 - g0 + d * (y - g1) / e - (1 - d) * (y - g0) / (1 - e))


def report(y: np.ndarray, d: np.ndarray, nuisance: Nuisance) -> pd.DataFrame:
    """Out-of-fold quality of the nuisance models and propensity overlap.

    Rows: outcome R² (marginal and within each arm), propensity AUC, Brier score and its
    skill over the base rate, propensity quantiles by arm, share of scores clipped and
    the effective sample size of the inverse-probability weights. ``flag`` explains
    values that should worry a user.
    """
    from sklearn.metrics import brier_score_loss, roc_auc_score

    def r2(obs: np.ndarray, pred: np.ndarray) -> float:
        return float(1 - np.sum((obs - pred) ** 2) / np.sum((obs - obs.mean()) ** 2)) if obs.size > 1 else np.nan

    rows: list[tuple[str, str, float, str]] = []
    total = r2(y, nuisance.l)
    rows.append(("outcome", "R² out-of-fold (marginal)", total, "weak: near zero" if total < 0.01 else ""))
    for arm in (0, 1):
        sel = d == arm
        rows.append(
            ("outcome", f"R² out-of-fold (D={arm})", r2(y[sel], (nuisance.g1 if arm else nuisance.g0)[sel]), "")
        )
    auc = float(roc_auc_score(d, nuisance.m))
    brier = float(brier_score_loss(d, np.clip(nuisance.m, 0, 1)))
    base = float(d.mean() * (1 - d.mean()))
    rows.append(
        (
            "propensity",
            "AUC out-of-fold",
            auc,
            "near-deterministic treatment: poor overlap"
            if auc > 0.9
            else ("no confounding signal" if auc < 0.52 else ""),
        )
    )
    rows.append(("propensity", "Brier score", brier, ""))
    rows.append(("propensity", "Brier skill (1 - Brier / base rate)", 1 - brier / base, ""))
    for arm in (0, 1):
        qs = np.quantile(nuisance.m[d == arm], [0.01, 0.05, 0.5, 0.95, 0.99])
        for q, v in zip((1, 5, 50, 95, 99), qs, strict=True):
            rows.append(("overlap", f"propensity p{q:02d} (D={arm})", float(v), ""))
    clipped = float(np.mean((nuisance.m < CLIP) | (nuisance.m > 1 - CLIP)))
    rows.append(
        ("overlap", f"share clipped to [{CLIP}, {1 - CLIP}]", clipped, "> 1%: weak overlap" if clipped > 0.01 else "")
    )
    e = np.clip(nuisance.m, CLIP, 1 - CLIP)
    w = np.where(d == 1, 1 / e, 1 / (1 - e))
    for arm in (0, 1):
        ww = w[d == arm]
        ess = float(ww.sum() ** 2 / np.sum(ww**2))
        rows.append(
            ("overlap", f"effective sample size / n (D={arm})", ess / ww.size, "< 0.2" if ess / ww.size < 0.2 else "")
        )
    return pd.DataFrame(rows, columns=["model", "measure", "value", "flag"])

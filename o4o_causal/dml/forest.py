"""The causal forest: EconML's generalized random forest on cross-fitted residuals.

:class:`econml.dml.CausalForestDML` fits its own nuisance models and then an
:class:`econml.grf.CausalForest` on ``(X, D - m, Y - l)``. We fit the nuisances once,
with grouped cross-fitting and the learners of :mod:`o4o_causal.dml.learners`, and hand
the residuals to the same EconML forest (a test checks the two routes agree when given
the same folds and nuisance models). At register size the forest is trained on a seeded
random subsample of ``max_rows`` persons (its cost grows faster than linearly); every
row still gets a prediction, honest for all: out-of-bag for rows in the subsample,
out-of-sample for the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from o4o_causal import config

#: Forest settings (EconML ``CausalForest`` arguments) and the subsample cap.
FOREST_DEFAULTS: dict[str, Any] = {
    "n_estimators": 100,
    "min_samples_leaf": 10,
    "max_samples": 0.45,
    "honest": True,
    "inference": True,
    "max_rows": 100_000,
}


def fit(
    x: np.ndarray,
    t_res: np.ndarray,
    y_res: np.ndarray,
    *,
    seed: int,
    options: Mapping[str, Any] | None = None,
) -> tuple[Any, np.ndarray, int]:
    """Fit the forest; return it, honest CATE predictions for every row, and the rows used."""
    from econml.grf import CausalForest

    settings = {**FOREST_DEFAULTS, **dict(options or {})}
    max_rows = int(settings.pop("max_rows"))
    n = x.shape[0]
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    rows = np.sort(rng.choice(n, size=max_rows, replace=False)) if n > max_rows else np.arange(n)
    forest = CausalForest(**settings, n_jobs=config.threads(), random_state=seed)
    forest.fit(x[rows], t_res[rows], y_res[rows])
    tau = np.empty(n)
    oob = np.asarray(forest.oob_predict(x[rows])).reshape(-1)
    tau[rows] = oob
    missing = np.isnan(tau[rows])
    if missing.any():  # rows that were in every tree's subsample (tiny forests only)
        tau[rows[missing]] = predict(forest, x[rows[missing]])
    if rows.size < n:
        others = np.setdiff1d(np.arange(n), rows, assume_unique=True)
        tau[others] = predict(forest, x[others])
    tau.flags.writeable = False
    return forest, tau, int(rows.size)


def predict(forest: Any, x: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """Return point predictions in chunks (bounded memory)."""
    parts = [np.asarray(forest.predict(x[i : i + chunk])).reshape(-1) for i in range(0, x.shape[0], chunk)]
    return np.concatenate(parts) if parts else np.empty(0)


def predict_interval(forest: Any, x: np.ndarray, alpha: float, chunk: int = 100_000) -> tuple[np.ndarray, ...]:
    """Return predictions with pointwise (bootstrap-of-little-bags) intervals, in chunks."""
    point, low, high = [], [], []
    for i in range(0, x.shape[0], chunk):
        p, lo, hi = forest.predict(x[i : i + chunk], interval=True, alpha=alpha)
        point.append(np.asarray(p).reshape(-1))
        low.append(np.asarray(lo).reshape(-1))
        high.append(np.asarray(hi).reshape(-1))
    return np.concatenate(point), np.concatenate(low), np.concatenate(high)

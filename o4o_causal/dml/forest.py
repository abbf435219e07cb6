"""The causal forest: EconML's generalized random forest on cross-fitted residuals.

:class:`econml.dml.CausalForestDML` fits its own nuisance models and then an
:class:`econml.grf.CausalForest` on ``(X, D - m, Y - l)``. We fit the nuisances once,
with grouped cross-fitting and the learners of :mod:`o4o_causal.dml.learners`, and hand
the residuals to the same EconML forest (a test checks the two routes agree when given
the same folds and nuisance models). At register size a forest is trained on a seeded
random subsample of ``max_rows`` persons (its cost grows faster than linearly).

Two kinds of predictions come out:

* the **full forest** (all folds) predicts CATEs for anyone (:meth:`CateResult.cate`),
  with EconML's pointwise intervals;
* **cross-fitted predictions** for the fitted persons (computed on first use): the nuisance folds (whole
  municipalities) are split into ``crossfit_folds`` groups and each group is predicted
  by a forest that never saw its municipalities. The heterogeneity tests (calibration,
  sorted effects, CLAN) use these. Out-of-bag predictions would not do: a person's
  out-of-bag prediction still comes from trees grown on the other persons of the same
  municipality, so municipality-level shocks in treatment and outcome that the nuisance
  models miss would show up as spurious "heterogeneity".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from o4o_causal import config

#: Forest settings (EconML ``CausalForest`` arguments), the subsample cap of the full
#: forest (``max_rows``; each cross-fitted forest gets ``max_rows / crossfit_folds``) and
#: the number of municipality-grouped cross-fitting groups for honest predictions.
FOREST_DEFAULTS: dict[str, Any] = {
    "n_estimators": 100,
    "min_samples_leaf": 20,
    "max_samples": 0.45,
    "honest": True,
    "inference": True,
    "max_rows": 100_000,
    "crossfit_folds": 2,
}


def _grow(
    x: np.ndarray,
    t_res: np.ndarray,
    y_res: np.ndarray,
    rows: np.ndarray,
    max_rows: int,
    seed: int,
    settings: dict[str, Any],
) -> tuple[Any, int]:
    from econml.grf import CausalForest

    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    if rows.size > max_rows:
        rows = np.sort(rng.choice(rows, size=max_rows, replace=False))
    forest = CausalForest(**settings, n_jobs=config.threads(), random_state=seed)
    forest.fit(x[rows], t_res[rows], y_res[rows])
    # EconML sums tree predictions across threads in completion order (last digits vary);
    # predictions run single-threaded per chunk instead, chunks in parallel (deterministic).
    forest.n_jobs = 1
    return forest, int(rows.size)


def fit(
    x: np.ndarray,
    t_res: np.ndarray,
    y_res: np.ndarray,
    *,
    seed: int,
    options: Mapping[str, Any] | None = None,
) -> tuple[Any, int]:
    """Fit the full forest on (a subsample of) all persons; return it and the number of rows used.

    Parameters
    ----------
    x, t_res, y_res
        Effect modifiers and the cross-fitted treatment and outcome residuals.
    seed
        Seed of the subsample and the forest.
    options
        Overrides of :data:`FOREST_DEFAULTS`.
    """
    settings = {**FOREST_DEFAULTS, **dict(options or {})}
    max_rows = int(settings.pop("max_rows"))
    settings.pop("crossfit_folds")
    return _grow(x, t_res, y_res, np.arange(x.shape[0]), max_rows, seed, settings)


def crossfit(
    x: np.ndarray,
    t_res: np.ndarray,
    y_res: np.ndarray,
    fold: np.ndarray,
    *,
    seed: int,
    options: Mapping[str, Any] | None = None,
    progress: bool = False,
) -> np.ndarray:
    """Return CATE predictions for every row from forests that never saw the row's municipality.

    The nuisance folds (whole clusters) are split into ``crossfit_folds`` groups
    (``fold % crossfit_folds``); each group is predicted by a forest grown on the other
    groups (subsample of ``max_rows / crossfit_folds``).
    """
    from tqdm.auto import tqdm

    settings = {**FOREST_DEFAULTS, **dict(options or {})}
    max_rows = int(settings.pop("max_rows"))
    groups = int(settings.pop("crossfit_folds"))
    part = fold % groups
    tau = np.full(x.shape[0], np.nan)
    for k in tqdm(range(groups), desc="cross-fitted forests", disable=not progress, leave=False):
        test = part == k
        if not test.any() or test.all():
            continue
        sub, _ = _grow(x, t_res, y_res, np.flatnonzero(~test), max(max_rows // groups, 1), seed + 1 + k, settings)
        tau[test] = predict(sub, x[test])
    tau.flags.writeable = False
    return tau


def _chunks(n: int, chunk: int) -> list[slice]:
    size = max(min(chunk, -(-n // config.threads())), 1)
    return [slice(i, i + size) for i in range(0, n, size)]


def predict(forest: Any, x: np.ndarray, chunk: int = 100_000) -> np.ndarray:
    """Return point predictions, chunks in parallel threads (bounded memory, deterministic)."""
    from joblib import Parallel, delayed

    if x.shape[0] == 0:
        return np.empty(0)
    parts = Parallel(n_jobs=config.threads(), backend="threading")(
        delayed(forest.predict)(x[s]) for s in _chunks(x.shape[0], chunk)
    )
    return np.concatenate([np.asarray(p).reshape(-1) for p in parts])


def predict_interval(forest: Any, x: np.ndarray, alpha: float, chunk: int = 50_000) -> tuple[np.ndarray, ...]:
    """Return predictions with pointwise (bootstrap-of-little-bags) intervals, chunks in parallel threads."""
    from joblib import Parallel, delayed

    if x.shape[0] == 0:
        return np.empty(0), np.empty(0), np.empty(0)
    parts = Parallel(n_jobs=config.threads(), backend="threading")(
        delayed(forest.predict)(x[s], interval=True, alpha=alpha) for s in _chunks(x.shape[0], chunk)
    )
    point = np.concatenate([np.asarray(p[0]).reshape(-1) for p in parts])
    low = np.concatenate([np.asarray(p[1]).reshape(-1) for p in parts])
    high = np.concatenate([np.asarray(p[2]).reshape(-1) for p in parts])
    return point, low, high

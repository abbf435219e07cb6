"""Nuisance learners for double machine learning, every one seeded.

``learner`` names a family: ``"lightgbm"`` (default: gradient boosting, fast at register
size), ``"forest"`` (scikit-learn random forests), ``"linear"`` (regularised linear
and logistic regression on standardised features). A mapping
``{"outcome": estimator, "propensity": classifier}`` of scikit-learn estimators is also
accepted; they are cloned and, when they have a ``random_state``, seeded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from o4o_causal import config
from o4o_causal.exceptions import SpecificationError, format_error

LEARNERS = ("lightgbm", "forest", "linear")

#: LightGBM settings of the default learner (``min_child_samples`` grows with n, see :func:`make`).
LGBM_PARAMS: dict[str, Any] = {
    "n_estimators": 200,
    "learning_rate": 0.08,
    "num_leaves": 31,
    "max_bin": 63,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "reg_lambda": 1.0,
    "deterministic": True,
    "force_row_wise": True,
    "verbose": -1,
}


def check(learner: object) -> None:
    """Raise :class:`SpecificationError` unless ``learner`` is a known name or a valid mapping."""
    if isinstance(learner, str):
        if learner not in LEARNERS:
            raise SpecificationError(
                format_error(
                    what="learner",
                    expected=f"one of {', '.join(LEARNERS)} or a mapping of estimators",
                    found=repr(learner),
                    fix="pick a listed learner",
                )
            )
        return
    if not isinstance(learner, Mapping) or set(learner) != {"outcome", "propensity"}:
        raise SpecificationError(
            format_error(
                what="learner",
                expected="a name or a mapping with exactly the keys 'outcome' and 'propensity'",
                found=repr(learner),
                fix="pass e.g. {'outcome': LGBMRegressor(), 'propensity': LGBMClassifier()}",
            )
        )
    if not hasattr(learner["propensity"], "predict_proba"):
        raise SpecificationError(
            format_error(
                what="learner['propensity']",
                expected="a classifier with predict_proba",
                found=type(learner["propensity"]).__name__,
                fix="pass a scikit-learn classifier",
            )
        )


def make(learner: str | Mapping[str, Any], kind: str, *, seed: int, n_train: int) -> Any:
    """Return an unfitted, seeded nuisance model.

    Parameters
    ----------
    learner
        Family name or mapping (see module docstring).
    kind
        ``"outcome"`` (regressor) or ``"propensity"`` (classifier).
    seed
        Seed of this model.
    n_train
        Training-set size (LightGBM's minimum leaf size grows with it:
        ``clip(n_train / 2000, 20, 200)``, so leaves stay large and fits smooth at register size).

    Returns
    -------
    estimator
        A scikit-learn compatible estimator.
    """
    if not isinstance(learner, str):
        from sklearn.base import clone

        model = clone(learner[kind])
        seeded = {k: seed for k in model.get_params() if k == "random_state" or k.endswith("__random_state")}
        if seeded:
            model.set_params(**seeded)
        return model
    classifier = kind == "propensity"
    if learner == "lightgbm":
        import lightgbm as lgb

        params = {
            **LGBM_PARAMS,
            "min_child_samples": int(min(max(n_train // 2000, 20), 200)),
            "random_state": seed,
            "n_jobs": config.threads(),
        }
        return lgb.LGBMClassifier(**params) if classifier else lgb.LGBMRegressor(**params)
    if learner == "forest":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        forest = RandomForestClassifier if classifier else RandomForestRegressor
        return forest(
            n_estimators=200,
            min_samples_leaf=20,
            max_features="sqrt",
            max_samples=min(1.0, 200_000 / max(n_train, 1)),
            n_jobs=config.threads(),
            random_state=seed,
        )
    from sklearn.linear_model import LogisticRegression, RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if classifier:
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000))
    return make_pipeline(StandardScaler(), RidgeCV(alphas=(0.1, 1.0, 10.0, 100.0)))

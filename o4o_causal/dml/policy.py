"""Policy learning: a shallow tree that assigns the treatment where it helps.

EconML's :class:`econml.policy.PolicyTree` is grown on doubly robust rewards
(``0`` for not treating, ``psi - cost`` for treating; Athey & Wager 2021). Its value is
estimated honestly by cross-fitting: for each fold of the nuisance cross-fitting (whole
clusters), a tree grown on the other folds assigns the persons of the fold; the
policy's value and its advantage over treating nobody and everybody are means of the
doubly robust scores under that assignment, with cluster-robust standard errors
(conditional on the learned trees; the rewards the trees are grown on come from
nuisance models that saw the held-out fold, a second-order effect). The tree shown is
grown on one half of the municipalities (even nuisance folds) and its leaf effects are
estimated on the other half, so leaf intervals are honest. Leaves hold at least
``min_leaf`` persons (default: 2% of n and at least 20 times the disclosure threshold;
never fewer than the threshold), so a leaf describes a group, not a person. Split
thresholds are midpoints between observed values, printed to three digits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from o4o_causal import config
from o4o_causal._inference import if_se
from o4o_causal.dml.nuisance import CLIP
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.results import Estimate

if TYPE_CHECKING:
    from o4o_causal.dml.result import CateResult

#: Trees are grown on at most this many persons (seeded subsample).
MAX_ROWS = 200_000


@dataclass(frozen=True, repr=False)
class PolicyTreeResult:
    """A fitted policy tree, its leaves and its cross-fitted value."""

    tree: Any
    features: tuple[str, ...]
    depth: int
    cost: float
    leaves: pd.DataFrame
    value: pd.DataFrame

    def rules(self) -> list[str]:
        """Return one readable rule per leaf (``conditions -> treat / do not treat``)."""
        return [f"{r.conditions} -> {'treat' if r.treat else 'do not treat'}" for r in self.leaves.itertuples()]

    def __repr__(self) -> str:
        adv = self.value.set_index("policy").loc["learned tree vs treat everybody"]
        gain = f"gain vs treat-all {adv['estimate']:.4f} (se {adv['se']:.4f})"
        return f"PolicyTreeResult(depth={self.depth}, {len(self.leaves)} leaves; {gain})"


def _conditions(tree: Any, names: Sequence[str]) -> dict[int, str]:
    t = tree.tree_
    out: dict[int, str] = {}

    def walk(node: int, path: list[str]) -> None:
        left, right = int(t.children_left[node]), int(t.children_right[node])
        if left == -1:
            out[node] = " and ".join(path) if path else "everybody"
            return
        name, thr = names[int(t.feature[node])], float(t.threshold[node])
        walk(left, [*path, f"{name} <= {thr:.3g}"])
        walk(right, [*path, f"{name} > {thr:.3g}"])

    walk(0, [])
    return out


def _grow(x: np.ndarray, reward: np.ndarray, depth: int, min_leaf: int, seed: int) -> Any:
    from econml.policy import PolicyTree

    rows = np.arange(x.shape[0])
    if rows.size > MAX_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows.size, MAX_ROWS, replace=False))
    leaf = max(1, int(min_leaf * rows.size / x.shape[0]))
    tree = PolicyTree(max_depth=depth, min_samples_leaf=leaf, honest=False, random_state=seed)
    return tree.fit(x[rows], np.column_stack([np.zeros(rows.size), reward[rows]]))


def policy_tree(
    result: CateResult,
    *,
    depth: int = 2,
    features: Sequence[str] | None = None,
    cost: float = 0.0,
    min_leaf: int | None = None,
    data: pd.DataFrame | None = None,
) -> PolicyTreeResult:
    """Grow a depth-``depth`` policy tree and estimate its value by cross-fitting.

    Parameters
    ----------
    result
        A fitted :class:`~o4o_causal.dml.CateResult`.
    depth
        Tree depth (1-4; 2 is readable).
    features
        Columns to split on (numeric; default the effect modifiers); columns not kept in
        the result are taken from ``data`` (the frame used to fit).
    cost
        Cost of treating one person, on the outcome scale (treat only where the effect exceeds it).
    min_leaf
        Minimum persons per leaf.
    data
        The frame used to fit, when ``features`` are not kept in the result.

    Returns
    -------
    PolicyTreeResult
    """
    if not 1 <= depth <= 4:
        raise SpecificationError(format_error(what="depth", expected="1 to 4", found=str(depth), fix="use depth=2"))
    names = list(result.effect_modifiers if features is None else features)
    source = result._source(data, "policy_tree")
    missing = [c for c in names if c not in source.columns]
    if missing:
        raise DataError(
            format_error(
                what="features",
                expected="columns of the fitted data",
                found=f"missing {missing}",
                fix="pass data=<the frame used to fit>",
            )
        )
    x = source[names].to_numpy(dtype=np.float64)
    if not np.isfinite(x).all():
        raise DataError(
            format_error(
                what="features",
                expected="numeric, finite values",
                found="missing or infinite values",
                fix="encode or impute them",
            )
        )
    n = result.n
    threshold = config.DISCLOSURE.threshold
    leaf = int(max(min_leaf if min_leaf is not None else max(0.02 * n, 20 * threshold), threshold))
    reward = result.psi - cost
    fold = result.nuisance.fold
    assign = np.zeros(n)
    for k in np.unique(fold):
        test = fold == k
        tree_k = _grow(x[~test], reward[~test], depth, leaf, result.seed + 31 * int(k))
        assign[test] = tree_k.predict(x[test])
    cl = result.clusters
    e = np.clip(result.nuisance.m, CLIP, 1 - CLIP)
    gamma0 = result.nuisance.g0 + (1 - result.d) * (result.y - result.nuisance.g0) / (1 - e)
    rows = []
    for label, contrib in (
        ("learned tree", gamma0 + assign * reward),
        ("treat everybody", gamma0 + reward),
        ("treat nobody", gamma0),
        ("learned tree vs treat nobody", assign * reward),
        ("learned tree vs treat everybody", (assign - 1) * reward),
    ):
        v = float(contrib.mean())
        est = Estimate.from_normal(
            v, if_se(contrib - v, cl), n=n, method="cross-fitted policy value", ci_level=result.ci_level, estimand=label
        )
        rows.append(
            {"policy": label, "estimate": est.value, "se": est.se, "ci_low": est.ci_low, "ci_high": est.ci_high}
        )
    value = pd.DataFrame(rows)
    value.attrs["share_treated"] = float(assign.mean())
    grow = fold % 2 == 0
    if grow.all() or not grow.any():  # a single fold: no honest split possible
        grow = np.ones(n, dtype=bool)
    tree = _grow(x[grow], reward[grow], depth, max(leaf // 2, threshold), result.seed)
    estimate = ~grow if (~grow).any() else grow
    leaves = _leaves(tree, x, reward, estimate, names, cl, result.ci_level)
    return PolicyTreeResult(tree=tree, features=tuple(names), depth=depth, cost=cost, leaves=leaves, value=value)


def _leaves(
    tree: Any,
    x: np.ndarray,
    reward: np.ndarray,
    estimate: np.ndarray,
    names: Sequence[str],
    cl: np.ndarray | None,
    ci_level: float,
) -> pd.DataFrame:
    """Describe every leaf: persons (all), and the effect estimated on the ``estimate`` rows only."""
    conditions = _conditions(tree, names)
    node = tree.apply(x)
    threshold = config.DISCLOSURE.threshold
    rows = []
    for leaf_id, text in conditions.items():
        members = node == leaf_id
        if not members.any():
            continue
        sel = members & estimate
        treat = bool(tree.predict(x[np.flatnonzero(members)[:1]])[0] == 1)
        row: dict[str, Any] = {
            "leaf": leaf_id,
            "conditions": text,
            "n": int(members.sum()),
            "share": float(members.mean()),
            "n_estimation": int(sel.sum()),
        }
        if int(sel.sum()) >= threshold:
            v = float(reward[sel].mean())
            se = if_se(reward[sel] - v, None if cl is None else cl[sel])
            est = Estimate.from_normal(v, se, n=int(sel.sum()), method="leaf", ci_level=ci_level)
            row.update(effect_minus_cost=v, se=se, ci_low=est.ci_low, ci_high=est.ci_high)
        else:
            row.update(effect_minus_cost=np.nan, se=np.nan, ci_low=np.nan, ci_high=np.nan)
        row["treat"] = treat
        rows.append(row)
    return pd.DataFrame(rows)

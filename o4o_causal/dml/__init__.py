"""Heterogeneous effects by double machine learning with municipality-clustered inference.

* :func:`estimate_cate` -- causal-forest DML (EconML's generalized random forest on
  residuals from grouped, cross-fitted LightGBM nuisance models).
* :class:`CateResult` -- ``.ate()``, ``.att()``, ``.gate(by)``, ``.cate(data)``,
  ``.blp()``, ``.calibration()``, ``.sorted_effects()``, ``.clan()``,
  ``.heterogeneity_test()``, ``.policy_tree(depth)``, ``.nuisance_report()``.

EconML's ``groups`` keeps clusters together in cross-fitting but its standard errors
are not cluster-robust; here every average is a mean of doubly robust scores whose
standard error is summed within clusters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from o4o_causal._lazy import lazy_getattr

if TYPE_CHECKING:
    from o4o_causal.dml.estimate import estimate_cate
    from o4o_causal.dml.policy import PolicyTreeResult, policy_tree
    from o4o_causal.dml.result import CateResult

_LAZY = {
    "estimate_cate": "o4o_causal.dml.estimate",
    "CateResult": "o4o_causal.dml.result",
    "PolicyTreeResult": "o4o_causal.dml.policy",
    "policy_tree": "o4o_causal.dml.policy",
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = ["CateResult", "PolicyTreeResult", "estimate_cate", "policy_tree"]

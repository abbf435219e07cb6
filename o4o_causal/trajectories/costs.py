"""Substitution costs for optimal matching: transition rates, constant, user matrices, DHD.

* ``TRATE`` (TraMineR ``seqcost(method="TRATE")``): ``c(i, j) = 2 - p(i->j) - p(j->i)``
  for ``i != j`` and 0 on the diagonal, where ``p(i->j)`` is the share of month-to-month
  transitions out of ``i`` that go to ``j``, pooled over all persons and months (each
  person counts once per transition: collapse weights do not change it). A state never
  left (or never seen) has ``p = 0``: substituting it costs 2.
* ``CONSTANT``: ``c(i, j) = 2`` for ``i != j`` (TraMineR's default ``cval``).
* a user matrix: square, symmetric, non-negative, zero diagonal, one row per state.
* ``DHD`` (dynamic Hamming, Lesnard 2010; TraMineR ``seqcost(method="TRATE",
  time.varying=TRUE)``): position-specific costs
  ``c_t(i, j) = 4 - p_{t-1}(i->j) - p_{t-1}(j->i) - p_t(i->j) - p_t(j->i)`` with
  ``p_t(i->j) = P(s_{t+1} = j | s_t = i)``; at the first and last month the one
  available transition matrix counts twice, ``c = 2 (2 - p - p)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from o4o_causal.exceptions import SpecificationError, format_error


def transition_counts(codes: np.ndarray, n_states: int, *, by_time: bool = False) -> np.ndarray:
    """Count month-to-month transitions ``from -> to`` (``(T-1) x a x a`` when ``by_time``)."""
    a = n_states
    frm = codes[:, :-1].astype(np.int64)
    to = codes[:, 1:].astype(np.int64)
    if not by_time:
        return np.bincount((frm * a + to).ravel(), minlength=a * a).reshape(a, a).astype(np.float64)
    t = codes.shape[1] - 1
    flat = (np.arange(t)[None, :] * a * a + frm * a + to).ravel()
    return np.bincount(flat, minlength=t * a * a).reshape(t, a, a).astype(np.float64)


def _rates(counts: np.ndarray) -> np.ndarray:
    totals = counts.sum(axis=-1, keepdims=True)
    return np.asarray(np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0))


def transition_probabilities(codes: np.ndarray, n_states: int, *, by_time: bool = False) -> np.ndarray:
    """Return ``p(i -> j)`` (rows: from, columns: to); rows of unseen origins are 0."""
    return _rates(transition_counts(codes, n_states, by_time=by_time))


def trate_costs(codes: np.ndarray, n_states: int) -> np.ndarray:
    """Return the ``TRATE`` substitution-cost matrix ``2 - p(i->j) - p(j->i)`` (zero diagonal)."""
    p = transition_probabilities(codes, n_states)
    cost = np.asarray(2.0 - p - p.T)
    np.fill_diagonal(cost, 0.0)
    return cost


def constant_costs(n_states: int, value: float = 2.0) -> np.ndarray:
    """Return a constant substitution-cost matrix (``value`` off the diagonal)."""
    cost = np.full((n_states, n_states), float(value))
    np.fill_diagonal(cost, 0.0)
    return cost


def dhd_costs(codes: np.ndarray, n_states: int) -> np.ndarray:
    """Return the ``T x a x a`` dynamic-Hamming costs (see the module docstring)."""
    p = transition_probabilities(codes, n_states, by_time=True)  # (T-1) x a x a
    sym = p + np.swapaxes(p, 1, 2)
    t = codes.shape[1]
    cost = np.empty((t, n_states, n_states))
    cost[0] = 2.0 * (2.0 - sym[0])
    cost[-1] = 2.0 * (2.0 - sym[-1])
    cost[1:-1] = 4.0 - sym[:-1] - sym[1:]
    idx = np.arange(n_states)
    cost[:, idx, idx] = 0.0
    return cost


def user_costs(matrix: np.ndarray | pd.DataFrame, alphabet: Sequence[str]) -> np.ndarray:
    """Validate a user substitution-cost matrix (a DataFrame is aligned to ``alphabet`` by label)."""
    a = len(alphabet)
    if isinstance(matrix, pd.DataFrame):
        missing = [s for s in alphabet if s not in matrix.index or s not in matrix.columns]
        if missing:
            raise SpecificationError(
                format_error(
                    what="substitution",
                    expected=f"a cost table with rows and columns for every state {list(alphabet)}",
                    found=f"no row/column for {missing}",
                    fix="add the states (recoded-away states are no longer in the alphabet)",
                )
            )
        arr = matrix.loc[list(alphabet), list(alphabet)].to_numpy(dtype=float)
    else:
        arr = np.asarray(matrix, dtype=float)
    problem = None
    if arr.shape != (a, a):
        problem = f"shape {arr.shape}"
    elif not np.all(np.isfinite(arr)) or (arr < 0).any():
        problem = "negative or non-finite costs"
    elif not np.allclose(arr, arr.T):
        problem = "an asymmetric matrix"
    elif not np.allclose(np.diag(arr), 0.0):
        problem = "a non-zero diagonal"
    if problem:
        raise SpecificationError(
            format_error(
                what="substitution",
                expected=f"a symmetric, non-negative {a}x{a} matrix with zero diagonal (states {list(alphabet)})",
                found=problem,
                fix="pass 'TRATE', 'CONSTANT' or a valid matrix",
            )
        )
    return arr.copy()


__all__ = [
    "constant_costs",
    "dhd_costs",
    "transition_counts",
    "transition_probabilities",
    "trate_costs",
    "user_costs",
]

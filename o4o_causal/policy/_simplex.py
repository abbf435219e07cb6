"""Exact least squares on the probability simplex (synthetic-control and SDID weights).

``simplex_least_squares`` solves

    min_w  ||A w - b||^2 + ridge * ||w||^2   subject to  w >= 0, sum(w) = 1

(optionally with a free intercept, ``min_{w, c} ||A w + c - b||^2 + ...``, solved by
centring the rows) by a primal active-set method for convex quadratic programmes
(Nocedal & Wright 2006, Algorithm 16.3). Each step solves the equality-constrained
problem on the free set exactly (a KKT linear system), so the result is the exact
minimiser up to floating point, found in finitely many steps, from a fixed start
(uniform weights): deterministic. The KKT conditions are verified at the end.

When the quadratic form is singular (more donors than fitted rows, or collinear
donors) the minimiser is not unique; a tiny ridge (``1e-10`` times the mean diagonal)
makes it unique and selects, among the (near-)minimisers, the one with the smallest
norm. The fitted values are unaffected at any visible precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from o4o_causal.exceptions import ConvergenceError, format_error

#: Relative ridge making the quadratic form strictly convex (uniqueness).
TIE_BREAK = 1e-10


@dataclass(frozen=True)
class SimplexFit:
    """Weights on the simplex, the intercept (0 without one) and the solver's record."""

    weights: np.ndarray
    intercept: float
    iterations: int
    kkt_violation: float


def simplex_least_squares(
    a: np.ndarray, b: np.ndarray, *, ridge: float = 0.0, intercept: bool = False, max_iter: int = 10_000
) -> SimplexFit:
    """Solve the simplex-constrained (ridge) least-squares problem exactly.

    Parameters
    ----------
    a
        Matrix (rows x J): one column per donor.
    b
        Target vector (rows).
    ridge
        Non-negative penalty on ``||w||^2``.
    intercept
        Fit a free intercept (rows centred first).
    max_iter
        Bound on active-set iterations (never reached in practice).

    Returns
    -------
    SimplexFit
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if intercept:
        a_c, b_c = a - a.mean(axis=0), b - b.mean()
    else:
        a_c, b_c = a, b
    j = a.shape[1]
    q = a_c.T @ a_c + ridge * np.eye(j)
    c = a_c.T @ b_c
    scale = max(float(np.mean(np.diag(q))), 1e-300)
    q = q + TIE_BREAK * scale * np.eye(j)
    w, iterations, violation = _active_set(q, c, max_iter, scale)
    icpt = float(b.mean() - a.mean(axis=0) @ w) if intercept else 0.0
    return SimplexFit(weights=w, intercept=icpt, iterations=iterations, kkt_violation=violation)


def _active_set(q: np.ndarray, c: np.ndarray, max_iter: int, scale: float) -> tuple[np.ndarray, int, float]:
    """Minimise ``w'Qw/2 - c'w`` over the simplex; ``Q`` positive definite."""
    j = q.shape[0]
    w = np.full(j, 1.0 / j)
    active = np.zeros(j, dtype=bool)  # constraints w_i = 0 held active
    tol = 1e-12 * scale
    for iteration in range(1, max_iter + 1):
        free = np.flatnonzero(~active)
        g = q @ w - c
        kkt = np.zeros((free.size + 1, free.size + 1))
        kkt[:-1, :-1] = q[np.ix_(free, free)]
        kkt[:-1, -1] = 1.0
        kkt[-1, :-1] = 1.0
        sol = np.linalg.solve(kkt, np.concatenate([-g[free], [0.0]]))
        p_free, mu = sol[:-1], float(sol[-1])
        p = np.zeros(j)
        p[free] = p_free
        blocking = p < -1e-15
        ratios = np.where(blocking, w / np.where(blocking, -p, 1.0), np.inf)
        k = int(np.argmin(ratios))
        alpha = min(1.0, float(ratios[k]))
        w = np.maximum(w + alpha * p, 0.0)
        if alpha < 1.0:
            w[k] = 0.0
            active[k] = True
            w = w / w.sum()
            continue
        w = w / w.sum()
        # full step: w minimises on the working set; check the multipliers of the active bounds
        lam = q @ w - c + mu
        lam_active = np.where(active, lam, np.inf)
        k = int(np.argmin(lam_active))
        if not active.any() or lam_active[k] >= -tol:
            return _finish(w, q, c, iteration)
        active[k] = False
    raise ConvergenceError(
        format_error(
            what="simplex weights (active-set solver)",
            expected=f"convergence within {max_iter} iterations",
            found="no convergence",
            fix="check the donor matrix for non-finite values",
        )
    )


def _finish(w: np.ndarray, q: np.ndarray, c: np.ndarray, iterations: int) -> tuple[np.ndarray, int, float]:
    w = np.where(w < 1e-14, 0.0, w)
    w = w / w.sum()
    g = q @ w - c
    support = w > 0
    nu = float(np.mean(g[support]))
    # KKT: g_i = nu on the support, g_i >= nu off the support (relative to the gradient scale)
    denom = max(float(np.max(np.abs(g))), float(np.max(np.abs(c))), 1e-300)
    violation = max(float(np.max(np.abs(g[support] - nu))), float(np.max(nu - g[~support], initial=0.0))) / denom
    w.setflags(write=False)
    return w, iterations, violation

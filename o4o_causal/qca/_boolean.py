"""Exact Boolean minimisation: Quine-McCluskey prime implicants and all minimum covers.

Implicants are strings over ``"1"``, ``"0"``, ``"-"`` (one character per condition);
minterms are implicants without ``"-"``.

Covers (the prime implicant chart) are solved exactly in three steps:

1. essential implicants are taken, and rows whose implicants are a superset of another
   row's are dropped (row dominance: covering the smaller row covers them; the set of
   covers is unchanged, so no minimum cover is lost);
2. the fewest implicants needed is found by an integer program (``scipy.optimize.milp``,
   HiGHS branch and bound);
3. every cover of exactly that size is enumerated by a depth-first search over integer
   bitmasks (branch on the row with fewest candidates, each candidate tried once per
   branch so no cover is visited twice, pruned by a disjoint-rows lower bound).

So every cover with the fewest implicants is returned (model ambiguity), not just one.
Column dominance is deliberately *not* applied: a dominated implicant can still belong
to an alternative minimum cover. Charts beyond :data:`MAX_IMPLICANTS` implicants are
refused before any search; the search itself is bounded by :data:`MAX_NODES` and
:data:`MAX_MODELS` and the integer program by :data:`MILP_TIME_LIMIT` seconds, each with
a :class:`~o4o_causal.exceptions.SpecificationError` that says what to change.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from o4o_causal.exceptions import SpecificationError, format_error

#: Most prime implicants a chart may hold (checked before any search).
MAX_IMPLICANTS = 20_000
#: Most minimum covers (models) returned; more is reported as an error.
MAX_MODELS = 1_000
#: Most search nodes the enumeration of minimum covers may visit.
MAX_NODES = 100_000
#: Time limit (seconds) of the integer program for the minimum cover size.
MILP_TIME_LIMIT = 10.0

_FIX = "use fewer conditions, or a stricter incl_cut / n_cut so that fewer rows are positive or remainders"


def covers(implicant: str, minterm: str) -> bool:
    """Return whether ``implicant`` covers ``minterm``."""
    return all(a in ("-", b) for a, b in zip(implicant, minterm, strict=True))


def subsumes(general: str, specific: str) -> bool:
    """Return whether every minterm of ``specific`` is a minterm of ``general``."""
    return all(g in ("-", s) for g, s in zip(general, specific, strict=True))


def prime_implicants(minterms: Iterable[str], dont_cares: Iterable[str] = ()) -> set[str]:
    """Return the prime implicants of ``minterms`` with ``dont_cares`` (Quine-McCluskey).

    Only primes covering at least one of ``minterms`` are returned.
    """
    on = set(minterms)
    every = on | set(dont_cares)
    if not every:
        return set()
    k = len(next(iter(every)))
    full = (1 << k) - 1
    # a term is (care mask, value); merging two terms differing in one cared-for bit
    current: set[tuple[int, int]] = {(full, int(code, 2)) for code in every}
    primes: set[tuple[int, int]] = set()
    while current:
        merged: set[tuple[int, int]] = set()
        used: set[tuple[int, int]] = set()
        for care, value in current:
            free = care & ~value
            while free:
                bit = free & -free
                free ^= bit
                partner = (care, value | bit)
                if partner in current:
                    merged.add((care & ~bit, value))
                    used.add((care, value))
                    used.add(partner)
        primes |= current - used
        current = merged
    on_values = [int(m, 2) for m in on]
    return {_code(care, value, k) for care, value in primes if any(v & care == value for v in on_values)}


def _code(care: int, value: int, k: int) -> str:
    """Return the implicant string of ``(care mask, value)`` over ``k`` conditions."""
    out = []
    for j in range(k - 1, -1, -1):
        bit = 1 << j
        out.append("1" if value & bit else ("0" if care & bit else "-"))
    return "".join(out)


def covered_codes(implicant: str, codes: Iterable[str]) -> frozenset[str]:
    """Return the ``codes`` (minterms) that ``implicant`` covers."""
    care, value = _mask_value(implicant)
    return frozenset(c for c in codes if int(c, 2) & care == value)


def _mask_value(code: str) -> tuple[int, int]:
    """Return ``(care mask, value)`` of an implicant as integers (first character = top bit)."""
    mask = value = 0
    for ch in code:
        mask <<= 1
        value <<= 1
        if ch != "-":
            mask |= 1
            value |= ch == "1"
    return mask, value


def _too_big(expected: str, found: str) -> SpecificationError:
    return SpecificationError(format_error(what="minimisation", expected=expected, found=found, fix=_FIX))


def _minimum_size(rows: list[int], n_cols: int) -> int:
    """Return the fewest columns covering every row (rows as column bitmasks), by MILP."""
    a = np.zeros((len(rows), n_cols))
    for i, r in enumerate(rows):
        for j in range(n_cols):
            if (r >> j) & 1:
                a[i, j] = 1.0
    res = milp(
        c=np.ones(n_cols),
        constraints=LinearConstraint(a, lb=np.ones(len(rows)), ub=np.full(len(rows), np.inf)),
        integrality=np.ones(n_cols),
        bounds=Bounds(0, 1),
        options={"time_limit": MILP_TIME_LIMIT},
    )
    if res.status != 0 or res.x is None:
        raise _too_big(
            f"the minimum cover found within {MILP_TIME_LIMIT:g} s",
            f"no optimal cover ({res.message}) for {len(rows)} rows x {n_cols} implicants",
        )
    return round(float(res.fun))


def _enumerate(rows: list[int], n_cols: int, size: int) -> list[tuple[int, ...]]:
    """Return every set of ``size`` columns covering all ``rows`` (each set once)."""
    found: list[tuple[int, ...]] = []
    nodes = 0

    def search(uncovered: list[int], allowed: int, chosen: list[int], budget: int) -> None:
        nonlocal nodes
        nodes += 1
        if nodes > MAX_NODES:
            raise _too_big(
                f"at most {MAX_NODES} search steps to list the minimum covers",
                f"more ({len(rows)} rows x {n_cols} implicants, covers of size {size})",
            )
        if not uncovered:
            found.append(tuple(sorted(chosen)))
            if len(found) > MAX_MODELS:
                raise _too_big(
                    f"at most {MAX_MODELS} equally minimal models",
                    f"more (covers of size {size} from {n_cols} implicants: extreme model ambiguity)",
                )
            return
        if budget == 0:
            return
        avail = sorted((r & allowed for r in uncovered), key=int.bit_count)
        if avail[0] == 0:
            return
        used = bound = 0
        for a in avail:
            if not a & used:
                bound += 1
                used |= a
        if bound > budget:
            return
        branch = avail[0]
        while branch:
            low = branch & -branch
            branch ^= low
            c = low.bit_length() - 1
            chosen.append(c)
            search([u for u in uncovered if not u & low], allowed, chosen, budget - 1)
            chosen.pop()
            allowed &= ~low

    search(rows, (1 << n_cols) - 1, [], size)
    return found


def minimum_covers(minterms: Iterable[str], implicants: Iterable[str]) -> list[tuple[str, ...]]:
    """Return every cover of ``minterms`` by the fewest ``implicants`` (each sorted).

    Raises
    ------
    SpecificationError
        When some minterm is covered by no implicant, or the chart is too large for an
        exact search (see the module docstring).
    """
    terms = sorted(set(implicants))
    minterm_list = sorted(set(minterms))
    if not minterm_list:
        return [()]
    if len(terms) > MAX_IMPLICANTS:
        raise _too_big(f"at most {MAX_IMPLICANTS} prime implicants", f"{len(terms)}")
    term_bits = [_mask_value(t) for t in terms]
    chart: list[int] = []
    for m in minterm_list:
        v = int(m, 2)
        chart.append(sum(1 << j for j, (mask, value) in enumerate(term_bits) if v & mask == value))
    uncovered = [m for m, r in zip(minterm_list, chart, strict=True) if not r]
    if uncovered:
        raise SpecificationError(
            format_error(
                what="minimisation",
                expected="every positive row covered by some implicant",
                found=f"rows {uncovered[:5]} uncovered",
                fix="this is a bug; please report it with the truth table",
            )
        )
    essential = 0
    for r in chart:
        if r.bit_count() == 1:
            essential |= r
    rest = sorted({r for r in chart if not r & essential}, key=int.bit_count)
    # row dominance: a row whose implicants include all of another row's is covered anyway
    reduced: list[int] = []
    for r in rest:
        if not any(q & r == q for q in reduced):
            reduced.append(r)
    essential_terms = [terms[j] for j in range(len(terms)) if (essential >> j) & 1]
    if not reduced:
        return [tuple(sorted(essential_terms))]
    # independent blocks of the chart (rows linked by shared implicants) are solved apart;
    # the minimum covers are the products of the blocks' minimum covers
    per_block: list[list[tuple[int, ...]]] = []
    n_models = 1
    for block in _blocks(reduced):
        cols = sorted({j for r in block for j in range(r.bit_length()) if (r >> j) & 1})
        index = {j: i for i, j in enumerate(cols)}
        rows = [sum(1 << index[j] for j in range(r.bit_length()) if (r >> j) & 1) for r in block]
        size = _minimum_size(rows, len(cols))
        found = [tuple(cols[i] for i in combo) for combo in _enumerate(rows, len(cols), size)]
        n_models *= len(found)
        if n_models > MAX_MODELS:
            raise _too_big(
                f"at most {MAX_MODELS} equally minimal models",
                f"at least {n_models} (extreme model ambiguity; {len(terms)} prime implicants)",
            )
        per_block.append(found)
    out = [
        tuple(sorted(essential_terms + [terms[j] for part in combo for j in part]))
        for combo in itertools.product(*per_block)
    ]
    return sorted(out)


def _blocks(rows: list[int]) -> list[list[int]]:
    """Split chart rows (column bitmasks) into groups that share no column."""
    groups: list[tuple[int, list[int]]] = []
    for r in rows:
        cols, members = r, [r]
        keep: list[tuple[int, list[int]]] = []
        for g_cols, g_rows in groups:
            if g_cols & cols:
                cols |= g_cols
                members.extend(g_rows)
            else:
                keep.append((g_cols, g_rows))
        keep.append((cols, members))
        groups = keep
    return [g for _, g in groups]

"""Exact Boolean minimisation: Quine-McCluskey prime implicants and all minimum covers.

Implicants are strings over ``"1"``, ``"0"``, ``"-"`` (one character per condition);
minterms are implicants without ``"-"``. Covers are found by Petrick's method (product
of sums expanded with absorption), pruned by the size of a greedy cover, so every cover
with the fewest implicants is returned (model ambiguity), not just one.
"""

from __future__ import annotations

from collections.abc import Iterable

from o4o_causal.exceptions import SpecificationError, format_error

#: Most partial products Petrick's expansion may hold before giving up.
MAX_PRODUCTS = 200_000


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
    current = on | set(dont_cares)
    primes: set[str] = set()
    while current:
        merged: set[str] = set()
        used: set[str] = set()
        for term in current:
            for j, ch in enumerate(term):
                if ch == "0":
                    partner = f"{term[:j]}1{term[j + 1 :]}"
                    if partner in current:
                        merged.add(f"{term[:j]}-{term[j + 1 :]}")
                        used.add(term)
                        used.add(partner)
        primes |= current - used
        current = merged
    return {p for p in primes if any(covers(p, m) for m in on)}


def _absorb(products: set[frozenset[str]]) -> set[frozenset[str]]:
    ordered = sorted(products, key=len)
    kept: list[frozenset[str]] = []
    for p in ordered:
        if not any(q <= p for q in kept):
            kept.append(p)
    return set(kept)


def _greedy_size(chart: dict[str, set[str]], candidates: set[str]) -> int:
    uncovered = set(chart)
    size = 0
    while uncovered:
        best = max(sorted(candidates), key=lambda c: sum(c in chart[m] for m in uncovered))
        uncovered = {m for m in uncovered if best not in chart[m]}
        size += 1
    return size


def minimum_covers(minterms: Iterable[str], implicants: Iterable[str]) -> list[tuple[str, ...]]:
    """Return every cover of ``minterms`` by the fewest ``implicants`` (each sorted).

    Raises
    ------
    SpecificationError
        When some minterm is covered by no implicant, or the search explodes.
    """
    terms = sorted(set(implicants))
    chart = {m: {t for t in terms if covers(t, m)} for m in sorted(set(minterms))}
    if not chart:
        return [()]
    uncovered = [m for m, ts in chart.items() if not ts]
    if uncovered:
        raise SpecificationError(
            format_error(
                what="minimisation",
                expected="every positive row covered by some implicant",
                found=f"rows {uncovered[:5]} uncovered",
                fix="this is a bug; please report it with the truth table",
            )
        )
    essential = {next(iter(ts)) for ts in chart.values() if len(ts) == 1}
    rest = {m: ts for m, ts in chart.items() if not ts & essential}
    if not rest:
        return [tuple(sorted(essential))]
    bound = _greedy_size(rest, set().union(*rest.values()))
    products: set[frozenset[str]] = {frozenset()}
    for m in sorted(rest, key=lambda m: len(rest[m])):
        new: set[frozenset[str]] = set()
        for p in products:
            if p & rest[m]:
                new.add(p)
            else:
                new.update(p | {t} for t in rest[m] if len(p) < bound)
        products = _absorb(new)
        if len(products) > MAX_PRODUCTS:
            raise SpecificationError(
                format_error(
                    what="minimisation",
                    expected=f"at most {MAX_PRODUCTS} partial covers",
                    found="more (too many prime implicants for an exact search)",
                    fix="use fewer conditions or a stricter incl_cut / n_cut",
                )
            )
    smallest = min(len(p) for p in products)
    return sorted(tuple(sorted(essential | p)) for p in products if len(p) == smallest)

"""Boolean minimisation of a truth table into complex, parsimonious and intermediate solutions.

* **complex** (conservative): prime implicants of the positive rows alone;
* **parsimonious**: logical remainders are don't-cares (any remainder may be assumed
  positive when that simplifies);
* **intermediate** (Ragin & Sonnett 2005; Ragin 2008, ch. 9; as R's QCA package,
  ``minimize(..., dir.exp = )``): for every complex model ``C_i`` and every
  parsimonious model ``P_j`` (the pair ``CiPj``):

  1. the simplifying assumptions are the remainders covered by ``P_j``;
  2. each complex implicant ``c`` is reduced toward every implicant ``p`` of ``P_j``
     that subsumes it: a literal of ``c`` absent from ``p`` is dropped only when it
     contradicts the directional expectation (``~A`` with ``A`` expected to contribute,
     or ``A`` with ``~A`` expected); literals in line with the expectation, or without
     one (``"-"``), are kept;
  3. the easy counterfactuals are the simplifying assumptions covered by a reduced term;
  4. the positive rows are minimised again with only those counterfactuals as
     don't-cares (prime implicants, then all minimum covers).

  The reduced terms only *select* the counterfactuals; the models are prime implicants
  of the positive rows plus those counterfactuals, so no term of a model can be merged
  further with the remainders the model uses. Each pair's minimum covers are reported
  (see :attr:`~o4o_causal.qca.solution.Model.pairs`); pairs may give different models
  and even different numbers of terms, as in R.

Complex and parsimonious solutions report all models with the fewest terms (model
ambiguity), found by an exact cover search (:mod:`o4o_causal.qca._boolean`), ordered by
number of literals.

With no negative rows there is nothing to separate the outcome from: when the
minimisation would give the tautology ``1`` (every configuration assumed positive), an
error is raised (as R's QCA does).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Literal

from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.qca._boolean import covered_codes, minimum_covers, prime_implicants, subsumes
from o4o_causal.qca._sets import term_label, term_sort_key
from o4o_causal.qca.solution import Solution, build_models
from o4o_causal.qca.truthtable import TruthTable

Remainders = Literal["exclude", "include", "directional"]


class NoPositiveRowsError(SpecificationError):
    """The truth table has no positive row (``out == "1"``): there is nothing to minimise."""


_KIND = {"exclude": "complex", "include": "parsimonious", "directional": "intermediate"}


def _directions(directional: object, conditions: tuple[str, ...]) -> tuple[str, dict[str, int | str]]:
    if not isinstance(directional, Mapping):
        raise SpecificationError(
            format_error(
                what="directional",
                expected="a mapping condition -> 1 (presence expected to contribute), 0 (absence) or '-'",
                found=repr(directional),
                fix="pass e.g. directional={'EARLY': 1, 'COLLAB': 1}",
            )
        )
    unknown = [k for k in directional if k not in conditions]
    if unknown:
        raise SpecificationError(
            format_error(
                what="directional",
                expected=f"keys among the conditions {list(conditions)}",
                found=f"{unknown}",
                fix="name truth-table conditions only",
            )
        )
    codes: list[str] = []
    shown: dict[str, int | str] = {}
    for c in conditions:
        v = directional.get(c, "-")
        code = _direction_code(v)
        if code is None:
            raise SpecificationError(
                format_error(
                    what=f"directional[{c!r}]",
                    expected="1, 0 or '-' (numbers 1.0 / 0.0 accepted)",
                    found=repr(v),
                    fix="1: presence contributes to the outcome; 0: absence; '-': no expectation",
                )
            )
        codes.append(code)
        shown[c] = "-" if code == "-" else int(code)
    return "".join(codes), shown


def _direction_code(value: object) -> str | None:
    """Return ``"1"``, ``"0"`` or ``"-"`` for an expectation value, ``None`` if invalid."""
    if isinstance(value, str):
        return value if value in ("1", "0", "-") else None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    if value == 1:
        return "1"
    if value == 0:
        return "0"
    return None


def _reduce(complex_term: str, parsimonious_term: str, directions: str) -> str:
    out = []
    for c, p, d in zip(complex_term, parsimonious_term, directions, strict=True):
        drop = c != "-" and p == "-" and d != "-" and c != d
        out.append("-" if drop else c)
    return "".join(out)


def _order(implicants: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(sorted(implicants, key=term_sort_key))


def _literals(model: tuple[str, ...]) -> int:
    return sum(len(i) - i.count("-") for i in model)


def _models(covers_: set[tuple[str, ...]], conditions: tuple[str, ...]) -> list[tuple[str, ...]]:
    if not covers_:
        return []
    fewest = min(len(c) for c in covers_)
    chosen = [_order(c) for c in covers_ if len(c) == fewest]

    def key(model: tuple[str, ...]) -> tuple[int, str]:
        return _literals(model), " + ".join(term_label(i, conditions) for i in model)

    return sorted(set(chosen), key=key)


def _intermediate(
    positive: tuple[str, ...],
    remainders: tuple[str, ...],
    complex_models: list[tuple[str, ...]],
    pars_models: list[tuple[str, ...]],
    dirs: str,
    conditions: tuple[str, ...],
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], set[str]]:
    """Return the intermediate models, the pair labels of each, and the pooled implicants."""
    by_counterfactuals: dict[frozenset[str], tuple[set[str], list[tuple[str, ...]]]] = {}
    pairs_of: dict[tuple[str, ...], list[str]] = {}
    first_pair: dict[tuple[str, ...], int] = {}
    pool: set[str] = set()
    n_pair = 0
    cover_memo: dict[str, frozenset[str]] = {}

    def covered(term: str) -> frozenset[str]:
        if term not in cover_memo:
            cover_memo[term] = covered_codes(term, remainders)
        return cover_memo[term]

    for ci, cm in enumerate(complex_models, start=1):
        for pj, pm in enumerate(pars_models, start=1):
            assumptions = frozenset().union(*(covered(p) for p in pm))
            reduced = {_reduce(c, p, dirs) for c in cm for p in pm if subsumes(p, c)}
            easy = assumptions & frozenset().union(*(covered(t) for t in reduced))
            if easy not in by_counterfactuals:
                primes = prime_implicants(positive, easy)
                by_counterfactuals[easy] = (primes, _models(set(minimum_covers(positive, primes)), conditions))
            primes, models = by_counterfactuals[easy]
            pool |= primes
            for m in models:
                pairs_of.setdefault(m, []).append(f"C{ci}P{pj}")
                first_pair.setdefault(m, n_pair)
            n_pair += 1

    def key(model: tuple[str, ...]) -> tuple[int, int, str]:
        return first_pair[model], _literals(model), " + ".join(term_label(i, conditions) for i in model)

    ordered = sorted(pairs_of, key=key)
    return ordered, [tuple(pairs_of[m]) for m in ordered], pool


def minimize(
    tt: TruthTable,
    *,
    remainders: Remainders = "exclude",
    directional: Mapping[str, int | str] | None = None,
) -> Solution:
    """Minimise the positive rows of a truth table.

    Parameters
    ----------
    tt
        The truth table (:func:`~o4o_causal.qca.truthtable`).
    remainders
        ``"exclude"``: complex (conservative) solution; ``"include"``: parsimonious
        solution; ``"directional"``: intermediate solution (needs ``directional``).
    directional
        Directional expectations, condition -> ``1`` (presence expected to contribute to
        the outcome), ``0`` (absence expected to contribute) or ``"-"`` (none; the default
        for conditions not named). Only with ``remainders="directional"``.

    Returns
    -------
    Solution
        All models with the fewest terms (intermediate: each (complex, parsimonious)
        model pair's minimum covers, see the module docstring), with term and solution
        consistency/coverage.

    Raises
    ------
    NoPositiveRowsError
        (a :class:`SpecificationError`) when no row has ``out == "1"``.
    SpecificationError
        Bad arguments; no negative row (the solution would be the tautology ``1``); a
        truth table too large for the exact cover search.
    """
    if not isinstance(tt, TruthTable):
        raise SpecificationError(
            format_error(what="tt", expected="a TruthTable", found=type(tt).__name__, fix="call truth_table() first")
        )
    if remainders not in _KIND:
        raise SpecificationError(
            format_error(
                what="remainders",
                expected="'exclude' (complex), 'include' (parsimonious) or 'directional' (intermediate)",
                found=repr(remainders),
                fix="pick one",
            )
        )
    if remainders == "directional" and directional is None:
        raise SpecificationError(
            format_error(
                what="directional",
                expected="directional expectations for the intermediate solution",
                found="None",
                fix="pass e.g. directional={'EARLY': 1, 'COLLAB': 1, 'HEALTH': 1}",
            )
        )
    if remainders != "directional" and directional is not None:
        raise SpecificationError(
            format_error(
                what="directional",
                expected="None unless remainders='directional'",
                found=f"expectations with remainders={remainders!r}",
                fix="pass remainders='directional' for the intermediate solution",
            )
        )
    positive = tt.positive
    if not positive:
        raise NoPositiveRowsError(
            format_error(
                what=f"truth table of {tt.outcome!r}",
                expected="at least one row with out == '1'",
                found=f"none (incl_cut={tt.incl_cut:g}, n_cut={tt.n_cut}"
                f"{'' if tt.pri_cut is None else f', pri_cut={tt.pri_cut:g}'})",
                fix="no configuration is consistently sufficient: revisit calibration or the cut-offs",
            )
        )
    conditions = tt.conditions
    shown: dict[str, int | str] | None = None
    pairs: list[tuple[str, ...]] | None = None
    if remainders == "exclude":
        pool = prime_implicants(positive)
        models = _models(set(minimum_covers(positive, pool)), conditions)
    elif remainders == "include":
        pool = prime_implicants(positive, tt.remainders)
        models = _models(set(minimum_covers(positive, pool)), conditions)
    else:
        dirs, shown = _directions(directional, conditions)
        complex_pool = prime_implicants(positive)
        pars_pool = prime_implicants(positive, tt.remainders)
        models, pairs, pool = _intermediate(
            positive,
            tt.remainders,
            _models(set(minimum_covers(positive, complex_pool)), conditions),
            _models(set(minimum_covers(positive, pars_pool)), conditions),
            dirs,
            conditions,
        )
    tautology = "-" * len(conditions)
    if any(tautology in m for m in models):
        raise SpecificationError(
            format_error(
                what=f"truth table of {tt.outcome!r}",
                expected="at least one negative row (out == '0') to separate the outcome from",
                found=f"none{'' if remainders == 'exclude' else ' besides remainders'}: the solution is the "
                "tautology 1 (every configuration positive)",
                fix="nothing to minimise: raise incl_cut / pri_cut, or revisit the outcome's calibration",
            )
        )
    return Solution(
        kind=_KIND[remainders],  # type: ignore[arg-type]
        outcome=tt.outcome,
        conditions=conditions,
        models=build_models(models, tt, pairs),
        prime_implicants=_order(sorted(pool)),
        truth_table=tt,
        directional=shown,
    )


__all__ = ["NoPositiveRowsError", "minimize"]

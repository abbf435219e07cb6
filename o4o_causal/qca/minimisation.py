"""Boolean minimisation of a truth table into complex, parsimonious and intermediate solutions.

* **complex** (conservative): prime implicants of the positive rows alone;
* **parsimonious**: logical remainders are don't-cares (any remainder may be assumed
  positive when that simplifies);
* **intermediate** (Ragin & Sonnett 2005; Ragin 2008, ch. 9; as in R's QCA package):
  for every complex model and every parsimonious model, each complex implicant ``c`` is
  reduced toward every parsimonious implicant ``p`` that subsumes it: a literal of ``c``
  absent from ``p`` is dropped only when it contradicts the directional expectation
  (``~A`` with ``A`` expected to contribute, or ``A`` with ``~A`` expected) -- dropping it
  assumes remainders in which the condition takes its expected value, i.e. only easy
  counterfactuals. Literals in line with the expectation, or without one (``"-"``), are kept.
  The reduced implicants (those subsumed by another reduced implicant removed) then go
  through the same exact cover as the other solutions.

Every solution reports all models with the fewest terms (model ambiguity), found by
Petrick's method, ordered by number of literals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.qca._boolean import minimum_covers, prime_implicants, subsumes
from o4o_causal.qca._sets import term_label, term_sort_key
from o4o_causal.qca.solution import Solution, build_model
from o4o_causal.qca.truthtable import TruthTable

Remainders = Literal["exclude", "include", "directional"]
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
        if isinstance(v, bool) or v not in (1, 0, "1", "0", "-"):
            raise SpecificationError(
                format_error(
                    what=f"directional[{c!r}]",
                    expected="1, 0 or '-'",
                    found=repr(v),
                    fix="1: presence contributes to the outcome; 0: absence; '-': no expectation",
                )
            )
        codes.append(str(v))
        shown[c] = "-" if str(v) == "-" else int(v)
    return "".join(codes), shown


def _reduce(complex_term: str, parsimonious_term: str, directions: str) -> str:
    out = []
    for c, p, d in zip(complex_term, parsimonious_term, directions, strict=True):
        drop = c != "-" and p == "-" and d != "-" and c != d
        out.append("-" if drop else c)
    return "".join(out)


def _order(implicants: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return tuple(sorted(implicants, key=term_sort_key))


def _models(covers: set[tuple[str, ...]], conditions: tuple[str, ...]) -> list[tuple[str, ...]]:
    if not covers:
        return []
    fewest = min(len(c) for c in covers)
    chosen = [_order(c) for c in covers if len(c) == fewest]

    def key(model: tuple[str, ...]) -> tuple[int, str]:
        literals = sum(len(i) - i.count("-") for i in model)
        return literals, " + ".join(term_label(i, conditions) for i in model)

    return sorted(set(chosen), key=key)


def _intermediate(
    positive: tuple[str, ...], complex_models: list[tuple[str, ...]], pars_models: list[tuple[str, ...]], dirs: str
) -> tuple[set[tuple[str, ...]], set[str]]:
    covers: set[tuple[str, ...]] = set()
    pool: set[str] = set()
    for cm in complex_models:
        for pm in pars_models:
            candidates: set[str] = set()
            for c in cm:
                supersets = [p for p in pm if subsumes(p, c)]
                candidates.update(_reduce(c, p, dirs) for p in supersets)
                if not supersets:
                    candidates.add(c)
            candidates = {c for c in candidates if not any(o != c and subsumes(o, c) for o in candidates)}
            pool |= candidates
            covers.update(minimum_covers(positive, candidates))
    return covers, pool


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
        All models with the fewest terms, with term and solution consistency/coverage.
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
        raise SpecificationError(
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
    if remainders == "exclude":
        pool = prime_implicants(positive)
        covers = set(minimum_covers(positive, pool))
    elif remainders == "include":
        pool = prime_implicants(positive, tt.remainders)
        covers = set(minimum_covers(positive, pool))
    else:
        dirs, shown = _directions(directional, conditions)
        complex_pool = prime_implicants(positive)
        pars_pool = prime_implicants(positive, tt.remainders)
        covers, pool = _intermediate(
            positive,
            _models(set(minimum_covers(positive, complex_pool)), conditions),
            _models(set(minimum_covers(positive, pars_pool)), conditions),
            dirs,
        )
    models = tuple(build_model(m, tt) for m in _models(covers, conditions))
    return Solution(
        kind=_KIND[remainders],  # type: ignore[arg-type]
        outcome=tt.outcome,
        conditions=conditions,
        models=models,
        prime_implicants=_order(sorted(pool)),
        truth_table=tt,
        directional=shown,
    )


__all__ = ["minimize"]

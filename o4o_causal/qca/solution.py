"""Results of Boolean minimisation: :class:`Model` (one minimal formula) and :class:`Solution`.

Membership in a term is the minimum over its literals; in a model, the maximum over
its terms. Per term: consistency, PRI, raw coverage ``sum(min(t, y)) / sum(y)`` and unique
coverage (the model's coverage minus the coverage of the model without the term).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.qca._boolean import covered_codes
from o4o_causal.qca._sets import (
    implicant_membership,
    pri,
    sufficiency_consistency,
    sufficiency_coverage,
    term_label,
)
from o4o_causal.qca.truthtable import TruthTable

Kind = Literal["complex", "parsimonious", "intermediate"]


def model_membership(implicants: tuple[str, ...], x: np.ndarray) -> np.ndarray:
    """Return membership in the disjunction of ``implicants`` (max over terms; 0 if none)."""
    out = np.zeros(x.shape[0])
    for imp in implicants:
        out = np.maximum(out, implicant_membership(imp, x))
    return out


@dataclass(frozen=True, repr=False)
class Model:
    """One minimal sufficient formula (a disjunction of implicants).

    Attributes
    ----------
    implicants
        Term codes (``"1-1"``: first and third condition present), in display order.
    expression
        Standard notation, e.g. ``EARLY*COLLAB + EARLY*HEALTH``.
    terms
        Per term: ``term, implicant, consistency, pri, raw_coverage, unique_coverage``.
    consistency, pri, coverage
        Of the whole model (solution consistency/coverage).
    remainders_used
        Remainder rows the model covers (its simplifying assumptions; for an intermediate
        model, the easy counterfactuals it rests on), in row order.
    pairs
        Intermediate solutions only: labels ``"C<i>P<j>"`` of the (complex model ``i``,
        parsimonious model ``j``) pairs whose minimisation gives this model (as R's QCA
        reports ``C1P1``, ``C1P2``, ...; models numbered as in those solutions). Empty
        for complex and parsimonious solutions.
    """

    implicants: tuple[str, ...]
    expression: str
    terms: pd.DataFrame
    consistency: float
    pri: float
    coverage: float
    remainders_used: tuple[str, ...]
    pairs: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"Model({self.expression}: consistency {self.consistency:.3f}, PRI {self.pri:.3f}, "
            f"coverage {self.coverage:.3f})"
        )


_TERM_COLUMNS = ("term", "implicant", "consistency", "pri", "raw_coverage", "unique_coverage")


def build_model(
    implicants: tuple[str, ...],
    tt: TruthTable,
    *,
    pairs: tuple[str, ...] = (),
    cache: _Cache | None = None,
) -> Model:
    """Compute the parameters of fit of ``implicants`` on the truth table's cases.

    ``cache`` may be shared across the models of one truth table.
    """
    x, y = tt.x, tt.y
    memo = _Cache(tt) if cache is None else cache
    memberships = [memo.membership(imp) for imp in implicants]
    zero = np.zeros(x.shape[0])
    whole = np.maximum.reduce([zero, *memberships])
    coverage = sufficiency_coverage(whole, y)
    columns: dict[str, list[object]] = {c: [] for c in _TERM_COLUMNS}
    sum_y = float(y.sum())
    for i, imp in enumerate(implicants):
        others = np.maximum.reduce([zero, *memberships[:i], *memberships[i + 1 :]])
        for key, value in memo.term_fit(imp).items():
            columns[key].append(value)
        others_cov = float(np.minimum(others, y).sum()) / sum_y if sum_y > 0 else float("nan")
        columns["unique_coverage"].append(coverage - others_cov)
    covered = set().union(*(memo.remainders_covered(imp) for imp in implicants))
    used = tuple(code for code in memo.remainders if code in covered)
    return Model(
        implicants=implicants,
        expression=" + ".join(term_label(i, tt.conditions) for i in implicants) if implicants else "0",
        terms=pd.DataFrame(columns),
        consistency=sufficiency_consistency(whole, y),
        pri=pri(whole, y),
        coverage=coverage,
        remainders_used=used,
        pairs=pairs,
    )


def build_models(
    models: list[tuple[str, ...]], tt: TruthTable, pairs: list[tuple[str, ...]] | None = None
) -> tuple[Model, ...]:
    """Build several models of one truth table, sharing term memberships."""
    cache = _Cache(tt)
    labels = pairs if pairs is not None else [()] * len(models)
    return tuple(build_model(m, tt, pairs=p, cache=cache) for m, p in zip(models, labels, strict=True))


class _Cache:
    """Term memberships and covered remainders of one truth table, computed once per term."""

    def __init__(self, tt: TruthTable) -> None:
        self.x = tt.x
        self.y = tt.y
        self.conditions = tt.conditions
        self.remainders = tt.remainders
        self._members: dict[str, np.ndarray] = {}
        self._covered: dict[str, frozenset[str]] = {}
        self._fit: dict[str, dict[str, object]] = {}

    def term_fit(self, implicant: str) -> dict[str, object]:
        if implicant not in self._fit:
            m = self.membership(implicant)
            self._fit[implicant] = {
                "term": term_label(implicant, self.conditions),
                "implicant": implicant,
                "consistency": sufficiency_consistency(m, self.y),
                "pri": pri(m, self.y),
                "raw_coverage": sufficiency_coverage(m, self.y),
            }
        return self._fit[implicant]

    def membership(self, implicant: str) -> np.ndarray:
        if implicant not in self._members:
            self._members[implicant] = implicant_membership(implicant, self.x)
        return self._members[implicant]

    def remainders_covered(self, implicant: str) -> frozenset[str]:
        if implicant not in self._covered:
            self._covered[implicant] = covered_codes(implicant, self.remainders)
        return self._covered[implicant]


@dataclass(frozen=True, repr=False)
class Solution:
    """A complex, parsimonious or intermediate solution with all its minimal models.

    Attributes
    ----------
    kind
        ``"complex"`` (conservative; no remainders), ``"parsimonious"`` (all remainders as
        don't-cares) or ``"intermediate"`` (easy counterfactuals only).
    outcome, conditions
        As in the truth table.
    models
        Complex and parsimonious: every model with the fewest terms (more than one =
        model ambiguity), ordered by number of literals, then expression. Intermediate:
        the distinct models over all (complex model, parsimonious model) pairs, each
        pair's models being its minimum covers (pairs may differ in size, as in R's QCA);
        ordered by their first pair (``C1P1`` first; see :attr:`Model.pairs`), then number
        of literals, then expression.
    prime_implicants
        The implicants the models were chosen from (prime implicants; for the
        intermediate solution, the prime implicants of the positive rows with each
        pair's easy counterfactuals, pooled over pairs).
    directional
        Directional expectations used (intermediate solution), condition -> ``1/0/"-"``.
    truth_table
        The truth table minimised.
    """

    kind: Kind
    outcome: str
    conditions: tuple[str, ...]
    models: tuple[Model, ...]
    prime_implicants: tuple[str, ...]
    truth_table: TruthTable = field(repr=False)
    directional: Mapping[str, int | str] | None = None

    @property
    def expression(self) -> str:
        """The first model's formula (see :attr:`expressions` under model ambiguity)."""
        return self.models[0].expression

    @property
    def expressions(self) -> tuple[str, ...]:
        """Every model's formula."""
        return tuple(m.expression for m in self.models)

    @property
    def ambiguous(self) -> bool:
        """Whether several models fit equally well (model ambiguity)."""
        return len(self.models) > 1

    @property
    def consistency(self) -> float:
        """Solution consistency of the first model."""
        return self.models[0].consistency

    @property
    def coverage(self) -> float:
        """Solution coverage of the first model."""
        return self.models[0].coverage

    def _model(self, model: int) -> Model:
        if not 0 <= model < len(self.models):
            raise SpecificationError(
                format_error(
                    what="model",
                    expected=f"an index in 0..{len(self.models) - 1}",
                    found=repr(model),
                    fix="see Solution.expressions",
                )
            )
        return self.models[model]

    def membership(self, *, model: int = 0, term: str | None = None) -> pd.Series:
        """Return each case's membership in a model (or one of its terms), indexed by case label.

        Parameters
        ----------
        model
            Model index (0 = first).
        term
            A term of that model in standard notation (e.g. ``"EARLY*COLLAB"``); default:
            the whole model.
        """
        chosen = self._model(model)
        if term is None:
            values = model_membership(chosen.implicants, self.truth_table.x)
            name = chosen.expression
        else:
            labels = list(chosen.terms["term"])
            if term not in labels:
                raise SpecificationError(
                    format_error(what="term", expected=f"one of {labels}", found=repr(term), fix="pick a term")
                )
            values = implicant_membership(chosen.implicants[labels.index(term)], self.truth_table.x)
            name = term
        return pd.Series(values, index=pd.Index(self.truth_table.case_labels, name="case"), name=name)

    def to_frame(self) -> pd.DataFrame:
        """Return one row per (model, term) with term and solution parameters of fit."""
        frames = []
        for i, m in enumerate(self.models):
            f = m.terms.copy()
            f.insert(0, "model", i + 1)
            f["solution_consistency"] = m.consistency
            f["solution_pri"] = m.pri
            f["solution_coverage"] = m.coverage
            frames.append(f)
        out = pd.concat(frames, ignore_index=True)
        out.insert(0, "kind", self.kind)
        return out

    def summary(self) -> pd.DataFrame:
        """Return one row per model: expression, terms, consistency, PRI, coverage, remainders used.

        Intermediate solutions add ``pairs``: the (complex, parsimonious) model pairs giving
        each model (``"C1P1, C1P2"``).
        """
        out = pd.DataFrame(
            {
                "model": np.arange(1, len(self.models) + 1),
                "expression": [m.expression for m in self.models],
                "n_terms": [len(m.implicants) for m in self.models],
                "consistency": [m.consistency for m in self.models],
                "pri": [m.pri for m in self.models],
                "coverage": [m.coverage for m in self.models],
                "remainders_used": [len(m.remainders_used) for m in self.models],
            }
        )
        if self.kind == "intermediate":
            out["pairs"] = [", ".join(m.pairs) for m in self.models]
        return out

    def __repr__(self) -> str:
        lines = [f"Solution({self.kind}, outcome {self.outcome}, {len(self.models)} model(s))"]
        if self.directional:
            lines.append("directional expectations: " + ", ".join(f"{k}={v}" for k, v in self.directional.items()))
        for i, m in enumerate(self.models):
            pairs = f"  ({', '.join(m.pairs)})" if m.pairs else ""
            lines.append(f"M{i + 1}: {m.expression} -> {self.outcome}{pairs}")
            table = m.terms.drop(columns="implicant")
            lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
            lines.append(
                f"   solution consistency {m.consistency:.3f}, PRI {m.pri:.3f}, coverage {m.coverage:.3f}; "
                f"{len(m.remainders_used)} remainder(s) used"
            )
        return "\n".join(lines)


__all__ = ["Model", "Solution"]

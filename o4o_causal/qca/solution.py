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
        Remainder rows the model covers (its simplifying assumptions).
    """

    implicants: tuple[str, ...]
    expression: str
    terms: pd.DataFrame
    consistency: float
    pri: float
    coverage: float
    remainders_used: tuple[str, ...]

    def __repr__(self) -> str:
        return (
            f"Model({self.expression}: consistency {self.consistency:.3f}, PRI {self.pri:.3f}, "
            f"coverage {self.coverage:.3f})"
        )


def build_model(implicants: tuple[str, ...], tt: TruthTable) -> Model:
    """Compute the parameters of fit of ``implicants`` on the truth table's cases."""
    x, y = tt.x, tt.y
    memberships = [implicant_membership(imp, x) for imp in implicants]
    whole = model_membership(implicants, x)
    coverage = sufficiency_coverage(whole, y)
    rows = []
    for i, (imp, m) in enumerate(zip(implicants, memberships, strict=True)):
        others = model_membership(implicants[:i] + implicants[i + 1 :], x)
        rows.append(
            {
                "term": term_label(imp, tt.conditions),
                "implicant": imp,
                "consistency": sufficiency_consistency(m, y),
                "pri": pri(m, y),
                "raw_coverage": sufficiency_coverage(m, y),
                "unique_coverage": coverage - sufficiency_coverage(others, y),
            }
        )
    remainders = set(tt.remainders)
    used = tuple(code for code in tt.codes if code in remainders and any(_covers(imp, code) for imp in implicants))
    return Model(
        implicants=implicants,
        expression=" + ".join(term_label(i, tt.conditions) for i in implicants) if implicants else "0",
        terms=pd.DataFrame(
            rows, columns=["term", "implicant", "consistency", "pri", "raw_coverage", "unique_coverage"]
        ),
        consistency=sufficiency_consistency(whole, y),
        pri=pri(whole, y),
        coverage=coverage,
        remainders_used=used,
    )


def _covers(implicant: str, code: str) -> bool:
    return all(a in ("-", b) for a, b in zip(implicant, code, strict=True))


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
        Every model with the fewest terms (more than one = model ambiguity), ordered by
        number of literals, then expression.
    prime_implicants
        The implicants the models were chosen from (prime implicants; for the
        intermediate solution, the reduced complex implicants).
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
        """Return one row per model: expression, terms, consistency, PRI, coverage, remainders used."""
        return pd.DataFrame(
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

    def __repr__(self) -> str:
        lines = [f"Solution({self.kind}, outcome {self.outcome}, {len(self.models)} model(s))"]
        if self.directional:
            lines.append("directional expectations: " + ", ".join(f"{k}={v}" for k, v in self.directional.items()))
        for i, m in enumerate(self.models):
            lines.append(f"M{i + 1}: {m.expression} -> {self.outcome}")
            table = m.terms.drop(columns="implicant")
            lines.append(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
            lines.append(
                f"   solution consistency {m.consistency:.3f}, PRI {m.pri:.3f}, coverage {m.coverage:.3f}; "
                f"{len(m.remainders_used)} remainder(s) used"
            )
        return "\n".join(lines)


__all__ = ["Model", "Solution"]

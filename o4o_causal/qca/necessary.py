"""Analysis of necessary conditions (Schneider & Wagemann 2012, ch. 9; R ``QCA::pof``).

For each condition ``x`` and its negation ``~x`` (and, with ``max_disjunction >= 2``,
disjunctions of literals of different conditions such as ``EARLY + HEALTH``, membership
= max):

* consistency of necessity ``sum(min(x, y)) / sum(y)`` (y is a subset of x);
* coverage of necessity ``sum(min(x, y)) / sum(x)`` (low: x is trivially large);
* relevance of necessity (RoN) ``sum(1 - x) / sum(1 - min(x, y))`` (low: x is close to a
  constant and its necessity is trivial).

A literal is flagged ``necessary`` when its consistency reaches ``incl_cut`` (0.9 is the
common benchmark) and its RoN reaches ``ron_cut`` (0.5 by default; 0 disables it), both up
to a float tolerance of 1e-10.
Disjunctions are "SUIN" candidates and must be justified by theory (functional
equivalents); they are only listed when asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.qca._sets import check_negate, literal_label, meets, prepare_sets, real_number, relevance_of_necessity


@dataclass(frozen=True, repr=False)
class Necessity:
    """Parameters of fit of conditions (and negations, disjunctions) as necessary for the outcome.

    Attributes
    ----------
    outcome
        Outcome label (``"~Y"`` when negated).
    table
        ``term, size, consistency, coverage, ron, necessary`` in input order
        (conditions, then negations, then disjunctions).
    incl_cut, ron_cut
        Cut-offs behind ``necessary``.
    """

    outcome: str
    table: pd.DataFrame
    incl_cut: float
    ron_cut: float

    @property
    def necessary(self) -> tuple[str, ...]:
        """Terms passing the cut-offs, by consistency (highest first)."""
        t = self.table[self.table["necessary"]].sort_values("consistency", ascending=False, kind="stable")
        return tuple(t["term"])

    def to_frame(self) -> pd.DataFrame:
        """Return the table (a copy)."""
        return self.table.copy()

    def summary(self) -> pd.DataFrame:
        """Return the table (suite convention)."""
        return self.to_frame()

    def __repr__(self) -> str:
        head = (
            f"Necessity(outcome {self.outcome}; incl_cut={self.incl_cut:g}, ron_cut={self.ron_cut:g}; "
            f"necessary: {', '.join(self.necessary) or 'none'})"
        )
        return f"{head}\n{self.table.to_string(index=False, float_format=lambda v: f'{v:.3f}')}"


def necessity(
    data: pd.DataFrame,
    *,
    outcome: str,
    conditions: Sequence[str],
    negate_outcome: bool = False,
    max_disjunction: int = 1,
    incl_cut: float = 0.9,
    ron_cut: float = 0.5,
) -> Necessity:
    """Compute consistency, coverage and relevance of necessity.

    Parameters
    ----------
    data
        Cases with memberships in [0, 1].
    outcome
        Outcome set column.
    conditions
        Condition set columns; each is assessed present and absent.
    negate_outcome
        Analyse ``~outcome``.
    max_disjunction
        Largest disjunction of literals (of distinct conditions) to assess; 1 = single
        literals only.
    incl_cut
        Consistency needed to flag a term as necessary.
    ron_cut
        Relevance of necessity needed to flag a term as necessary (0 disables).

    Returns
    -------
    Necessity
    """
    negate = check_negate(negate_outcome, "negate_outcome")
    _, conds, x, y = prepare_sets(data, outcome=outcome, conditions=conditions)
    if isinstance(max_disjunction, bool) or not isinstance(max_disjunction, int) or max_disjunction < 1:
        raise SpecificationError(
            format_error(
                what="max_disjunction", expected="an integer >= 1", found=repr(max_disjunction), fix="use 1 or 2"
            )
        )
    cuts: list[float] = []
    for name, cut in (("incl_cut", incl_cut), ("ron_cut", ron_cut)):
        cut_value = real_number(cut)
        if cut_value is None or not 0.0 <= cut_value <= 1.0:
            raise SpecificationError(
                format_error(what=name, expected="a number in [0, 1]", found=repr(cut), fix="use e.g. 0.9")
            )
        cuts.append(cut_value)
    incl_cut, ron_cut = cuts
    if negate:
        y = 1.0 - y
    literals: list[tuple[str, np.ndarray, int]] = []
    for value in ("1", "0"):
        for j, c in enumerate(conds):
            literals.append((literal_label(c, value), x[:, j] if value == "1" else 1.0 - x[:, j], j))
    rows = []
    sum_y = float(y.sum())
    for size in range(1, min(max_disjunction, len(conds)) + 1):
        for combo in combinations(literals, size):
            if len({j for _, _, j in combo}) < size:
                continue
            m = np.max(np.vstack([v for _, v, _ in combo]), axis=0)
            both = float(np.minimum(m, y).sum())
            rows.append(
                {
                    "term": " + ".join(label for label, _, _ in combo),
                    "size": size,
                    "consistency": both / sum_y if sum_y > 0 else float("nan"),
                    "coverage": both / float(m.sum()) if m.sum() > 0 else float("nan"),
                    "ron": relevance_of_necessity(m, y),
                }
            )
    table = pd.DataFrame(rows)
    table["necessary"] = meets(table["consistency"].to_numpy(), incl_cut) & meets(table["ron"].to_numpy(), ron_cut)
    return Necessity(
        outcome=f"~{outcome}" if negate else outcome, table=table, incl_cut=float(incl_cut), ron_cut=float(ron_cut)
    )


__all__ = ["Necessity", "necessity"]

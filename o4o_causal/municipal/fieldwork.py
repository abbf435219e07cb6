"""From a shortlist of deviant municipalities to fuzzy sets, and how often fsQCA finds a rule.

The qualitative step of a deviance design: the selected municipalities' organisation is
coded (interviews, documents, surveys of offices) on a 1-5 scale per condition, the
codings are calibrated into fuzzy sets, and the outcome set (e.g. *low NEET*) is
calibrated from the register model's deviance. :func:`fieldwork_sets` does the
calibration; :func:`recovery_study` repeats coding and minimisation for fieldwork sets of
several sizes and reports how often the parsimonious solution contains given paths --
on a synthetic world, whether fsQCA on the shortlist would find the planted rule.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from o4o_causal import _validate
from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError, format_error

#: Direct-method anchors (full non-membership, crossover, full membership) for 1-5 codings:
#: 4 is full membership (0.95), a 3 ("partly") leans out, a 2 is practically out.
CODING_ANCHORS: tuple[float, float, float] = (2.5, 3.25, 4.0)
#: Anchors of *low outcome* on the deviance (log-odds): -0.3 or lower is in, 0 the crossover.
DEVIANCE_ANCHORS: tuple[float, float, float] = (0.3, 0.0, -0.3)


def fieldwork_sets(
    codings: pd.DataFrame,
    deviance: pd.Series,
    *,
    labels: Mapping[str, str] | None = None,
    anchors: tuple[float, float, float] = CODING_ANCHORS,
    outcome_anchors: tuple[float, float, float] = DEVIANCE_ANCHORS,
    outcome: str = "LOW_OUTCOME",
) -> pd.DataFrame:
    """Calibrate 1-5 codings and the deviance of the visited municipalities into fuzzy sets.

    Parameters
    ----------
    codings
        One row per visited municipality (index: municipality id), one numeric column
        per coded condition; not modified.
    deviance
        Deviance per municipality (e.g. the posterior mean of ``u_m``), indexed by id;
        every coded municipality must be present.
    labels
        Optional short names of the condition columns (e.g. ``{"early_intervention": "EARLY"}``).
    anchors, outcome_anchors
        Direct-method thresholds (exclusion, crossover, inclusion) of the conditions and of
        the outcome; outcome anchors run downwards so that *low* deviance is membership.
    outcome
        Name of the outcome set column.

    Returns
    -------
    DataFrame
        Index as ``codings``; one membership column per condition and ``outcome``.
    """
    from o4o_causal import qca

    frame = _validate.require_frame(codings, "codings")
    missing = [m for m in frame.index if m not in deviance.index]
    if missing:
        raise DataError(
            format_error(
                what="deviance",
                expected="a value for every coded municipality",
                found=f"{len(missing)} coded municipalities without one, e.g. {missing[:3]}",
                fix="pass the deviance of the same model (DevianceResult.table()) indexed by municipality",
            )
        )
    names = dict(labels or {})
    sets = pd.DataFrame(index=frame.index)
    for column in frame.columns:
        sets[names.get(str(column), str(column))] = qca.calibrate(frame[column].astype(float), thresholds=anchors)
    sets[outcome] = qca.calibrate(deviance.loc[frame.index].astype(float), thresholds=outcome_anchors).to_numpy()
    return sets


def _terms(expression: str) -> set[frozenset[str]]:
    return {frozenset(part.strip() for part in t.split("*")) for t in expression.split(" + ")}


def contains_paths(expression: str, paths: Sequence[str]) -> bool:
    """Return whether every one of ``paths`` is a term of the solution ``expression`` (complete recovery).

    Terms are compared as sets of literals (``"EARLY*COLLAB"`` equals ``"COLLAB*EARLY"``).
    """
    terms = _terms(expression)
    return all(t in terms for t in _terms(" + ".join(paths)))


def is_submodel(expression: str, paths: Sequence[str]) -> bool:
    """Return whether ``expression`` is a submodel of the model ``paths`` (correct recovery).

    Baumgartner & Thiem (2017): a solution is *correct* when each of its terms is made of
    literals of one true path only -- it may miss conditions or paths (incomplete) but
    claims no causally irrelevant condition. ``"EARLY"`` is a correct but incomplete
    submodel of ``EARLY*COLLAB + EARLY*HEALTH``; ``"EARLY*COLLAB + HEALTH*~JCM"`` is not.
    """
    truth = _terms(" + ".join(paths))
    return all(any(term <= path for path in truth) for term in _terms(expression))


def recovery_study(
    shortlists: Mapping[str, Sequence[str]],
    code: Callable[[Sequence[str], int], pd.DataFrame],
    deviance: pd.Series,
    *,
    paths: Sequence[str],
    labels: Mapping[str, str] | None = None,
    replications: int = 20,
    seed: int = 0,
    incl_cut: float = 0.8,
    pri_cut: float = 0.5,
    anchors: tuple[float, float, float] = CODING_ANCHORS,
    outcome_anchors: tuple[float, float, float] = DEVIANCE_ANCHORS,
) -> pd.DataFrame:
    """Repeat coding and fsQCA for several fieldwork sets and count how often ``paths`` are found.

    Parameters
    ----------
    shortlists
        Name -> visited municipality ids (e.g. ``{"18 (9 + 9)": [...], ...}``).
    code
        ``code(visited, seed) -> codings`` (e.g. a closure over
        :func:`o4o_causal.synth.interviews.interview_codings`); each replication is a new
        coding of the same visited set.
    deviance
        Outcome deviance per municipality (see :func:`fieldwork_sets`).
    paths
        Terms the parsimonious solution must contain (in ``labels``' names).
    replications, seed
        Codings per shortlist; replication ``r`` uses seed ``seed + r``.
    incl_cut, pri_cut, anchors, outcome_anchors
        As in :func:`o4o_causal.qca.truth_table` and :func:`fieldwork_sets`.

    Returns
    -------
    DataFrame
        One row per shortlist: ``visited``, ``codings``, ``found`` (share of codings whose
        parsimonious solution -- any of its equally minimal models -- contains every path:
        complete recovery), ``correct`` (share where a model is a submodel of the paths:
        no causally irrelevant condition, see :func:`is_submodel`), ``no_solution`` (share
        without a sufficient configuration), and ``typical`` (the most frequent first model).
    """
    from o4o_causal import qca

    if not paths:
        raise SpecificationError(
            format_error(what="paths", expected="at least one term", found="none", fix='e.g. paths=["A*B", "A*C"]')
        )
    if int(replications) < 1:
        raise SpecificationError(
            format_error(what="replications", expected="an integer >= 1", found=repr(replications), fix="use e.g. 20")
        )
    rows = []
    for name, visited in shortlists.items():
        found, correct, empty, models = [], [], [], []
        for r in range(int(replications)):
            sets = fieldwork_sets(
                code(list(visited), seed + r),
                deviance,
                labels=labels,
                anchors=anchors,
                outcome_anchors=outcome_anchors,
            )
            conditions = [c for c in sets.columns if c != "LOW_OUTCOME"]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", O4OWarning)  # limited diversity is the point of the study
                table = qca.truth_table(
                    sets, outcome="LOW_OUTCOME", conditions=conditions, incl_cut=incl_cut, pri_cut=pri_cut
                )
                try:
                    solution = qca.minimize(table, remainders="include")
                except SpecificationError:  # no configuration consistently sufficient in this coding
                    found.append(False)
                    correct.append(False)
                    empty.append(True)
                    continue
            found.append(any(contains_paths(e, paths) for e in solution.expressions))
            correct.append(any(is_submodel(e, paths) for e in solution.expressions))
            empty.append(False)
            models.append(solution.expressions[0])
        typical = pd.Series(models).value_counts().index[0] if models else ""
        rows.append(
            {
                "shortlist": name,
                "visited": len(visited),
                "codings": len(found),
                "found": float(np.mean(found)),
                "correct": float(np.mean(correct)),
                "no_solution": float(np.mean(empty)),
                "typical": typical,
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "CODING_ANCHORS",
    "DEVIANCE_ANCHORS",
    "contains_paths",
    "fieldwork_sets",
    "is_submodel",
    "recovery_study",
]

"""Fieldwork sets and the fsQCA recovery study (o4o_causal.municipal.fieldwork)."""

import numpy as np
import pandas as pd
import pytest

from o4o_causal.exceptions import DataError, SpecificationError
from o4o_causal.municipal import contains_paths, fieldwork_sets, is_submodel, recovery_study
from o4o_causal.synth.interviews import CODED_CONDITIONS, interview_codings

LABELS = dict(zip(CODED_CONDITIONS, ["EARLY", "COLLAB", "HEALTH", "IT", "JCM"], strict=True))
PATHS = ["EARLY*COLLAB", "EARLY*HEALTH"]

# (EARLY, COLLAB, HEALTH, IT, JCM), deviance: positives follow the rule EARLY*(COLLAB + HEALTH)
CASES = [
    ((1, 1, 0, 0, 0), -0.6),
    ((1, 1, 0, 1, 1), -0.6),
    ((1, 1, 0, 1, 0), -0.6),
    ((1, 0, 1, 0, 0), -0.6),
    ((1, 0, 1, 1, 1), -0.6),
    ((1, 0, 1, 0, 1), -0.6),
    ((1, 1, 1, 1, 0), -0.6),
    ((0, 1, 0, 0, 0), 0.6),
    ((0, 1, 0, 1, 1), 0.6),
    ((0, 0, 1, 0, 0), 0.6),
    ((0, 0, 1, 1, 1), 0.6),
    ((0, 1, 1, 0, 1), 0.6),
    ((1, 0, 0, 0, 0), 0.6),
    ((1, 0, 0, 1, 1), 0.6),
    ((0, 0, 0, 1, 0), 0.6),
]


def _world(extra: list[tuple[tuple[int, ...], float]] | None = None) -> tuple[pd.DataFrame, pd.Series]:
    rows = CASES + (extra or [])
    ids = [f"NO-{i:04d}" for i in range(len(rows))]
    municipalities = pd.DataFrame([conditions for conditions, _ in rows], columns=list(CODED_CONDITIONS))
    municipalities.insert(0, "municipality_id", ids)
    return municipalities, pd.Series([d for _, d in rows], index=ids)


def _study(municipalities: pd.DataFrame, deviance: pd.Series, noise: float = 0.0) -> pd.DataFrame:
    def code(visited: list[str], seed: int) -> pd.DataFrame:
        return interview_codings(municipalities, visited, noise=noise, seed=seed)

    return recovery_study(
        {"all": list(municipalities["municipality_id"])}, code, deviance, paths=PATHS, labels=LABELS, replications=3
    )


def test_contains_paths_and_submodel_by_hand() -> None:
    assert contains_paths("COLLAB*EARLY + EARLY*HEALTH", PATHS)
    assert contains_paths("EARLY*COLLAB + EARLY*HEALTH + IT*~JCM", PATHS)
    assert not contains_paths("EARLY*COLLAB + HEALTH*~JCM", PATHS)
    assert not contains_paths("EARLY", PATHS)
    assert is_submodel("EARLY", PATHS)  # correct but incomplete
    assert is_submodel("EARLY*COLLAB + HEALTH", PATHS)
    assert not is_submodel("EARLY*COLLAB + HEALTH*~JCM", PATHS)  # ~JCM is causally irrelevant
    assert not is_submodel("EARLY*COLLAB + EARLY*HEALTH + IT*~JCM", PATHS)


def test_fieldwork_sets_calibrates_codings_and_low_deviance() -> None:
    municipalities, deviance = _world()
    codings = interview_codings(municipalities, list(deviance.index[:3]), noise=0.0)
    before = codings.copy()
    sets = fieldwork_sets(codings, deviance, labels=LABELS, outcome="LOW_NEET")
    pd.testing.assert_frame_equal(codings, before)
    assert list(sets.columns) == ["EARLY", "COLLAB", "HEALTH", "IT", "JCM", "LOW_NEET"]
    # coding 4 = full membership (0.95), coding 2 below full non-membership (2.5): < 0.05
    assert np.allclose(sets.loc[deviance.index[0], "EARLY"], 0.95, atol=1e-9)
    assert sets.loc[deviance.index[0], "HEALTH"] < 0.05
    # deviance -0.6 is beyond the inclusion anchor -0.3
    assert (sets["LOW_NEET"] > 0.95).all()


def test_fieldwork_sets_names_missing_deviance() -> None:
    municipalities, deviance = _world()
    codings = interview_codings(municipalities, list(deviance.index[:3]), noise=0.0)
    with pytest.raises(DataError, match="deviance"):
        fieldwork_sets(codings, deviance.iloc[1:])


def test_recovery_study_finds_the_planted_rule_with_enough_diversity() -> None:
    municipalities, deviance = _world()
    result = _study(municipalities, deviance)
    (row,) = result.to_dict(orient="records")
    assert row["visited"] == len(CASES) and row["codings"] == 3
    assert row["found"] == 1.0 and row["correct"] == 1.0 and row["no_solution"] == 0.0
    assert contains_paths(row["typical"], PATHS)


def test_a_positive_deviant_with_other_causes_adds_an_incorrect_term() -> None:
    # low NEET without the rule (random deviance): the solution stays complete but is no longer correct
    municipalities, deviance = _world(extra=[((0, 0, 0, 0, 1), -0.6)])
    (row,) = _study(municipalities, deviance).to_dict(orient="records")
    assert row["found"] == 1.0 and row["correct"] == 0.0


def test_recovery_study_counts_codings_without_a_sufficient_configuration() -> None:
    # the only low-NEET municipality shares its configuration with a high-NEET one: nothing is sufficient
    municipalities, deviance = _world(extra=[((0, 1, 0, 0, 0), -0.6)])
    deviance = deviance.abs().where(deviance.index != deviance.index[-1], -0.6)
    (row,) = _study(municipalities, deviance).to_dict(orient="records")
    assert row["no_solution"] == 1.0 and row["found"] == 0.0 and row["typical"] == ""


def test_recovery_study_rejects_bad_specifications() -> None:
    _, deviance = _world()
    with pytest.raises(SpecificationError, match="paths"):
        recovery_study({"a": ["NO-0000"]}, lambda v, s: pd.DataFrame(), deviance, paths=[])
    with pytest.raises(SpecificationError, match="replications"):
        recovery_study({"a": ["NO-0000"]}, lambda v, s: pd.DataFrame(), deviance, paths=PATHS, replications=0)

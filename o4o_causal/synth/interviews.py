"""Synthetic interview codings of municipalities selected for fieldwork (the qualitative step of the NEET study).

In the published study, municipalities selected as positive or negative NEET deviants
were visited; interviews with NAV offices and partner services were coded, and the
codings calibrated into fuzzy sets for QCA. Here the "fieldworker" sees the true
organisation of each selected municipality (its 0/1 service-integration conditions)
through noise: a present condition is coded around 4 on a 1-5 scale, an absent one
around 2, with normal coding noise (``noise``, on the score scale) and rounding to whole
scores. Codings of real fieldwork replace this table unchanged (one row per
municipality, one 1-5 column per condition).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from o4o_causal import _validate
from o4o_causal.exceptions import DataError, SpecificationError, format_error

#: Conditions coded in the interviews: the planted rule's three plus two that play no role.
CODED_CONDITIONS: tuple[str, ...] = (
    "early_intervention",
    "broad_collaboration",
    "holistic_health",
    "shared_it",
    "joint_case_management",
)


def interview_codings(
    municipalities: pd.DataFrame,
    selected: Sequence[str],
    *,
    conditions: Sequence[str] = CODED_CONDITIONS,
    noise: float = 0.6,
    seed: int = 0,
) -> pd.DataFrame:
    """Return 1-5 interview codings of the ``selected`` municipalities' conditions.

    Parameters
    ----------
    municipalities
        The store's municipality table (``municipality_id`` and the 0/1 ``conditions``);
        not modified.
    selected
        Municipality ids that were visited.
    conditions
        0/1 condition columns to code.
    noise
        Standard deviation of the coding noise on the 1-5 scale (0: perfect coding).
    seed
        Seed of the coding noise.

    Returns
    -------
    DataFrame
        Index ``municipality_id`` (in the order of ``selected``); one integer column per condition.
    """
    frame = _validate.require_frame(municipalities, "municipalities")
    _validate.require_columns(frame, ["municipality_id", *conditions], "municipalities")
    if not np.isfinite(noise) or noise < 0:
        raise SpecificationError(
            format_error(what="noise", expected="a finite number >= 0", found=repr(noise), fix="use e.g. 0.6")
        )
    ids = list(selected)
    table = frame.drop_duplicates("municipality_id").set_index("municipality_id")
    missing = [m for m in ids if m not in table.index]
    if missing:
        raise DataError(
            format_error(
                what="selected municipalities",
                expected="ids present in municipalities",
                found=f"{len(missing)} unknown, e.g. {missing[:3]}",
                fix="select from the same store's municipality table",
            )
        )
    present = table.loc[ids, list(conditions)].to_numpy(dtype=float)
    if not np.isin(present, (0.0, 1.0)).all():
        raise DataError(
            format_error(
                what=f"conditions {list(conditions)}",
                expected="0/1 indicators",
                found="other values",
                fix="code the conditions as 0/1 before simulating interviews",
            )
        )
    rng = np.random.default_rng(seed)
    scores = np.clip(np.rint(2.0 + 2.0 * present + rng.normal(0.0, noise, present.shape)), 1, 5).astype(np.int64)
    return pd.DataFrame(scores, index=pd.Index(ids, name="municipality_id"), columns=list(conditions))


__all__ = ["CODED_CONDITIONS", "interview_codings"]

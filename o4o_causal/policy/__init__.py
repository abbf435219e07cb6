"""Policy evaluation: difference-in-differences, event studies, synthetic control (the Bergen study).

* :func:`did` -- 2x2 and two-way fixed-effects difference-in-differences (pyfixest, CRV1);
  :func:`did_by` -- subgroup effects with a joint equality test; :func:`ddd` -- triple
  difference.
* :func:`event_study` -- leads and lags with a cluster-robust joint pre-trend test;
  ``estimator="sunab"`` (Sun & Abraham), ``"did2s"`` (Gardner) or ``"twfe"``.
* :func:`synthetic_control` -- simplex weights (exact QP), gaps, placebo-in-space
  p-value, leave-one-out, and :func:`synthetic_did` (Arkhangelsky et al. 2021) as a
  robustness row.
* :func:`person_panel`, :func:`city_series` -- outcomes from the ``social_assistance``
  cohort frame (city series with disclosure flags).

With one treated city, city-clustered standard errors are invalid: cluster on persons
for the person-level question and use synthetic control with placebo inference for the
city-level question (see :mod:`o4o_causal.policy.difference`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from o4o_causal._lazy import lazy_getattr

if TYPE_CHECKING:
    from o4o_causal.policy.difference import DidEstimate, SubgroupDid, ddd, did, did_by
    from o4o_causal.policy.events import EventStudyResult, WaldTest, event_study
    from o4o_causal.policy.outcomes import city_series, person_panel
    from o4o_causal.policy.sdid import SdidResult, synthetic_did
    from o4o_causal.policy.synthetic import SyntheticControlResult, synthetic_control

_LAZY = {
    "DidEstimate": "o4o_causal.policy.difference",
    "SubgroupDid": "o4o_causal.policy.difference",
    "ddd": "o4o_causal.policy.difference",
    "did": "o4o_causal.policy.difference",
    "did_by": "o4o_causal.policy.difference",
    "EventStudyResult": "o4o_causal.policy.events",
    "WaldTest": "o4o_causal.policy.events",
    "event_study": "o4o_causal.policy.events",
    "city_series": "o4o_causal.policy.outcomes",
    "person_panel": "o4o_causal.policy.outcomes",
    "SdidResult": "o4o_causal.policy.sdid",
    "synthetic_did": "o4o_causal.policy.sdid",
    "SyntheticControlResult": "o4o_causal.policy.synthetic",
    "synthetic_control": "o4o_causal.policy.synthetic",
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = [
    "DidEstimate",
    "EventStudyResult",
    "SdidResult",
    "SubgroupDid",
    "SyntheticControlResult",
    "WaldTest",
    "city_series",
    "ddd",
    "did",
    "did_by",
    "event_study",
    "person_panel",
    "synthetic_control",
    "synthetic_did",
]

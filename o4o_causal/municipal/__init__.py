"""Municipal deviance: municipalities whose outcome rates are consistently above or below expectation.

* :func:`deviance` -- multilevel logistic model of person-years (binomial cells) with
  country and year effects, person risk factors, structural municipal conditions, a
  persistent municipality deviance ``u_m`` and municipality-year deviations ``w_m,t``
  (PyMC + nutpie, the convergence gate of :mod:`o4o_causal.bayes`).
* :class:`DevianceResult` -- ``.table()`` (observed and expected rates, deviance with
  shrinkage intervals, consistency over years, P(bottom/top decile)), ``.years_table()``,
  ``.select(k)`` (positive and negative deviants), ``.shrinkage()``, ``.summary()``,
  ``.diagnostics_table()``, ``sigma_u`` / ``sigma_w``.
* :func:`fieldwork_sets` -- interview codings and deviance of the visited municipalities
  calibrated into fuzzy sets; :func:`recovery_study` -- how often fsQCA on shortlists of
  several sizes finds given paths (new coding noise per replication); :func:`contains_paths`, :func:`is_submodel`.

Figures: :mod:`o4o_causal.plotting.municipal` (funnel plot, caterpillar of deviances).
PyMC and nutpie are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from o4o_causal._lazy import lazy_getattr

if TYPE_CHECKING:
    from o4o_causal.municipal.deviance_model import deviance
    from o4o_causal.municipal.fieldwork import contains_paths, fieldwork_sets, is_submodel, recovery_study
    from o4o_causal.municipal.result import DevianceResult

_LAZY = {
    "deviance": "o4o_causal.municipal.deviance_model",
    "contains_paths": "o4o_causal.municipal.fieldwork",
    "fieldwork_sets": "o4o_causal.municipal.fieldwork",
    "is_submodel": "o4o_causal.municipal.fieldwork",
    "recovery_study": "o4o_causal.municipal.fieldwork",
    "DevianceResult": "o4o_causal.municipal.result",
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = ["DevianceResult", "contains_paths", "deviance", "fieldwork_sets", "is_submodel", "recovery_study"]

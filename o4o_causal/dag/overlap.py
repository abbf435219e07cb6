"""Overlap (positivity) diagnostics for a binary treatment."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from o4o_causal.dag.estimate import DagEstimate, encode_categories
from o4o_causal.dag.methods import propensity
from o4o_causal.exceptions import SpecificationError, format_error


@dataclass(frozen=True)
class OverlapResult:
    """Propensity scores by arm and weight diagnostics (aggregates only in ``summary``)."""

    propensity: np.ndarray
    treated: np.ndarray
    trim: float | None

    def summary(self) -> pd.DataFrame:
        """Per arm: n, propensity quantiles (5/50/95%), max weight, effective sample size, share trimmed."""
        rows = []
        for arm, label in ((1, "treated"), (0, "untreated")):
            e = self.propensity[self.treated == arm]
            w = 1 / e if arm == 1 else 1 / (1 - e)
            trimmed = 0.0 if self.trim is None else float(np.mean((e < self.trim) | (e > 1 - self.trim)))
            rows.append(
                {
                    "arm": label,
                    "n": e.size,
                    "ps_p05": float(np.quantile(e, 0.05)),
                    "ps_median": float(np.median(e)),
                    "ps_p95": float(np.quantile(e, 0.95)),
                    "max_weight": float(w.max()),
                    "share_weight_gt_20": float(np.mean(w > 20)),
                    "effective_sample_size": float(w.sum() ** 2 / np.sum(w**2)),
                    "share_trimmed": trimmed,
                }
            )
        return pd.DataFrame(rows).set_index("arm")

    def histogram_data(self, bins: int = 20) -> pd.DataFrame:
        """Count propensity scores in equal-width bins by arm (for the overlap plot)."""
        edges = np.linspace(0, 1, bins + 1)
        out = {"bin_low": edges[:-1], "bin_high": edges[1:]}
        for arm, label in ((1, "treated"), (0, "untreated")):
            out[label] = np.histogram(self.propensity[self.treated == arm], bins=edges)[0]
        return pd.DataFrame(out)


def overlap_diagnostics(data: pd.DataFrame, estimate: DagEstimate, *, trim: float | None = None) -> OverlapResult:
    """Propensity overlap of the estimate's adjustment set (logistic model as in IPW).

    Parameters
    ----------
    data
        The data the estimate was computed on.
    estimate
        A :class:`DagEstimate` (its spec gives treatment and adjustment columns).
    trim
        Report the share of units outside ``[trim, 1 - trim]``.
    """
    if estimate.spec is None:
        raise SpecificationError(
            format_error(what="estimate", expected="a DagEstimate", found="no spec", fix="use estimate_effect")
        )
    frame, spec = encode_categories(data, estimate.spec)
    e, _ = propensity(frame, spec)
    return OverlapResult(propensity=e, treated=data[estimate.spec.treatment].to_numpy(dtype=int), trim=trim)

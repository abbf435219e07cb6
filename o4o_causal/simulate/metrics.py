"""Performance measures of a simulation study with Monte Carlo standard errors.

Definitions follow Morris, White & Crowther (2019, *Statistics in Medicine* 38:2074),
over the ``k`` successful replications of one (design, estimator):

* bias ``= mean(est - truth)``, MCSE ``= sd(est - truth) / sqrt(k)``;
* RMSE ``= sqrt(mean((est - truth)²))``, MCSE ``= sd((est - truth)²) / (2 RMSE sqrt(k))`` (delta method);
* empirical SE ``= sd(est)``; model SE ``= mean(se)``; their ratio;
* coverage ``= share of intervals containing the truth``, MCSE ``= sqrt(p (1 - p) / k)``;
* mean interval width; failures; median seconds per replication;
* for estimators that give municipality effects: the mean over replications of the
  share of municipalities whose interval contains the true municipality effect, with
  MCSE ``sd / sqrt(k)`` over replications.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from o4o_causal.exceptions import SpecificationError, format_error

#: Estimands an ATE interval can be scored against.
TARGETS = ("pate", "sate")


def _sd(x: np.ndarray) -> float:
    return float(np.std(x, ddof=1)) if x.size > 1 else float("nan")


def _measures(group: pd.DataFrame, target: str) -> dict[str, float]:
    ok = group[group["status"] == "ok"] if "status" in group else group
    k = len(ok)
    est = ok["estimate"].to_numpy(float) if k else np.empty(0)
    truth = ok[target].to_numpy(float) if k else np.empty(0)
    err = est - truth
    out: dict[str, float] = {"reps": float(len(group)), "failures": float(len(group) - k), "ok": float(k)}
    rmse = float(np.sqrt(np.mean(err**2))) if k else float("nan")
    out |= {
        "truth": float(np.mean(truth)) if k else float("nan"),
        "mean_estimate": float(np.mean(est)) if k else float("nan"),
        "bias": float(np.mean(err)) if k else float("nan"),
        "bias_mcse": _sd(err) / np.sqrt(k) if k else float("nan"),
        "rmse": rmse,
        "rmse_mcse": _sd(err**2) / (2 * rmse * np.sqrt(k)) if k and rmse > 0 else float("nan"),
        "empirical_se": _sd(est),
        "mean_se": float(ok["se"].mean()) if k else float("nan"),
    }
    out["se_ratio"] = out["mean_se"] / out["empirical_se"] if out["empirical_se"] > 0 else float("nan")
    scored = ok[np.isfinite(ok["ci_low"].to_numpy(float)) & np.isfinite(ok["ci_high"].to_numpy(float))] if k else ok
    m = len(scored)
    if m:
        inside = (scored["ci_low"] <= scored[target]) & (scored[target] <= scored["ci_high"])
        p = float(inside.mean())
        out |= {"coverage": p, "coverage_mcse": float(np.sqrt(p * (1 - p) / m))}
        out["mean_width"] = float((scored["ci_high"] - scored["ci_low"]).mean())
    else:
        out |= {"coverage": float("nan"), "coverage_mcse": float("nan"), "mean_width": float("nan")}
    out |= _group_measures(ok)
    out["seconds_median"] = float(group["seconds"].median()) if "seconds" in group else float("nan")
    return out


def _group_measures(ok: pd.DataFrame) -> dict[str, float]:
    if "group_coverage" not in ok or not ok["group_coverage"].notna().any():
        return {"group_coverage": float("nan"), "group_coverage_mcse": float("nan"), "group_width": float("nan")}
    g = ok["group_coverage"].dropna().to_numpy(float)
    return {
        "group_coverage": float(g.mean()),
        "group_coverage_mcse": _sd(g) / np.sqrt(g.size) if g.size > 1 else float("nan"),
        "group_width": float(ok["group_width"].mean()),
    }


def summarise(raw: pd.DataFrame, designs: pd.DataFrame, *, target: str = "pate") -> pd.DataFrame:
    """Return one row of performance measures per (design, estimator).

    Parameters
    ----------
    raw
        Per-replication table (``design_id, replication, estimator, status, estimate, se,
        ci_low, ci_high, pate, sate, ...``); not modified.
    designs
        Design table (``design_id``, label and fields) joined to the measures.
    target
        ``"pate"`` (superpopulation ATE of the design, default) or ``"sate"`` (the
        replication's sample ATE).

    Returns
    -------
    DataFrame
        Design columns, ``estimator`` and the measures of the module docstring.
    """
    if target not in TARGETS:
        raise SpecificationError(
            format_error(what="target", expected=f"one of {TARGETS}", found=repr(target), fix="use 'pate' or 'sate'")
        )
    order = list(dict.fromkeys(raw["estimator"]))
    rows = []
    for (design_id, name), group in raw.groupby(["design_id", "estimator"], sort=False):
        rows.append({"design_id": design_id, "estimator": name, **_measures(group, target)})
    table = pd.DataFrame(rows)
    for col in ("reps", "failures", "ok"):
        table[col] = table[col].astype(int)
    table["_order"] = table["estimator"].map({n: i for i, n in enumerate(order)})
    table = table.sort_values(["design_id", "_order"]).drop(columns="_order")
    return designs.merge(table, on="design_id", how="right").reset_index(drop=True)


__all__ = ["TARGETS", "summarise"]

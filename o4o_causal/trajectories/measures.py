"""Cluster-quality measures on weighted distinct sequences (equal to person-level values).

With ``d`` the distinct-by-distinct matrix, ``w`` the persons per distinct sequence and a
partition of distinct sequences, each measure equals its value on the expanded
person-level matrix (copies of a sequence are at distance 0 and in the same cluster).
Definitions follow WeightedCluster (Studer 2013, ``wcClusterQuality``); the tests compare
with sequenzo's port of it (``compute_partition_quality``):

``asw``
    Average silhouette width (Kaufman & Rousseeuw), weighted by persons. Range -1..1;
    > 0.5 reasonable, > 0.7 strong structure. A person alone in its cluster has
    silhouette 0 (as R's ``cluster::silhouette`` and ``sklearn``; WeightedCluster's
    ``0/0`` for such a person is not defined); a type of one person is in any case
    suppressed in every table.
``pbc``
    Point-biserial correlation between pair distances and "different cluster", over
    all *ordered* pairs of persons including each person with itself (WeightedCluster's
    convention: self-pairs at distance 0 count as within-cluster pairs).
``hc``
    Hubert's C: ``(S_w - S_min) / (S_max - S_min)`` -- sum of within-cluster pair
    distances against the sums of as many smallest / largest pair distances, over the
    same pairs as ``pbc``; 0 best. Computed exactly by a weighted sort of all distinct
    pairs; ``NaN`` (with an :class:`~o4o_causal.exceptions.O4OWarning`) above
    :data:`HC_MAX_PAIRS` distinct pairs (about 7,700 distinct sequences).
``r2``, ``ch``
    Pseudo-R-squared and pseudo-F (Calinski--Harabasz) from the discrepancy of the
    distances (Studer et al. 2011): ``SS = sum_{i<j} w_i w_j d_ij / W`` per cluster and
    overall (WeightedCluster's ``R2`` and ``CH``).
``r2sq``, ``chsq``
    The same from squared distances (WeightedCluster's ``R2sq`` and ``CHsq``; equal to
    ``sklearn``'s Calinski--Harabasz score for Euclidean data). Ward (``"D2"``)
    maximises ``r2sq`` step by step.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from o4o_causal.exceptions import O4OWarning

#: Largest number of distinct pairs for which Hubert's C is computed (weighted sort).
HC_MAX_PAIRS = 30_000_000


def _cluster_sums(d: np.ndarray, w: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    onehot = np.zeros((d.shape[0], k))
    onehot[np.arange(d.shape[0]), labels] = w
    return np.asarray(d @ onehot)


def silhouette(d: np.ndarray, w: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Return the silhouette of each distinct sequence (weighted; equal for all its copies)."""
    k = int(labels.max()) + 1
    sums = _cluster_sums(d, w, labels, k)
    size = np.bincount(labels, weights=w, minlength=k)
    rows = np.arange(d.shape[0])
    own = size[labels]
    a = np.divide(sums[rows, labels], own - 1, out=np.zeros(d.shape[0]), where=own > 1)
    other = np.where(np.arange(k)[None, :] == labels[:, None], np.inf, sums / np.where(size > 0, size, np.nan)[None, :])
    other = np.where(np.isnan(other), np.inf, other)
    b = other.min(axis=1)
    denom = np.maximum(a, b)
    s = np.divide(b - a, denom, out=np.zeros_like(a), where=(denom > 0) & np.isfinite(denom))
    return np.where(own > 1, s, 0.0)


def _hubert_c(d: np.ndarray, w: np.ndarray, within_sum: float, n_within: float) -> float:
    m = d.shape[0]
    if m * (m - 1) // 2 > HC_MAX_PAIRS:
        warnings.warn(
            f"Hubert's C not computed (NaN): {m:,} distinct sequences give more than "
            f"{HC_MAX_PAIRS:,} distinct pairs; use ASW and PBC",
            O4OWarning,
            stacklevel=4,
        )
        return float("nan")
    iu = np.triu_indices(m, 1)
    values = d[iu]
    mult = (w[iu[0]] * w[iu[1]]).astype(np.float64)
    # half of the ordered pairs: i < j once, and w_i^2 / 2 at distance 0 per distinct sequence
    # (its copies among themselves and each person with itself, as WeightedCluster)
    zeros = float((w * w / 2).sum())
    values = np.concatenate([[0.0], values])
    mult = np.concatenate([[zeros], mult])
    order = np.argsort(values, kind="stable")
    values, mult = values[order], mult[order]
    cum_n = np.cumsum(mult)
    cum_s = np.cumsum(mult * values)

    def smallest(count: float) -> float:
        i = int(np.searchsorted(cum_n, count))
        before_n = cum_n[i - 1] if i > 0 else 0.0
        before_s = cum_s[i - 1] if i > 0 else 0.0
        return float(before_s + (count - before_n) * values[min(i, len(values) - 1)])

    total_n, total_s = float(cum_n[-1]), float(cum_s[-1])
    s_min = smallest(n_within)
    s_max = total_s - smallest(total_n - n_within)
    return (within_sum - s_min) / (s_max - s_min) if s_max > s_min else float("nan")


def cluster_quality(d: np.ndarray, w: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Return ``asw``, ``pbc``, ``hc``, ``r2``, ``ch``, ``r2sq`` and ``chsq`` of a partition of distinct sequences."""
    w = np.asarray(w, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    k = int(labels.max()) + 1
    n = float(w.sum())
    s = silhouette(d, w, labels)
    sums = _cluster_sums(d, w, labels, k)
    sums_sq = _cluster_sums(d**2, w, labels, k)
    rows = np.arange(d.shape[0])
    size = np.bincount(labels, weights=w, minlength=k)
    within = float(w @ sums[rows, labels]) / 2.0
    total = float(w @ sums.sum(axis=1)) / 2.0
    total_sq = float(w @ sums_sq.sum(axis=1)) / 2.0
    # half the ordered pairs including self-pairs (WeightedCluster); correlation is scale-free
    n_pairs = n * n / 2.0
    n_within = float((size * size / 2.0).sum())
    n_between = n_pairs - n_within
    between = total - within
    num = n_pairs * between - n_between * total
    den = np.sqrt(max(n_pairs * n_between - n_between**2, 0.0) * max(n_pairs * total_sq - total**2, 0.0))
    pbc = float(num / den) if den > 0 else float("nan")

    def r2_ch(total_ss: float, within_by_cluster: np.ndarray) -> tuple[float, float]:
        ss_total = total_ss / n
        ss_within = float(np.sum(np.divide(within_by_cluster, size, out=np.zeros(k), where=size > 0)))
        r2 = 1.0 - ss_within / ss_total if ss_total > 0 else float("nan")
        ok = ss_within > 0 and n > k
        ch = ((ss_total - ss_within) / (k - 1)) / (ss_within / (n - k)) if ok else float("nan")
        return float(r2), float(ch)

    r2, ch = r2_ch(total, np.bincount(labels, weights=w * sums[rows, labels], minlength=k) / 2.0)
    r2sq, chsq = r2_ch(total_sq, np.bincount(labels, weights=w * sums_sq[rows, labels], minlength=k) / 2.0)
    return {
        "asw": float(w @ s / n),
        "pbc": pbc,
        "hc": _hubert_c(d, w, float(within), float(n_within)),
        "r2": r2,
        "ch": ch,
        "r2sq": r2sq,
        "chsq": chsq,
    }


def quality_table(rows: dict[int, dict[str, float]]) -> pd.DataFrame:
    """Return one row per ``k`` (columns ``k, asw, pbc, hc, r2, ch, r2sq, chsq``)."""
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "k"
    return frame.reset_index()


__all__ = ["HC_MAX_PAIRS", "cluster_quality", "quality_table", "silhouette"]

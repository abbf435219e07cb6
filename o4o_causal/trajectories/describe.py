"""Disclosure-aware descriptives of :class:`~o4o_causal.trajectories.seqdata.Sequences`.

Every function returns aggregates only. Rules (``min_count`` defaults to
``config.DISCLOSURE.threshold`` = 5):

* a month, group or table cell based on fewer than ``min_count`` persons (or
  transitions) is suppressed (row dropped or value set to missing); counts of 0 are
  kept (an empty cell discloses nothing about a person);
* quantiles are reported only with at least ``min_count`` persons at or below *and* at
  or above them (DST's rule for percentiles); minima and maxima never;
* a sequence is shown (:func:`frequent_sequences`) only if at least ``min_count``
  persons have exactly that sequence; a modal sequence (:func:`modal_sequence`, the
  most frequent state of each month) is an aggregate.

Secondary suppression (a suppressed cell recoverable as a row total minus the others)
is not applied here: run the suite's output checks before export.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from o4o_causal import config
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.results import Estimate
from o4o_causal.trajectories import inference
from o4o_causal.trajectories.costs import transition_counts
from o4o_causal.trajectories.seqdata import Sequences, require_covariate

THRESHOLD = config.DISCLOSURE.threshold
QUANTILES: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9)


def spell_string(codes: np.ndarray, alphabet: tuple[str, ...]) -> str:
    """Write one sequence in spell notation, e.g. ``"WAA/12-EMP/36"``."""
    parts: list[str] = []
    start = 0
    for t in range(1, len(codes) + 1):
        if t == len(codes) or codes[t] != codes[start]:
            parts.append(f"{alphabet[int(codes[start])]}/{t - start}")
            start = t
    return "-".join(parts)


def _groups(seqs: Sequences, by: str | None) -> list[tuple[object, np.ndarray]]:
    if by is None:
        return [("all", np.ones(seqs.n, dtype=bool))]
    require_covariate(seqs, by)
    values = seqs.covariates[by]
    return [(v, (values == v).to_numpy()) for v in sorted(values.dropna().unique().tolist(), key=str)]


def _counts_by_month(codes: np.ndarray, a: int) -> np.ndarray:
    t = codes.shape[1]
    flat = (np.arange(t)[None, :] * a + codes.astype(np.int64)).ravel()
    return np.bincount(flat, minlength=t * a).reshape(t, a)


def state_distribution(seqs: Sequences, *, by: str | None = None, min_count: int = THRESHOLD) -> pd.DataFrame:
    """Share of persons in each state by month (a chronogram's data).

    Returns
    -------
    DataFrame
        Index ``month`` (1..T), or ``(by, month)``; columns: the alphabet's states
        (shares, missing where 0 < count < ``min_count``) and ``n`` (persons). Groups
        with fewer than ``min_count`` persons are left out.
    """
    frames = []
    for value, mask in _groups(seqs, by):
        n = int(mask.sum())
        if n < min_count:
            continue
        counts = _counts_by_month(seqs.codes[mask], len(seqs.alphabet))
        shares = np.where((counts > 0) & (counts < min_count), np.nan, counts / n)
        frame = pd.DataFrame(shares, columns=list(seqs.alphabet), index=pd.RangeIndex(1, seqs.length + 1, name="month"))
        frame["n"] = n
        if by is not None:
            frame = pd.concat({value: frame}, names=[by])
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*seqs.alphabet, "n"])
    return pd.concat(frames)


def transition_rates(seqs: Sequences, *, min_count: int = THRESHOLD) -> pd.DataFrame:
    """Month-to-month transition rates ``P(next = to | now = from)`` (rows: from; columns: to).

    Rates from fewer than ``min_count`` transitions (0 < count) are missing; column
    ``n`` = transitions out of each state (person-months), missing when below ``min_count``.
    """
    counts = transition_counts(seqs.codes, len(seqs.alphabet))
    totals = counts.sum(axis=1, keepdims=True)
    rates = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    rates = np.where((counts > 0) & (counts < min_count), np.nan, rates)
    frame = pd.DataFrame(rates, index=pd.Index(seqs.alphabet, name="from"), columns=list(seqs.alphabet))
    n = totals[:, 0]
    frame["n"] = np.where((n > 0) & (n < min_count), np.nan, n)
    return frame


def mean_time(seqs: Sequences, *, by: str | None = None, min_count: int = THRESHOLD) -> pd.DataFrame:
    """Mean number of months spent in each state (optionally by group); column ``n``."""
    rows = {}
    for value, mask in _groups(seqs, by):
        n = int(mask.sum())
        if n < min_count:
            continue
        counts = _counts_by_month(seqs.codes[mask], len(seqs.alphabet)).sum(axis=0)
        rows[value] = [*(counts / n), n]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[*seqs.alphabet, "n"])
    frame.index.name = by or "group"
    frame["n"] = frame["n"].astype(int)
    return frame


def entropy_by_month(seqs: Sequences, *, min_count: int = THRESHOLD) -> pd.DataFrame:
    """Cross-sectional Shannon entropy of the state distribution per month (normalised to 0..1).

    Normalised by ``log(alphabet size)`` (TraMineR ``seqstatd``). Columns ``entropy``, ``n``.
    """
    a = len(seqs.alphabet)
    p = _counts_by_month(seqs.codes, a) / seqs.n
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.nansum(np.where(p > 0, p * np.log(p), 0.0), axis=1) / np.log(a)
    frame = pd.DataFrame({"entropy": h, "n": seqs.n}, index=pd.RangeIndex(1, seqs.length + 1, name="month"))
    return frame if seqs.n >= min_count else frame.iloc[:0]


def _distinct_subsequences(dss: list[int]) -> int:
    """Count the distinct subsequences (including the empty one) of ``dss``."""
    count = 1
    last: dict[int, int] = {}
    for c in dss:
        new = 2 * count - last.get(c, 0)
        last[c] = count
        count = new
    return count


def indicators(seqs: Sequences) -> pd.DataFrame:
    """Per-person indicators (microdata; never export -- use :func:`indicator_summary`).

    Columns: ``transitions`` (state changes), ``spells``, ``entropy`` (longitudinal
    Shannon entropy of the person's time in each state, normalised by
    ``log(alphabet size)``, TraMineR ``seqient``), ``turbulence`` (Elzinga & Liefbroer
    2007, TraMineR ``seqST``: ``log2(phi * (s2max + 1) / (s2 + 1))`` with ``phi`` the
    number of distinct subsequences of the spell-state sequence, ``s2`` the variance of
    spell durations and ``s2max = (spells - 1)(1 - mean duration)^2``; 1 for a constant
    sequence). Computed once per distinct sequence.
    """
    unique, _, inverse = seqs.distinct()
    a = len(seqs.alphabet)
    rows = []
    for row in unique:
        change = np.flatnonzero(np.diff(row)) + 1
        bounds = np.concatenate([[0], change, [row.size]])
        durations = np.diff(bounds).astype(float)
        dss = [int(row[b]) for b in bounds[:-1]]
        phi = _distinct_subsequences(dss)
        s2 = float(durations.var())
        s2max = (durations.size - 1) * (1 - durations.mean()) ** 2
        turbulence = float(np.log2(phi) + np.log2((s2max + 1) / (s2 + 1)))
        p = np.bincount(row, minlength=a) / row.size
        entropy = float(-(p[p > 0] * np.log(p[p > 0])).sum() / np.log(a))
        rows.append((change.size, durations.size, entropy, turbulence))
    table = np.asarray(rows, dtype=float)[inverse]
    return pd.DataFrame(table, columns=["transitions", "spells", "entropy", "turbulence"], index=seqs.ids)


def indicator_summary(seqs: Sequences, *, by: str | None = None, min_count: int = THRESHOLD) -> pd.DataFrame:
    """Means, standard deviations and (disclosure-safe) quantiles of :func:`indicators` by group.

    Returns
    -------
    DataFrame
        One row per (group, indicator): ``n``, ``mean``, ``sd``, ``p10`` .. ``p90``
        (missing when fewer than ``min_count`` persons lie on either side). Groups with
        fewer than ``min_count`` persons are left out.
    """
    ind = indicators(seqs)
    records = []
    for value, mask in _groups(seqs, by):
        n = int(mask.sum())
        if n < min_count:
            continue
        sub = ind.loc[mask]
        for col in ind.columns:
            x = sub[col].to_numpy()
            rec: dict[str, object] = {"group": value, "indicator": col, "n": n, "mean": x.mean(), "sd": x.std(ddof=1)}
            for q in QUANTILES:
                value_q = float(np.quantile(x, q))
                safe = (x <= value_q).sum() >= min_count and (x >= value_q).sum() >= min_count
                rec[f"p{round(q * 100)}"] = value_q if safe else np.nan
            records.append(rec)
    frame = pd.DataFrame.from_records(records)
    return frame.rename(columns={"group": by or "group"})


def frequent_sequences(seqs: Sequences, *, top: int = 10, min_count: int = THRESHOLD) -> pd.DataFrame:
    """Return the most frequent sequences shared by at least ``min_count`` persons (spell notation)."""
    unique, weights, _ = seqs.distinct()
    order = np.argsort(-weights, kind="stable")[:top]
    keep = [i for i in order if weights[i] >= min_count]
    return pd.DataFrame(
        {
            "sequence": [spell_string(unique[i], seqs.alphabet) for i in keep],
            "n": [int(weights[i]) for i in keep],
            "share": [weights[i] / seqs.n for i in keep],
        },
        index=pd.RangeIndex(1, len(keep) + 1, name="rank"),
    )


def modal_sequence(seqs: Sequences) -> str:
    """Return the sequence of each month's most frequent state (an aggregate), spell notation."""
    counts = _counts_by_month(seqs.codes, len(seqs.alphabet))
    return spell_string(np.argmax(counts, axis=1), seqs.alphabet)


def share_throughout(
    seqs: Sequences,
    states: Collection[str] | str,
    *,
    cluster: str | None = None,
    ci_level: float = config.CI_LEVEL,
) -> Estimate:
    """Share of persons in the state set ``states`` in every month of the window, with a CI.

    Wilson interval; with ``cluster`` (e.g. ``"municipality_id"``) its variance is the
    cluster-robust variance of a ratio (effective sample size ``p(1-p)/var``).
    The headline of the WAA study: ``share_throughout(seqs, {"WAA", "WAA_M"})`` > 0.5.
    """
    wanted = [states] if isinstance(states, str) else list(states)
    if not wanted:
        raise SpecificationError(
            format_error(what="states", expected="at least one state", found="none", fix="pass states")
        )
    codes = [seqs.code(s) for s in wanted if s in seqs.alphabet or s not in (seqs.report.recode or {})]
    inside = np.isin(seqs.codes, codes).all(axis=1).astype(float)
    groups = None
    if cluster is not None:
        require_covariate(seqs, cluster)
        groups = seqs.covariates[cluster].to_numpy()
        if pd.isna(groups).any():
            raise DataError(
                format_error(
                    what=f"cluster column {cluster!r}",
                    expected="no missing values",
                    found=f"{int(pd.isna(groups).sum())} missing",
                    fix="drop or fill them",
                )
            )
    p, se, lo, hi = inference.share_interval(inside, groups=groups, ci_level=ci_level)
    return Estimate(
        p,
        se,
        lo,
        hi,
        seqs.n,
        "share (Wilson" + (", cluster-robust)" if cluster else ")"),
        ci_level=ci_level,
        estimand=f"share in {{{', '.join(wanted)}}} all {seqs.length} months",
    )


__all__ = [
    "QUANTILES",
    "entropy_by_month",
    "frequent_sequences",
    "indicator_summary",
    "indicators",
    "mean_time",
    "modal_sequence",
    "share_throughout",
    "spell_string",
    "state_distribution",
    "transition_rates",
]

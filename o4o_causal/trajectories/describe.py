"""Disclosure-aware descriptives of :class:`~o4o_causal.trajectories.seqdata.Sequences`.

Every function returns aggregates only. Rules (``min_count`` defaults to
``config.DISCLOSURE.threshold`` = 5):

* a month, group or table cell based on fewer than ``min_count`` *persons* is
  suppressed (row dropped or value set to missing); for transition rates a cell counts
  the distinct persons making that transition, for mean time the persons ever in the
  state; counts of 0 are kept (an empty cell discloses nothing about a person);
* **secondary suppression** (:func:`suppress_cells`): every row of
  :func:`state_distribution`, :func:`transition_rates` and :func:`mean_time` adds up
  to a known total (1, or the window length), so a single suppressed cell could be
  recovered as the total minus the others; when the suppressed cells of a row hold
  together fewer than ``min_count`` persons, the next-smallest cells are suppressed
  too, until they hold at least ``min_count`` (only their sum is then recoverable);
* quantiles are reported only with at least ``min_count`` persons at or below *and* at
  or above them (DST's rule for percentiles); minima and maxima never;
* a sequence is shown (:func:`frequent_sequences`) only if at least ``min_count``
  persons have exactly that sequence; a modal sequence (:func:`modal_sequence`, the
  most frequent state of each month) is shown only for at least ``min_count`` persons,
  with months whose modal state holds fewer than ``min_count`` persons written ``?``;
* :func:`share_throughout` is missing when fewer than ``min_count`` persons are (or
  are not) in the states throughout.

``CENSORED`` (``censoring="state"``) counts as a state everywhere here: in the
normalisation of entropies (``log`` of the alphabet size, alphabet including
``CENSORED``), in turbulence and in transition rates (TraMineR's ``with.missing=FALSE``
leaves missing months out instead). With the default ``censoring="drop"`` there are no
censored months.
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


def suppress_cells(counts: np.ndarray, min_count: int, sizes: np.ndarray | None = None) -> np.ndarray:
    """Return the cells to suppress in each row of a table whose rows add up to known totals.

    Primary: cells with ``0 < sizes < min_count`` (``sizes``: persons behind each cell;
    default ``counts``). Secondary: in a row whose suppressed cells hold together fewer
    than ``min_count`` persons, the smallest further non-empty cells are suppressed
    until they hold at least ``min_count`` (or every non-empty cell is suppressed), so
    that no suppressed cell can be recovered as the row total minus the shown cells.
    """
    counts = np.atleast_2d(np.asarray(counts))
    size = np.atleast_2d(np.asarray(counts if sizes is None else sizes))
    mask = (size > 0) & (size < min_count)
    for r in np.flatnonzero(mask.any(axis=1)):
        while size[r][mask[r]].sum() < min_count:
            candidates = np.flatnonzero(~mask[r] & (counts[r] > 0))
            if candidates.size == 0:
                break
            mask[r, candidates[np.argmin(size[r][candidates])]] = True
    return np.asarray(mask)


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
        (shares, missing where 0 < count < ``min_count`` and where secondary
        suppression applies, see the module docstring) and ``n`` (persons). Groups
        with fewer than ``min_count`` persons are left out.
    """
    frames = []
    for value, mask in _groups(seqs, by):
        n = int(mask.sum())
        if n < min_count:
            continue
        counts = _counts_by_month(seqs.codes[mask], len(seqs.alphabet))
        shares = np.where(suppress_cells(counts, min_count), np.nan, counts / n)
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

    A rate is missing when fewer than ``min_count`` distinct persons (0 < persons) make
    that transition, or by secondary suppression within its row (rows add up to 1).
    Column ``n`` = transitions out of each state (person-months); a row left by fewer
    than ``min_count`` persons is missing altogether.
    """
    a = len(seqs.alphabet)
    counts = transition_counts(seqs.codes, a)
    pairs = (seqs.codes[:, :-1].astype(np.int64) * a + seqs.codes[:, 1:]).ravel()
    person = np.repeat(np.arange(seqs.n, dtype=np.int64), seqs.length - 1)
    distinct = np.unique(person * (a * a) + pairs)
    persons = np.bincount(distinct % (a * a), minlength=a * a).reshape(a, a)
    leaving = np.array([np.unique(distinct[(distinct % (a * a)) // a == i] // (a * a)).size for i in range(a)])
    totals = counts.sum(axis=1, keepdims=True)
    rates = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
    hidden = suppress_cells(counts, min_count, sizes=persons)
    hidden |= ((leaving > 0) & (leaving < min_count))[:, None]
    rates = np.where(hidden, np.nan, rates)
    frame = pd.DataFrame(rates, index=pd.Index(seqs.alphabet, name="from"), columns=list(seqs.alphabet))
    n = totals[:, 0].astype(float)
    frame["n"] = np.where((leaving > 0) & (leaving < min_count), np.nan, n)
    return frame


def mean_time(seqs: Sequences, *, by: str | None = None, min_count: int = THRESHOLD) -> pd.DataFrame:
    """Mean number of months spent in each state (optionally by group); column ``n``.

    A state fewer than ``min_count`` persons of the group were ever in is missing (and,
    since the means add up to the window length, further states by secondary
    suppression: see the module docstring).
    """
    rows = {}
    a = len(seqs.alphabet)
    for value, mask in _groups(seqs, by):
        n = int(mask.sum())
        if n < min_count:
            continue
        sub = seqs.codes[mask]
        counts = _counts_by_month(sub, a).sum(axis=0)
        ever = np.array([(sub == s).any(axis=1).sum() for s in range(a)])
        hidden = suppress_cells(counts[None, :], min_count, sizes=ever[None, :])[0]
        rows[value] = [*np.where(hidden, np.nan, counts / n), n]
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=[*seqs.alphabet, "n"])
    frame.index.name = by or "group"
    frame["n"] = frame["n"].astype(int)
    return frame


def entropy_by_month(seqs: Sequences, *, min_count: int = THRESHOLD) -> pd.DataFrame:
    """Cross-sectional Shannon entropy of the state distribution per month (normalised to 0..1).

    Normalised by ``log(alphabet size)`` (TraMineR ``seqstatd``; the alphabet includes
    ``CENSORED`` when present). Columns ``entropy``, ``n``.
    """
    a = len(seqs.alphabet)
    p = _counts_by_month(seqs.codes, a) / seqs.n
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.nansum(np.where(p > 0, p * np.log(p), 0.0), axis=1) / np.log(a)
    h = np.where(h > 0, h, 0.0)  # no -0.0
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
        entropy = max(float(-(p[p > 0] * np.log(p[p > 0])).sum() / np.log(a)), 0.0) + 0.0
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


def modal_sequence(seqs: Sequences, *, min_count: int = THRESHOLD) -> str | None:
    """Return the sequence of each month's most frequent state (an aggregate), spell notation.

    ``None`` for fewer than ``min_count`` persons; a month whose modal state holds fewer
    than ``min_count`` persons is written ``?``.
    """
    if seqs.n < min_count:
        return None
    counts = _counts_by_month(seqs.codes, len(seqs.alphabet))
    modal = np.argmax(counts, axis=1)
    modal = np.where(counts.max(axis=1) < min_count, len(seqs.alphabet), modal)
    return spell_string(modal, (*seqs.alphabet, "?"))


def cluster_groups(seqs: Sequences, cluster: str | None, mask: np.ndarray | None = None) -> np.ndarray | None:
    """Return the cluster values of the persons (``mask``: a subset); refuse missing values."""
    if cluster is None:
        return None
    require_covariate(seqs, cluster)
    groups = seqs.covariates[cluster].to_numpy()
    if mask is not None:
        groups = groups[mask]
    missing = int(pd.isna(groups).sum())
    if missing:
        raise DataError(
            format_error(
                what=f"cluster column {cluster!r}",
                expected="no missing values",
                found=f"{missing} missing",
                fix="drop those persons (seqs.select(...)) or fill the column",
            )
        )
    return np.asarray(groups)


def share_throughout(
    seqs: Sequences,
    states: Collection[str] | str,
    *,
    cluster: str | None = None,
    ci_level: float = config.CI_LEVEL,
    min_count: int = THRESHOLD,
) -> Estimate:
    """Share of persons in the state set ``states`` in every month of the window, with a CI.

    Wilson interval; with ``cluster`` (e.g. ``"municipality_id"``) its variance is the
    cluster-robust variance of a ratio (effective sample size ``p(1-p)/var``).
    The headline of the WAA study: ``share_throughout(seqs, {"WAA", "WAA_M"})`` > 0.5.
    A state recoded into another (``recode=``) counts as its target only when the target
    is requested too (``{"WAA", "WAA_M"}`` on merged sequences is ``{"WAA"}``); alone it
    is refused. The estimate is missing (NaN) when fewer than ``min_count`` persons are,
    or are not, in the states throughout.
    """
    wanted = [states] if isinstance(states, str) else list(states)
    if not wanted:
        raise SpecificationError(
            format_error(what="states", expected="at least one state", found="none", fix="pass states")
        )
    recode = dict(seqs.report.recode or {})
    for s in wanted:
        if s not in seqs.alphabet and s in recode and recode[s] not in wanted:
            raise SpecificationError(
                format_error(
                    what=f"state {s!r}",
                    expected="a state of the sequences' alphabet",
                    found=f"{s!r} was recoded into {recode[s]!r} when the sequences were built",
                    fix=f"ask for {recode[s]!r} (which includes it), or build the sequences without recode=",
                )
            )
    codes = [seqs.code(s) for s in wanted if s in seqs.alphabet or s not in recode]
    inside = np.isin(seqs.codes, codes).all(axis=1).astype(float)
    groups = cluster_groups(seqs, cluster)
    method = "share (Wilson" + (", cluster-robust)" if cluster else ")")
    estimand = f"share in {{{', '.join(wanted)}}} all {seqs.length} months"
    count = int(inside.sum())
    if 0 < count < min_count or 0 < seqs.n - count < min_count:
        nan = float("nan")
        return Estimate(
            nan,
            nan,
            nan,
            nan,
            seqs.n,
            method + f", suppressed: < {min_count} persons",
            ci_level=ci_level,
            estimand=estimand,
        )
    p, se, lo, hi = inference.share_interval(inside, groups=groups, ci_level=ci_level)
    return Estimate(p, se, lo, hi, seqs.n, method, ci_level=ci_level, estimand=estimand)


__all__ = [
    "QUANTILES",
    "cluster_groups",
    "entropy_by_month",
    "frequent_sequences",
    "indicator_summary",
    "indicators",
    "mean_time",
    "modal_sequence",
    "share_throughout",
    "spell_string",
    "state_distribution",
    "suppress_cells",
    "transition_rates",
]

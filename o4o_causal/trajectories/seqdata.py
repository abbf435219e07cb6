"""Monthly state sequences: the :class:`Sequences` object and its builder :func:`sequences`.

Rules applied by :func:`sequences`, in this order (each counted in :class:`BuildReport`):

1. **Recoding** (``recode``, e.g. :data:`~o4o_causal.trajectories.alphabet.MERGE_MEASURES`
   ``{"WAA_M": "WAA"}``): states are renamed before anything else; recoded-away states
   leave the alphabet. Values neither in the alphabet nor recoded are refused.
2. **Short gaps**: a run of at most ``max_gap`` unobserved months *between* two
   observed months is filled with the preceding state; such a run at the *start* of the
   window is filled with the first observed state.
3. **Long gaps**: a longer internal run is treated as censoring from the first month of
   the run to the end of the window (later observed months are discarded: the
   sequence is not spliced across an unobserved stretch); a longer run at the start is
   left-censoring.
4. **Censoring** (tail after death/emigration, and the cases of 3.): ``"drop"`` removes
   persons not observed for the whole window (the count is recorded);
   ``"state"`` keeps them with the symbol :data:`~o4o_causal.trajectories.alphabet.CENSORED`
   in the censored months (an ordinary state for distances: it costs like any other
   state, so censored persons tend to cluster together -- prefer ``"drop"`` when the
   censored share is small, as in the WAA cohort, about 2%).

The gap rules are deliberately asymmetric: an unobserved run at the *end* of the
window is never filled, however short (even one month), because that is what death or
emigration looks like in a register; it is censoring (dropped under ``"drop"``). A
short run at the *start* is filled, since entry into the cohort is observed by
construction (the cohort is defined by its first observed state).

Persons with no observed month at all are always dropped. Inputs are never modified.
The object holds person-level data (microdata): never print or export it; the
functions of :mod:`o4o_causal.trajectories.describe` turn it into aggregates.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.trajectories.alphabet import ALPHABET, CENSORED

Censoring = Literal["drop", "state"]
_MONTH = re.compile(r"^m(\d+)$")


@dataclass(frozen=True)
class BuildReport:
    """What :func:`sequences` dropped, filled and recoded (aggregate counts only)."""

    n_input: int
    n_kept: int
    dropped_censored: int
    dropped_empty: int
    censored_persons: int
    censored_months: int
    short_gaps_filled: int
    months_filled: int
    long_gaps: int
    left_censored: int
    recoded_months: int
    recode: Mapping[str, str] = field(default_factory=dict)
    censoring: str = "drop"
    max_gap: int = 1
    #: Persons in a selection (:meth:`Sequences.select`); ``None`` for built sequences.
    n_selected: int | None = None

    def to_frame(self) -> pd.DataFrame:
        """Return the report as a two-column table (``item``, ``value``)."""
        items = {
            "persons in input": self.n_input,
            "persons kept": self.n_kept,
            "dropped: not observed for the whole window": self.dropped_censored,
            "dropped: no observed month": self.dropped_empty,
            "kept with censored months": self.censored_persons,
            "censored months": self.censored_months,
            f"internal gaps <= {self.max_gap} months filled": self.short_gaps_filled,
            "months filled": self.months_filled,
            f"gaps > {self.max_gap} months (censored from gap)": self.long_gaps,
            "left-censored (long gap at start)": self.left_censored,
            "months recoded": self.recoded_months,
        }
        if self.n_selected is not None:
            items["persons selected (the counts above describe the whole build)"] = self.n_selected
        return pd.DataFrame({"item": list(items), "value": list(items.values())})


@dataclass(frozen=True, eq=False)
class Sequences:
    """Monthly state sequences of persons (microdata: never export).

    Attributes
    ----------
    codes
        ``n x T`` int8 matrix (read-only) of state codes: ``alphabet[code]`` is the state.
    alphabet
        State names, in drawing order; ``CENSORED`` last when present.
    ids
        Person identifiers, one per row of ``codes``.
    covariates
        Person covariates (every non-state column of the input: country,
        municipality_id, age, female, ...), indexed like ``ids``.
    months
        Names of the month columns (``m01``, ...).
    report
        :class:`BuildReport` of what was dropped, filled and recoded.
    """

    codes: np.ndarray
    alphabet: tuple[str, ...]
    ids: pd.Index
    covariates: pd.DataFrame
    months: tuple[str, ...]
    report: BuildReport

    @property
    def n(self) -> int:
        """Number of persons."""
        return int(self.codes.shape[0])

    @property
    def length(self) -> int:
        """Number of months."""
        return int(self.codes.shape[1])

    def __repr__(self) -> str:
        """Describe the object without showing any person's data."""
        return f"Sequences(n={self.n}, months={self.length}, alphabet={list(self.alphabet)})"

    def code(self, state: str) -> int:
        """Return the code of ``state``; raise :class:`SpecificationError` when not in the alphabet."""
        if state not in self.alphabet:
            raise SpecificationError(
                format_error(
                    what="state",
                    expected=f"one of {list(self.alphabet)}",
                    found=repr(state),
                    fix="use a state of the alphabet (recoded states are no longer in it)",
                )
            )
        return self.alphabet.index(state)

    def distinct(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the distinct sequences, their weights (persons) and each person's distinct index.

        Distinct sequences are in lexicographic order of their codes; ``codes[i]`` equals
        ``unique[inverse[i]]``.
        """
        unique, inverse, counts = np.unique(self.codes, axis=0, return_inverse=True, return_counts=True)
        return unique, counts.astype(np.int64), inverse.reshape(-1).astype(np.int64)

    def select(self, rows: np.ndarray | pd.Series | Sequence[bool]) -> Sequences:
        """Return the persons where the boolean mask ``rows`` is true (a new object).

        Its ``report`` is the build's, with ``n_selected`` set to the persons selected.
        """
        mask = np.asarray(rows, dtype=bool)
        if mask.shape != (self.n,):
            raise DataError(
                format_error(
                    what="rows",
                    expected=f"a boolean mask of length {self.n}",
                    found=f"shape {mask.shape}",
                    fix="build the mask from seqs.covariates",
                )
            )
        codes = self.codes[mask].copy()
        codes.setflags(write=False)
        report = replace(self.report, n_selected=int(mask.sum()))
        return Sequences(codes, self.alphabet, self.ids[mask], self.covariates.loc[mask].copy(), self.months, report)

    def groups(self, column: str) -> Iterator[tuple[object, Sequences]]:
        """Yield ``(value, Sequences)`` per value of covariate ``column`` (sorted)."""
        require_covariate(self, column)
        values = self.covariates[column]
        for value in sorted(values.dropna().unique().tolist(), key=str):
            yield value, self.select((values == value).to_numpy())


def require_covariate(seqs: Sequences, column: str) -> None:
    """Raise :class:`DataError` unless ``column`` is a covariate of ``seqs``."""
    if column not in seqs.covariates.columns:
        raise DataError(
            format_error(
                what=f"column {column!r}",
                expected="a covariate of the sequences",
                found=f"covariates {list(seqs.covariates.columns)}",
                fix="keep the column in the frame passed to sequences(), or pass data= to merge it",
            )
        )


def _state_columns(frame: pd.DataFrame, state_columns: Sequence[str] | None) -> list[str]:
    if state_columns is None:
        found = [c for c in frame.columns if isinstance(c, str) and _MONTH.match(c)]
        cols = sorted(found, key=lambda c: int(c[1:]))
        if len(cols) < 2:
            raise DataError(
                format_error(
                    what="state_columns",
                    expected="at least two month columns named m01, m02, ... (or state_columns=[...])",
                    found=f"{len(cols)} such columns among {list(frame.columns)[:10]}",
                    fix="pass state_columns=[...] naming the month columns in time order",
                )
            )
        return cols
    cols = [state_columns] if isinstance(state_columns, str) else list(state_columns)
    if len(set(cols)) != len(cols) or len(cols) < 2:
        raise SpecificationError(
            format_error(
                what="state_columns",
                expected="at least two distinct column names in time order",
                found=repr(cols),
                fix="list every month column once",
            )
        )
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(
            format_error(
                what=f"state_columns {missing}",
                expected="columns of the frame",
                found=f"missing (the frame has {frame.shape[1]} columns)",
                fix="check the names (all sequences must have the same months)",
            )
        )
    return cols


def _from_lists(data: Sequence[Sequence[object]]) -> pd.DataFrame:
    lengths = [len(row) for row in data]
    if not lengths:
        raise DataError(format_error(what="data", expected="at least one sequence", found="none", fix="pass data"))
    if len(set(lengths)) > 1:
        bad = next(i for i, n in enumerate(lengths) if n != lengths[0])
        raise DataError(
            format_error(
                what="data (sequences)",
                expected=f"sequences of equal length ({lengths[0]} months, the first one's)",
                found=f"sequence {bad} of length {lengths[bad]} (lengths {min(lengths)}..{max(lengths)})",
                fix="pad censored months with None so that every sequence covers the same window",
            )
        )
    width = len(str(lengths[0]))
    frame = pd.DataFrame([list(r) for r in data], columns=[f"m{t + 1:0{max(2, width)}d}" for t in range(lengths[0])])
    frame.insert(0, "person_id", np.arange(len(frame)))
    return frame


def _encode(
    frame: pd.DataFrame, cols: list[str], alphabet: tuple[str, ...], recode: Mapping[str, str]
) -> tuple[np.ndarray, tuple[str, ...], int]:
    values = frame[cols].to_numpy(dtype=object)
    flat = pd.Series(values.reshape(-1), dtype=object)
    missing = flat.isna().to_numpy()
    keys, uniques = pd.factorize(flat, use_na_sentinel=True)
    unknown = [u for u in uniques if u not in alphabet and u not in recode]
    if unknown:
        first = unknown[0]
        col = cols[int(np.flatnonzero(flat.to_numpy() == first)[0] % len(cols))]
        count = int(sum((flat == u).sum() for u in unknown))
        raise DataError(
            format_error(
                what=f"state column {col!r}",
                expected=f"states of the alphabet {list(alphabet)} or missing",
                found=f"unknown state(s) {sorted(map(str, unknown))[:6]} in {count} person-months",
                fix="recode them (recode={...: ...}) or pass alphabet=[...] including them",
            )
        )
    chained = {s: t for s, t in recode.items() if s != t and t in recode and recode[t] != t}
    if chained:
        raise SpecificationError(
            format_error(
                what="recode",
                expected="targets that are not recoded themselves (one step: {old: new})",
                found=", ".join(f"{s!r} -> {t!r} -> {recode[t]!r}" for s, t in chained.items()),
                fix="map every state directly to its final state, e.g. {'A': 'C', 'B': 'C'}",
            )
        )
    targets = [t for t in recode.values() if t not in alphabet]
    if targets:
        raise SpecificationError(
            format_error(
                what="recode",
                expected=f"target states in the alphabet {list(alphabet)}",
                found=f"targets {targets}",
                fix="recode into states of the alphabet (or extend alphabet=)",
            )
        )
    new_alphabet = tuple(s for s in alphabet if s not in recode or recode[s] == s)
    lookup = np.array([new_alphabet.index(recode.get(u, u)) for u in uniques] + [-1], dtype=np.int8)
    codes = lookup[np.where(keys < 0, len(uniques), keys)].reshape(values.shape)
    codes[missing.reshape(values.shape)] = -1
    recoded = sum(int((flat == s).sum()) for s in recode if recode[s] != s)
    return codes, new_alphabet, recoded


def _runs_start(mask: np.ndarray) -> np.ndarray:
    prev = np.zeros_like(mask)
    prev[:, 1:] = mask[:, :-1]
    return np.asarray(mask & ~prev)


def _fill_and_censor(codes: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Fill short gaps; return (codes, censored mask, counts). ``codes`` is a copy."""
    n, t = codes.shape
    out = codes.copy()
    obs = codes >= 0
    idx = np.broadcast_to(np.arange(t), (n, t))
    prev_obs = np.maximum.accumulate(np.where(obs, idx, -1), axis=1)
    next_obs = np.flip(np.minimum.accumulate(np.flip(np.where(obs, idx, t), axis=1), axis=1), axis=1)
    miss = ~obs
    internal = miss & (prev_obs >= 0) & (next_obs < t)
    leading = miss & (prev_obs < 0) & (next_obs < t)
    run_len = np.where(internal, next_obs - prev_obs - 1, np.where(leading, next_obs, 0))
    fill_int = internal & (run_len <= max_gap)
    fill_lead = leading & (run_len <= max_gap)
    rows = np.arange(n)[:, None]
    out = np.where(fill_int, codes[rows, np.clip(prev_obs, 0, t - 1)], out)
    out = np.where(fill_lead, codes[rows, np.clip(next_obs, 0, t - 1)], out)
    long_int = internal & ~fill_int
    first_long = np.where(long_int.any(axis=1), np.argmax(long_int, axis=1), t)
    censored = (idx >= first_long[:, None]) | (miss & ~fill_int & ~fill_lead)
    counts = {
        "short_gaps_filled": int(_runs_start(fill_int | fill_lead).sum()),
        "months_filled": int((fill_int | fill_lead).sum()),
        "long_gaps": int(_runs_start(long_int).sum()),
        "left_censored": int((leading & ~fill_lead).any(axis=1).sum()),
    }
    return out.astype(np.int8), censored, counts


def sequences(
    frame: pd.DataFrame | Sequence[Sequence[object]],
    *,
    state_columns: Sequence[str] | None = None,
    id_column: str | None = "person_id",
    alphabet: Sequence[str] = ALPHABET,
    recode: Mapping[str, str] | None = None,
    censoring: Censoring = "drop",
    max_gap: int = 1,
) -> Sequences:
    """Build :class:`Sequences` from a wide frame of monthly states (e.g. ``store.cohort("waa")``).

    Parameters
    ----------
    frame
        One row per person, one column per month holding state names (missing = not
        observed), plus covariates; or a list of equally long state lists.
    state_columns
        Month columns in time order (default: columns ``m01``, ``m02``, ... sorted by
        number).
    id_column
        Column of person identifiers (unique); ``None`` uses the frame's index.
    alphabet
        Allowed states in drawing order (default: the ten harmonised states).
    recode
        Mapping ``state -> state`` applied first, e.g. ``{"WAA_M": "WAA"}``
        (:data:`~o4o_causal.trajectories.alphabet.MERGE_MEASURES`) to treat WAA with
        and without a measure as one state; recoded-away states leave the alphabet.
    censoring
        ``"drop"``: remove persons not observed for the whole window (counted in the
        report); ``"state"``: keep them with ``CENSORED`` months.
    max_gap
        Longest run of unobserved months that is filled (with the preceding state; at
        the start of the window with the first observed state). Longer internal runs
        censor the sequence from the run on. ``0`` fills nothing.

    Returns
    -------
    Sequences
        Frozen; ``codes`` read-only. See the module docstring for the rules.
    """
    data = _from_lists(frame) if not isinstance(frame, pd.DataFrame) else frame
    if data.empty:
        raise DataError(
            format_error(what="frame", expected="at least one row", found="an empty frame", fix="check filters")
        )
    if censoring not in ("drop", "state"):
        raise SpecificationError(
            format_error(what="censoring", expected="'drop' or 'state'", found=repr(censoring), fix="choose one")
        )
    if isinstance(max_gap, bool) or not isinstance(max_gap, (int, np.integer)) or max_gap < 0:
        raise SpecificationError(
            format_error(what="max_gap", expected="an integer >= 0", found=repr(max_gap), fix="e.g. max_gap=1")
        )
    alpha = tuple(str(a) for a in alphabet)
    if len(set(alpha)) != len(alpha) or not alpha or CENSORED in alpha:
        raise SpecificationError(
            format_error(
                what="alphabet",
                expected=f"distinct state names (without {CENSORED!r}, which censoring='state' adds)",
                found=repr(alpha),
                fix="list each state once",
            )
        )
    rec = dict(recode or {})
    cols = _state_columns(data, state_columns)
    if id_column is None:
        ids = data.index
    else:
        if id_column not in data.columns:
            raise DataError(
                format_error(
                    what=f"id_column {id_column!r}",
                    expected="a column of the frame",
                    found=f"columns {list(data.columns)[:10]}",
                    fix="pass id_column=... (or None to use the index)",
                )
            )
        ids = pd.Index(data[id_column].to_numpy(), name=id_column)
    if not ids.is_unique:
        raise DataError(
            format_error(
                what=f"id_column {id_column!r}",
                expected="one row per person (unique identifiers)",
                found=f"{int(ids.duplicated().sum())} duplicated identifiers",
                fix="reshape to one row per person before building sequences",
            )
        )
    codes, alpha, recoded = _encode(data, cols, alpha, rec)
    filled, censored, counts = _fill_and_censor(codes, int(max_gap))
    empty = (codes < 0).all(axis=1)
    any_cens = censored.any(axis=1) & ~empty
    if censoring == "drop":
        keep = ~empty & ~any_cens
        out = filled
    else:
        keep = ~empty
        if any_cens.any():
            alpha = (*alpha, CENSORED)
        out = np.where(censored, len(alpha) - 1, filled).astype(np.int8)
    if not keep.any():
        raise DataError(
            format_error(
                what="frame",
                expected="at least one person observed for the whole window",
                found=f"all {len(data)} persons censored or empty",
                fix="use censoring='state' or a larger max_gap",
            )
        )
    keep = np.asarray(keep, dtype=bool)
    final = np.ascontiguousarray(out[keep])
    final.setflags(write=False)
    covariates = data.drop(columns=[*cols, *([id_column] if id_column is not None else [])]).loc[keep].copy()
    covariates.index = ids[keep]
    report = BuildReport(
        n_input=len(data),
        n_kept=int(keep.sum()),
        dropped_censored=int((any_cens & (censoring == "drop")).sum()),
        dropped_empty=int(empty.sum()),
        censored_persons=int(any_cens.sum()) if censoring == "state" else 0,
        censored_months=int(censored[keep].sum()) if censoring == "state" else 0,
        recoded_months=recoded,
        recode=rec,
        censoring=censoring,
        max_gap=int(max_gap),
        **counts,
    )
    return Sequences(final, alpha, ids[keep], covariates, tuple(cols), report)


__all__ = ["BuildReport", "Censoring", "Sequences", "require_covariate", "sequences"]

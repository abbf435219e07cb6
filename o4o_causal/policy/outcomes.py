"""Outcomes for the Bergen social-assistance study, built from the ``social_assistance`` cohort frame.

Input: ``store.cohort("social_assistance")``, one row per person-month with
``person_id, municipality_id, city, month, year, on_sa, employed, earnings, female, age,
nonwestern, children, bergen, post``.

* :func:`person_panel` -- person-level panels (monthly or annual): employment (monthly
  0/1, or the share of observed months employed), earnings, months on social assistance.
  This is **microdata**: for analysis inside the secure environment, never for export.
* :func:`city_series` -- city-level series per month or year (number of recipients,
  recipient rate, new spells, mean spell duration, employment rates by group): the
  input of :func:`~o4o_causal.policy.synthetic_control`. Every cell carries the count
  it rests on, a ``below_threshold`` flag (primary suppression, disclosure threshold of
  :data:`o4o_causal.config.DISCLOSURE`) and a ``suppressed`` flag (primary or
  secondary suppression, see *Disclosure control* below); by default suppressed cells
  are blanked: ``value``, ``count`` and ``n`` alike.

Groups follow the published study and the synthetic world's truth (mutually exclusive):
``families_children`` (children, not non-Western), ``nonwestern`` (non-Western, no
children), ``nonwestern_families_children`` and ``neither``. The reform's planted effects
concern *at-risk* persons; the observable proxy (as in the published study) is receipt
of social assistance before the reform: ``recipients_in=2019`` keeps (or, in the city
series, adds groups for) persons with at least one month on social assistance in 2019.

Spells: a spell starts in a month on social assistance that follows a month off it
(a person's first observed month never counts as a start: the spell may have begun
before the window); the elapsed duration of an ongoing spell counts months from its
start within the window, so it is left-censored during the first months of the window
(by at most the time since 2016-01).

Disclosure control (:func:`city_series`)
----------------------------------------
Within one city and period the published cells are linked: ``recipient_rate`` =
``recipients / persons``; ``mean_spell_duration`` rests on the recipients; the
``employment_rate`` cells of the four groups partition those of ``all`` (persons and
employed persons add up). Blanking only the cells below the threshold would let the
blanked numbers be recovered by division or subtraction, so:

1. *Primary*: a cell is below the threshold when ``count < t``, or for proportions also
   when ``n - count < t`` (the complement would be disclosed).
2. *Persons*: when ``persons`` is suppressed, every cell whose denominator is the
   persons count (``recipients``, ``recipient_rate``, ``new_spells``, ``employment_rate``
   of ``all``) is suppressed.
3. *Rate and counts*: ``recipients``, ``recipient_rate`` and ``mean_spell_duration``
   are suppressed together (with ``persons`` published, either of the first two gives
   the other, and the third publishes the recipients as its count).
4. *Partition* (``employment_rate``; cells ``all`` and the four groups): let ``H`` be
   the suppressed groups. While ``H`` taken together fails the rule of 1 (so the
   subtraction ``all - published groups`` would disclose them, one of them alone, or
   all of them being 0 or all employed) -- or ``all`` is suppressed and ``H`` is empty
   -- the smallest published group (by ``n``, then ``count``) is suppressed too. With
   ``all`` published this ends at the latest when every group is suppressed (their
   total is then ``all``, which passed); with ``all`` suppressed and the groups too
   small together, every cell is suppressed. The ``recipients_<years>`` group is not
   part of the partition (a different population).

Suppressed cells publish neither ``value`` nor ``count`` nor ``n``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from o4o_causal import _validate, config
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.policy import _checks

COHORT_COLUMNS = (
    "person_id",
    "municipality_id",
    "city",
    "month",
    "year",
    "on_sa",
    "employed",
    "earnings",
    "nonwestern",
    "children",
    "bergen",
    "post",
)
GROUPS = ("families_children", "nonwestern", "nonwestern_families_children", "neither")
FREQUENCIES = ("year", "month")


def _cohort(cohort: object) -> pd.DataFrame:
    frame = _validate.require_frame(cohort, "cohort")
    _validate.require_columns(frame, COHORT_COLUMNS, "the social_assistance cohort frame")
    _validate.require_no_missing(frame, ["person_id", "month", "on_sa", "employed", "city"], "cohort")
    return frame


def _group(nonwestern: pd.Series, children: pd.Series) -> np.ndarray:
    nw, ch = nonwestern.to_numpy().astype(bool), children.to_numpy().astype(bool)
    return np.where(
        nw & ch,
        "nonwestern_families_children",
        np.where(ch, "families_children", np.where(nw, "nonwestern", "neither")),
    )


def _years(recipients_in: int | Sequence[int] | None) -> list[int]:
    if recipients_in is None:
        return []
    years = [recipients_in] if isinstance(recipients_in, int | np.integer) else list(recipients_in)
    if not years or not all(isinstance(y, int | np.integer) for y in years):
        raise SpecificationError(
            format_error(
                what="recipients_in",
                expected="a year or years (int)",
                found=repr(recipients_in),
                fix="e.g. recipients_in=2019",
            )
        )
    return [int(y) for y in years]


def _recipients(frame: pd.DataFrame, years: list[int]) -> pd.Series:
    """Return a boolean per person: on social assistance in at least one month of ``years``."""
    in_years = frame["year"].isin(years)
    flag = (frame["on_sa"].astype(bool) & in_years).groupby(frame["person_id"], sort=False).any()
    covered = in_years.groupby(frame["person_id"], sort=False).any()
    if not covered.any():
        raise DataError(
            format_error(
                what=f"recipients_in={years}",
                expected="years inside the cohort window",
                found=f"no person-months in {years} (window {frame['year'].min()}..{frame['year'].max()})",
                fix="choose a pre-reform year of the window, e.g. 2019",
            )
        )
    return flag


def person_panel(
    cohort: pd.DataFrame, *, freq: str = "year", recipients_in: int | Sequence[int] | None = None
) -> pd.DataFrame:
    """Build a person-level panel (microdata) from the ``social_assistance`` cohort frame.

    Parameters
    ----------
    cohort
        ``store.cohort("social_assistance")`` (not modified).
    freq
        ``"year"`` (one row per person and calendar year) or ``"month"``.
    recipients_in
        Keep only persons on social assistance in at least one month of these year(s)
        (the at-risk population of the published analysis, e.g. 2019).

    Returns
    -------
    DataFrame
        ``person_id, municipality_id, city, period, year, employment, earnings, sa_months,
        months_observed, female, age, nonwestern, children, group, bergen, post``
        (``period`` = year or month start; ``employment`` = share of observed months
        employed, 0/1 monthly; ``earnings`` summed over the period; ``sa_months`` = months
        on social assistance), sorted by person and period.
    """
    _checks.check_choice(freq, FREQUENCIES, "freq")
    frame = _cohort(cohort)
    years = _years(recipients_in)
    if years:
        flag = _recipients(frame, years)
        frame = frame[frame["person_id"].map(flag).to_numpy()]
        if frame.empty:
            raise DataError(
                format_error(
                    what=f"recipients_in={years}",
                    expected="at least one recipient",
                    found="none",
                    fix="check the years",
                )
            )
    extra = [c for c in ("female", "age") if c in frame.columns]
    if freq == "month":
        out = frame[
            [
                "person_id",
                "municipality_id",
                "city",
                "month",
                "year",
                *extra,
                "nonwestern",
                "children",
                "bergen",
                "post",
            ]
        ].copy()
        out.insert(3, "period", frame["month"].to_numpy())
        out = out.drop(columns="month")
        out["employment"] = frame["employed"].to_numpy(dtype=float)
        out["earnings"] = frame["earnings"].to_numpy(dtype=float)
        out["sa_months"] = frame["on_sa"].to_numpy(dtype=np.int64)
        out["months_observed"] = 1
    else:
        keys = [frame["person_id"], frame["year"]]
        agg = frame.groupby(keys, sort=True).agg(
            municipality_id=("municipality_id", "first"),
            city=("city", "first"),
            employment=("employed", "mean"),
            earnings=("earnings", "sum"),
            sa_months=("on_sa", "sum"),
            months_observed=("month", "size"),
            nonwestern=("nonwestern", "first"),
            children=("children", "first"),
            bergen=("bergen", "first"),
            post=("post", "min"),
            **{c: (c, "first") for c in extra},
        )
        out = agg.reset_index()
        out["period"] = out["year"]
    out["group"] = _group(out["nonwestern"], out["children"])
    columns = [
        "person_id", "municipality_id", "city", "period", "year", "employment", "earnings", "sa_months",
        "months_observed", *extra, "nonwestern", "children", "group", "bergen", "post",
    ]  # fmt: skip
    return out[columns].sort_values(["person_id", "period"], ignore_index=True)


def _spells(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return per row: spell start (bool) and elapsed duration of the ongoing spell (0 when off)."""
    order = np.lexsort((frame["month"].to_numpy(), frame["person_id"].to_numpy()))
    on = frame["on_sa"].to_numpy().astype(bool)[order]
    pid = frame["person_id"].to_numpy()[order]
    first = np.ones(len(pid), dtype=bool)
    first[1:] = pid[1:] != pid[:-1]
    prev_on = np.zeros(len(pid), dtype=bool)
    prev_on[1:] = on[:-1]
    prev_on &= ~first
    start = on & ~prev_on & ~first
    run_break = first | (on != np.concatenate([[False], on[:-1]]))
    position = np.arange(len(on)) - np.maximum.accumulate(np.where(run_break, np.arange(len(on)), 0))
    duration = np.where(on, position + 1, 0)
    out_start, out_dur = np.empty_like(start), np.empty_like(duration)
    out_start[order], out_dur[order] = start, duration
    return out_start, out_dur


def city_series(
    cohort: pd.DataFrame,
    *,
    freq: str = "month",
    recipients_in: int | Sequence[int] | None = 2019,
    suppress: bool = True,
    threshold: int | None = None,
) -> pd.DataFrame:
    """Build disclosure-flagged city-level series from the ``social_assistance`` cohort frame.

    Parameters
    ----------
    cohort
        ``store.cohort("social_assistance")`` (not modified).
    freq
        ``"month"`` or ``"year"``.
    recipients_in
        Year(s) defining the at-risk group ``recipients_<years>`` whose employment rate is
        added (None: no such group).
    suppress
        Blank ``value``, ``count`` and ``n`` of suppressed cells (primary and secondary,
        see the module notes); the flags are always given.
    threshold
        Disclosure threshold (default ``config.DISCLOSURE.threshold``).

    Returns
    -------
    DataFrame
        Long: ``city, municipality_id, bergen, period, post, measure, group, value, count, n,
        below_threshold, suppressed``. Measures: ``persons`` (adults observed), ``recipients`` (persons
        on social assistance in the period), ``recipient_rate``, ``new_spells``,
        ``mean_spell_duration`` (elapsed months of ongoing spells, over recipient-months),
        ``employment_rate`` (over person-months) for group ``all``, each of :data:`GROUPS`
        and ``recipients_<years>``. ``count`` is the number of persons/spells the value
        rests on, ``n`` the denominator; a cell is below the threshold when ``count < t``,
        or for proportions also when ``n - count < t`` (the complement would be disclosed);
        ``suppressed`` adds the secondary suppressions that keep the flagged cells from
        being recovered from the published ones. ``count`` and ``n`` are nullable
        integers (``Int64``), missing where blanked.
    """
    _checks.check_choice(freq, FREQUENCIES, "freq")
    limit = config.DISCLOSURE.threshold if threshold is None else threshold
    if not isinstance(limit, int | np.integer) or limit < 1:
        raise SpecificationError(
            format_error(what="threshold", expected="a positive integer", found=repr(threshold), fix="use e.g. 5")
        )
    frame = _cohort(cohort)
    years = _years(recipients_in)
    start, duration = _spells(frame)
    period = frame["month"] if freq == "month" else frame["year"]
    work = pd.DataFrame(
        {
            "city": frame["city"].to_numpy(),
            "period": period.to_numpy(),
            "person_id": frame["person_id"].to_numpy(),
            "on_sa": frame["on_sa"].to_numpy().astype(bool),
            "employed": frame["employed"].to_numpy(dtype=float),
            "start": start,
            "duration": duration.astype(float),
            "group": _group(frame["nonwestern"], frame["children"]),
        }
    )
    keys = ["city", "period"]
    meta = frame.groupby([frame["city"], period.rename("period")], sort=True).agg(
        municipality_id=("municipality_id", "first"), bergen=("bergen", "first"), post=("post", "min")
    )
    rows: list[pd.DataFrame] = []

    def add(measure: str, group: str, value: pd.Series, count: pd.Series, n: pd.Series, proportion: bool) -> None:
        table = pd.DataFrame({"value": value, "count": count, "n": n}).reindex(meta.index)
        table[["count", "n"]] = table[["count", "n"]].fillna(0)
        below = table["count"] < limit
        if proportion:
            below |= (table["n"] - table["count"]) < limit
        table["below_threshold"] = below.to_numpy()
        table["measure"], table["group"] = measure, group
        rows.append(table)

    persons = work.groupby(keys)["person_id"].nunique()
    recipients = work[work["on_sa"]].groupby(keys)["person_id"].nunique().reindex(persons.index, fill_value=0)
    add("persons", "all", persons.astype(float), persons, persons, False)
    add("recipients", "all", recipients.astype(float), recipients, persons, False)
    add("recipient_rate", "all", recipients / persons, recipients, persons, True)
    spells = work.groupby(keys)["start"].sum()
    add("new_spells", "all", spells.astype(float), spells, persons, False)
    ongoing = work[work["on_sa"]].groupby(keys)["duration"].agg(["mean", "size"])
    add("mean_spell_duration", "all", ongoing["mean"], recipients, recipients, False)
    groups: list[tuple[str, pd.Series]] = [("all", pd.Series(True, index=work.index))]
    groups += [(g, pd.Series(work["group"] == g, index=work.index)) for g in GROUPS]
    if years:
        flag = _recipients(frame, years)
        groups.append(
            (
                f"recipients_{'_'.join(map(str, years))}",
                pd.Series(work["person_id"].map(flag).to_numpy(), index=work.index),
            )
        )
    for label, mask in groups:
        sub = work[mask.to_numpy()]
        pm = sub.groupby(keys)["employed"].agg(["mean", "size", "sum"])
        people = sub.groupby(keys)["person_id"].nunique()
        employed_people = (
            sub[sub["employed"] > 0].groupby(keys)["person_id"].nunique().reindex(people.index, fill_value=0)
        )
        add("employment_rate", label, pm["mean"], employed_people, people, True)
    out = pd.concat(rows).join(meta, how="left").reset_index()
    out["suppressed"] = _secondary(out, limit)
    hidden = out["suppressed"].to_numpy(dtype=bool) & suppress
    for column in ("count", "n"):
        out[column] = pd.arrays.IntegerArray(out[column].to_numpy(dtype=np.int64), hidden.copy())
    out.loc[hidden, "value"] = np.nan
    columns = [
        "city",
        "municipality_id",
        "bergen",
        "period",
        "post",
        "measure",
        "group",
        "value",
        "count",
        "n",
        "below_threshold",
        "suppressed",
    ]
    return out[columns].sort_values(["measure", "group", "city", "period"], ignore_index=True)


def _passes(count: float, n: float, limit: int) -> bool:
    """Return whether a proportion cell (or an aggregate of cells) passes the threshold rule."""
    return bool(count >= limit and n - count >= limit)


def _secondary(out: pd.DataFrame, limit: int) -> np.ndarray:
    """Return the suppression flags: primary (``below_threshold``) plus secondary (module notes)."""
    flags = out["below_threshold"].to_numpy(dtype=bool).copy()
    keys = pd.MultiIndex.from_frame(out[["city", "period"]])

    def cells(measure: str, group: str = "all") -> np.ndarray:
        return np.flatnonzero(((out["measure"] == measure) & (out["group"] == group)).to_numpy())

    def key_flags(rows: np.ndarray) -> pd.Series:
        return pd.Series(flags[rows], index=keys[rows])

    # 2. persons suppressed -> every cell with the persons count as denominator
    persons = key_flags(cells("persons"))
    for measure in ("recipients", "recipient_rate", "new_spells", "employment_rate"):
        rows = cells(measure)
        flags[rows] |= persons.reindex(keys[rows]).to_numpy(dtype=bool)
    # 3. recipients, recipient_rate and mean_spell_duration together
    linked = [cells(m) for m in ("recipients", "recipient_rate", "mean_spell_duration")]
    joint = np.zeros(len(linked[0]), dtype=bool)
    for rows in linked:
        joint |= key_flags(rows).reindex(keys[linked[0]]).to_numpy(dtype=bool)
    joint_by_key = pd.Series(joint, index=keys[linked[0]])
    for rows in linked:
        flags[rows] |= joint_by_key.reindex(keys[rows]).to_numpy(dtype=bool)
    # 4. the employment-rate partition: all = sum of the groups
    parts = [cells("employment_rate", g) for g in ("all", *GROUPS)]
    index = keys[parts[0]]
    aligned = [pd.Series(r, index=keys[r]).reindex(index).to_numpy() for r in parts]
    rows_matrix = np.column_stack(aligned)  # city-period x (all, groups): row numbers of ``out``
    count = out["count"].to_numpy(dtype=float)[rows_matrix]
    n = out["n"].to_numpy(dtype=float)[rows_matrix]
    supp = flags[rows_matrix]
    for k in np.flatnonzero(supp.any(axis=1)).tolist():
        hidden = supp[k, 1:]
        while True:
            if hidden.any() and _passes(count[k, 1:][hidden].sum(), n[k, 1:][hidden].sum(), limit):
                break
            if not hidden.any() and not supp[k, 0]:
                break
            candidates = np.flatnonzero(~hidden)
            if not len(candidates):
                break
            order = np.lexsort((count[k, 1:][candidates], n[k, 1:][candidates]))
            hidden[candidates[order[0]]] = True
        supp[k, 1:] = hidden
    flags[rows_matrix] = supp
    return flags


__all__ = ["GROUPS", "city_series", "person_panel"]

"""Binomial cells for the multilevel model, made safe to export, and their pseudo-persons.

With discrete person-level covariates the multilevel model's likelihood depends on the
persons only through the cells *municipality x treatment x covariate pattern*: the
number of persons ``n`` and of successes (see :mod:`o4o_causal.bayes.design`). A frame
of pseudo-persons expanded from the cells (:func:`expand_cells`) therefore gives exactly
the same likelihood as the persons themselves.

Disclosure control of the cells (:func:`protected_cells`). A cell is *safe* when it
holds at least ``threshold`` persons **and** at least ``threshold`` successes and
failures (otherwise it tells that (almost) everyone in a small group is or is not
employed). Unsafe cells are never dropped silently:

1. **Units.** A municipality stands alone only if both treatment arms are safe as a
   whole. Other municipalities of the country are pooled into *pool units* of
   municipalities alike in the municipality-level confounders (quantile bins of
   ``BundleSpec.pool_by``); pools that are still unsafe go into one
   remainder pool; if even that is unsafe, the smallest safe pool (then municipality)
   is absorbed into it. Pool covariates are the unweighted means over the member
   municipalities (municipality attributes, not persons).
2. **Patterns.** Within unit x arm, unsafe cells are merged by dropping the last cell
   covariates first (coarser patterns); a covariate on which the merged persons differ
   is *imputed* with the country's mean over the published cells that keep it:
   derivable from the export, so it reveals nothing new -- unlike the merged persons'
   own mean, which would give away the sub-cell counts (when no cell keeps the
   covariate: the country mean rounded to one decimal). What is still unsafe is
   absorbed into the smallest safe cell of the unit x arm.
3. Only when a whole country cannot be made safe are its cells suppressed.

Every unit x arm is thus published as a complete partition into safe cells, so no
small count can be recovered by subtracting cells from margins. Every pooling, merge
and suppression is written to the log (without the small counts).

Residual disclosure risk (review of the whole bundle, not only this table):

* *Differencing against group sizes.* A merged cell hides how its persons split on
  the merged covariates, and a pool hides its municipalities' own counts; exact group
  sizes elsewhere in the bundle (GATE ``n``, ``n_treated``, ``n_control`` by
  ``nonwestern`` or ``joint_case_management``) minus the exact cells would reveal
  those splits (a review showed a pooled 8-person municipality's 4 + 4 recovered
  exactly). Closed: GATE group sizes are published after controlled rounding to
  multiples of the threshold (:func:`o4o_causal.federation.disclosure.round_block_counts`),
  so such a difference is uncertain over at least ``threshold`` values. Exact ATE/ATT
  totals and municipality-effect sizes equal sums of published cells: nothing new.
* *What the log says.* It names each pooled municipality and the pool it joined, and
  that "an arm is below the rule" -- the equivalent of marking a suppressed cell in a
  published table -- never which count, nor its value.
* *Pool and imputed covariates.* Pool covariates are unweighted means of municipality
  attributes (not person data); imputed covariates are derivable from the cells.
* Not covered here: the double-ML estimates themselves (means of scores over groups
  of at least ``threshold`` persons) follow the usual rule for estimates only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from o4o_causal.federation.spec import BundleSpec

#: Columns of the suppression log shared by every table of a bundle.
LOG_COLUMNS = ["table", "action", "location", "reason"]


@dataclass(frozen=True)
class _Cell:
    values: tuple[float | None, ...]  # cell covariates; None = persons differ (imputed later)
    n: int
    s: int
    members: int = 1


def safe(n: int, s: int, threshold: int) -> bool:
    """Return True if ``n`` persons with ``s`` successes may be published at ``threshold``."""
    return n >= threshold and s >= threshold and n - s >= threshold


def exact_cells(persons: pd.DataFrame, spec: BundleSpec) -> pd.DataFrame:
    """Return the exact cells (no disclosure control): never export these.

    Parameters
    ----------
    persons
        Prepared analysis frame (:meth:`BundleSpec.prepare`), one row per person.
    spec
        The analysis spec.

    Returns
    -------
    pandas.DataFrame
        ``country, <cluster>, <treatment>, <cell covariates>, <municipality covariates>,
        n, successes``, one row per municipality x treatment x pattern.
    """
    keys = ["country", spec.cluster, spec.treatment, *spec.cell_covariates]
    cells = (
        persons.groupby(keys, sort=True, observed=True)[spec.outcome]
        .agg(n="size", successes="sum")
        .reset_index()
        .astype({"n": np.int64, "successes": np.int64})
    )
    muni = persons.groupby(spec.cluster, sort=True)[list(spec.municipality_covariates)].first()
    return cells.merge(muni, left_on=spec.cluster, right_index=True, how="left")


def _arm_totals(cells: pd.DataFrame, key: str, spec: BundleSpec) -> pd.DataFrame:
    totals = cells.groupby([key, spec.treatment])[["n", "successes"]].sum().unstack(spec.treatment, fill_value=0)
    full = pd.MultiIndex.from_product([["n", "successes"], [0, 1]])
    return pd.DataFrame(totals).reindex(columns=full, fill_value=0)


def _unit_safe(totals: pd.DataFrame, threshold: int) -> pd.Series:
    ok = pd.Series(True, index=totals.index)
    for arm in (0, 1):
        n, s = totals[("n", arm)], totals[("successes", arm)]
        ok &= (n >= threshold) & (s >= threshold) & (n - s >= threshold)
    return ok


def assign_units(cells: pd.DataFrame, spec: BundleSpec, threshold: int, log: list[dict[str, str]]) -> pd.Series:
    """Return the unit (municipality or pool id, ``""`` = suppressed) of every municipality of one country."""
    country = str(cells["country"].iloc[0])
    totals = _arm_totals(cells, spec.cluster, spec)
    alone = _unit_safe(totals, threshold)
    unit = pd.Series(totals.index.astype(str), index=totals.index)
    small = _pool_keys(cells, spec, ~alone)
    keys = small.apply(lambda r: tuple(r.tolist()), axis=1) if len(small.columns) else pd.Series(0, small.index)
    for k, key in enumerate(sorted(set(keys.tolist()))):
        unit[keys.index[keys == key]] = f"{country}-pool-{k + 1:02d}"
    for m in small.index:
        log.append(_entry("pooled", f"municipality {m}", f"pooled into {unit[m]}: an arm below the rule"))
    rest = f"{country}-pool-rest"
    while True:
        pooled_totals = _arm_totals(cells.assign(_unit=cells[spec.cluster].map(unit)), "_unit", spec)
        ok = _unit_safe(pooled_totals, threshold)
        bad = [u for u in ok.index[~ok] if u != ""]
        if not bad:
            return unit
        if bad != [rest]:
            for u in bad:
                if u != rest:
                    log.append(_entry("pooled", f"pool {u}", f"merged into {rest}: still below the rule"))
            unit[unit.isin(bad)] = rest
            continue
        donors = pooled_totals.index[ok & (pooled_totals.index != "")]
        if len(donors) == 0:
            unit[unit == rest] = ""
            log.append(_entry("suppressed", f"country {country}", "no safe partition of the cells exists"))
            continue
        sizes = pooled_totals.loc[donors, [("n", 0), ("n", 1)]].sum(axis=1)
        pools = [d for d in donors if str(d).startswith(f"{country}-pool-")]
        donor = min(pools or list(donors), key=lambda d: (int(sizes[d]), str(d)))
        unit[unit == donor] = rest
        log.append(_entry("pooled", f"unit {donor}", f"absorbed into {rest} to make it safe"))


def _pool_keys(cells: pd.DataFrame, spec: BundleSpec, small: pd.Series) -> pd.DataFrame:
    """Pooling keys of the small municipalities: quantile bins of ``spec.pool_by`` columns.

    Pooling municipalities alike in the municipality-level confounders keeps the
    adjustment for them inside a pool (pooling by configuration only would mix high- and
    low-resource municipalities and confound the pool's treated-vs-untreated contrast).
    """
    muni = cells.groupby(spec.cluster)[list(spec.pool_by)].first().loc[small.to_numpy()]
    out = pd.DataFrame(index=muni.index)
    for c in spec.pool_by:
        bins = min(spec.pool_bins, int(muni[c].nunique()))
        out[c] = pd.qcut(muni[c].rank(method="first"), bins, labels=False) if bins > 1 else 0
    return out


def _entry(action: str, location: str, reason: str, table: str = "cells") -> dict[str, str]:
    return {"table": table, "action": action, "location": location, "reason": reason}


def _combine(items: list[_Cell]) -> _Cell:
    values = tuple(v[0] if len(set(v)) == 1 else None for v in zip(*(i.values for i in items), strict=True))
    return _Cell(values, sum(i.n for i in items), sum(i.s for i in items), sum(i.members for i in items))


def coarsen(cells: list[_Cell], n_cols: int, threshold: int) -> tuple[list[_Cell], bool]:
    """Merge the unsafe cells of one unit x arm into safe ones; return cells and success flag."""
    published = [c for c in cells if safe(c.n, c.s, threshold)]
    pool = [c for c in cells if not safe(c.n, c.s, threshold)]
    for level in range(1, n_cols + 1):
        groups: dict[tuple[float | None, ...], list[_Cell]] = defaultdict(list)
        for c in pool:
            groups[c.values[: n_cols - level]].append(c)
        pool = []
        for items in groups.values():
            merged = _combine(items)
            (published if safe(merged.n, merged.s, threshold) else pool).append(merged)
    if pool:
        rest = pool[0]
        while not safe(rest.n, rest.s, threshold) and published:
            smallest = min(range(len(published)), key=lambda i: published[i].n)
            rest = _combine([rest, published.pop(smallest)])
        if not safe(rest.n, rest.s, threshold):
            return [], False
        published.append(rest)
    return published, True


def protected_cells(
    persons: pd.DataFrame, spec: BundleSpec, threshold: int
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Return the safe cells of one country's persons and the log of every pooling and merge.

    Parameters
    ----------
    persons
        Prepared analysis frame of one country.
    spec
        The analysis spec.
    threshold
        Minimum persons, successes and failures per published cell.

    Returns
    -------
    tuple
        Cells (``country, <cluster>, <treatment>, <cell covariates>, <municipality
        covariates>, <interactions>, n, successes, imputed, unit_kind``) and log rows.
    """
    exact = exact_cells(persons, spec)
    log: list[dict[str, str]] = []
    unit = assign_units(exact, spec, threshold, log)
    exact = exact.assign(_unit=exact[spec.cluster].map(unit))
    cols = spec.cell_covariates
    rows = []
    for (u, arm), group in exact[exact["_unit"] != ""].groupby(["_unit", spec.treatment], sort=True):
        raw = [
            _Cell(tuple(float(v) for v in vals), int(n), int(s))
            for *vals, n, s in group[[*cols, "n", "successes"]].itertuples(index=False)
        ]
        merged, ok = coarsen(raw, len(cols), threshold)
        if not ok:  # cannot happen for a safe unit; kept so a future change cannot export silently
            log.append(_entry("suppressed", f"unit {u}, {spec.treatment}={arm}", "no safe partition of the cells"))
        n_merged = sum(1 for c in merged if c.members > 1)
        if n_merged:
            log.append(_entry("merged", f"unit {u}, {spec.treatment}={arm}", f"{n_merged} coarser cell(s) formed"))
        for c in merged:
            values = [np.nan if v is None else v for v in c.values]
            rows.append({"_unit": u, spec.treatment: arm, **dict(zip(cols, values, strict=True))})
            rows[-1].update(n=c.n, successes=c.s)
    cells = pd.DataFrame(rows, columns=["_unit", spec.treatment, *cols, "n", "successes"])
    fallback = {c: round(float(persons[c].mean()), 1) for c in cols}
    return _finish(cells.astype({c: float for c in cols}), exact, unit, spec, fallback), log


def _finish(
    cells: pd.DataFrame, exact: pd.DataFrame, unit: pd.Series, spec: BundleSpec, fallback: dict[str, float]
) -> pd.DataFrame:
    """Impute merged covariates, attach unit covariates and interactions; final column order."""
    country = str(exact["country"].iloc[0])
    cols = list(spec.cell_covariates)
    imputed = cells[cols].isna()
    for c in cols:
        cells[c] = _impute(cells, c, fallback[c])
    cells["imputed"] = imputed.apply(lambda r: ",".join(c for c in cols if r[c]), axis=1) if len(cells) else ""
    muni = exact.groupby(spec.cluster)[list(spec.municipality_covariates)].first()
    muni["_unit"] = muni.index.map(unit.to_dict())
    unit_cov = muni[muni["_unit"] != ""].groupby("_unit")[list(spec.municipality_covariates)].mean()
    cells = cells.merge(unit_cov, left_on="_unit", right_index=True, how="left")
    for new, person_col, muni_col in spec.interactions:
        product = cells[person_col] * cells[muni_col]
        # products of imputed and pooled values would make the column look continuous to the
        # model (> 20 values -> person-level fit); one decimal keeps it discrete (exact 0/1 stay)
        is_exact = ~imputed[person_col].to_numpy() & ~cells["_unit"].str.contains("-pool-").to_numpy()
        cells[new] = product.where(is_exact, product.round(1))
    cells["unit_kind"] = np.where(cells["_unit"].str.contains("-pool-"), "pool", "municipality")
    cells = cells.rename(columns={"_unit": spec.cluster})
    cells.insert(0, "country", country)
    order = ["country", spec.cluster, spec.treatment, *cols, *spec.municipality_covariates]
    order += [i[0] for i in spec.interactions] + ["n", "successes", "imputed", "unit_kind"]
    return cells[order].sort_values([spec.cluster, spec.treatment, *cols]).reset_index(drop=True)


def _impute(cells: pd.DataFrame, col: str, fallback: float) -> pd.Series:
    """Fill missing ``col`` with the n-weighted mean over the country's published cells that keep it.

    Computed from published cells only, so it discloses nothing new; ``fallback`` when no
    cell keeps the covariate. (Arm-specific means were tried and rejected: an imputed
    value that differs by arm is collinear with the treatment and biased the effect.)
    """
    kept = cells[col].notna()
    weights = cells.loc[kept, "n"].to_numpy(dtype=float)
    fill = float(np.average(cells.loc[kept, col], weights=weights)) if weights.sum() else fallback
    return cells[col].fillna(round(fill, 6))


def with_interactions(persons: pd.DataFrame, spec: BundleSpec) -> pd.DataFrame:
    """Return a copy of a prepared person frame with the spec's interaction columns added."""
    out = persons.copy()
    for new, person_col, muni_col in spec.interactions:
        out[new] = out[person_col] * out[muni_col]
    return out


def expand_cells(cells: pd.DataFrame, spec: BundleSpec) -> pd.DataFrame:
    """Expand cells into pseudo-persons: ``successes`` rows with outcome 1, the rest 0.

    The pseudo-persons have exactly the cells' counts, so the multilevel model's
    likelihood on them equals the binomial likelihood of the cells.

    Parameters
    ----------
    cells
        Cells with ``n`` and ``successes`` (from one or several bundles).
    spec
        The analysis spec (outcome name).

    Returns
    -------
    pandas.DataFrame
        One row per pseudo-person: the cell columns (without ``n``, ``successes``) plus the outcome.
    """
    n = cells["n"].to_numpy(dtype=np.int64)
    s = cells["successes"].to_numpy(dtype=np.int64)
    if np.any(n < 0) or np.any(s < 0) or np.any(s > n):
        from o4o_causal.exceptions import DataError, format_error

        raise DataError(
            format_error(
                what="cells columns 'n' and 'successes'",
                expected="0 <= successes <= n",
                found=f"{int(np.sum((s > n) | (n < 0) | (s < 0)))} invalid rows",
                fix="the cell table is corrupted; rebuild the bundle",
            )
        )
    rows = np.repeat(np.arange(len(cells)), n)
    out = cells.drop(columns=["n", "successes"]).iloc[rows].reset_index(drop=True)
    rank = np.arange(rows.size) - np.repeat(np.cumsum(n) - n, n)
    out[spec.outcome] = (rank < np.repeat(s, n)).astype(np.int64)
    return out


def cells_summary(cells: pd.DataFrame, exact: pd.DataFrame, spec: BundleSpec) -> dict[str, int]:
    """Return counts describing what disclosure control did to one country's cells."""
    persons = int(exact["n"].sum())
    published = int(cells["n"].sum())
    return {
        "persons": persons,
        "persons_published": published,
        "persons_suppressed": persons - published,
        "persons_in_imputed_cells": int(cells.loc[cells["imputed"] != "", "n"].sum()),
        "exact_cells": len(exact),
        "published_cells": len(cells),
        "municipalities": int(exact[spec.cluster].nunique()),
        "municipalities_alone": int(cells.loc[cells["unit_kind"] == "municipality", spec.cluster].nunique()),
        "pool_units": int(cells.loc[cells["unit_kind"] == "pool", spec.cluster].nunique()),
    }


__all__ = [
    "LOG_COLUMNS",
    "assign_units",
    "cells_summary",
    "coarsen",
    "exact_cells",
    "expand_cells",
    "protected_cells",
    "safe",
    "with_interactions",
]

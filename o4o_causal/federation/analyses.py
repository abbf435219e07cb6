"""The analyses one country runs on its own microdata; each returns only aggregates.

* :func:`effect_tables` -- double-ML ATE, ATT and group effects (municipality-clustered)
  and per-municipality effects, from one :func:`~o4o_causal.dml.estimate_cate` fit.
* :func:`trajectory_tables` -- trajectory type shares and aggregate type profiles.

Everything returned may still hold small groups; :mod:`o4o_causal.federation.bundle`
passes each table through :mod:`o4o_causal.federation.disclosure` before writing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from o4o_causal.federation.disclosure import hide_small, round_block_counts
from o4o_causal.federation.spec import BundleSpec

ESTIMATE_COLUMNS = [
    "country",
    "estimand",
    "by",
    "group",
    "n",
    "n_treated",
    "n_control",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "ci_level",
]
MUNICIPALITY_COLUMNS = [
    "country",
    "municipality_id",
    "n",
    "n_treated",
    "n_control",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
]


def _arms(frame: pd.DataFrame, spec: BundleSpec, by: str | None) -> pd.DataFrame:
    key = frame[by].astype(str) if by else pd.Series("all", index=frame.index)
    arms = pd.crosstab(key, frame[spec.treatment]).reindex(columns=[0, 1], fill_value=0)
    return arms.rename(columns={0: "n_control", 1: "n_treated"})


def effect_tables(
    frame: pd.DataFrame, spec: BundleSpec, *, country: str, units: pd.Series, threshold: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, str]]]:
    """Fit DML on one country and return (estimates, municipality effects, log rows).

    Group sizes of the GATE rows (``n``, ``n_treated``, ``n_control``) are published
    after controlled rounding to multiples of ``threshold``
    (:func:`~o4o_causal.federation.disclosure.round_block_counts`): exact group sizes,
    minus the exact counts of the cells and municipality effects, would tell how many
    persons of a merged cell -- or of a small pooled municipality -- fall in each group.
    ATE/ATT rows keep the exact arm totals (the cells add up to them anyway).

    Parameters
    ----------
    frame
        Prepared person frame of one country.
    spec
        The analysis spec.
    country
        Country code written into the tables.
    units
        Municipality -> cell unit (:func:`~o4o_causal.federation.cells.assign_units`):
        only municipalities standing alone in the cells get an effect row, so the two
        tables never disagree about which municipality groups are safe.
    threshold
        Disclosure threshold (and rounding base of the GATE group sizes).
    seed
        Seed of the DML fit.
    """
    fit = _fit_dml(frame, spec, seed=seed)
    exact = _estimate_rows(fit, frame, spec).assign(country=country, ci_level=fit.ci_level)[ESTIMATE_COLUMNS]
    estimates, log = hide_small(
        exact,
        counts=["n", "n_treated", "n_control"],
        values=["estimate", "se", "ci_low", "ci_high"],
        threshold=threshold,
        name="estimates",
        labels=["country", "estimand", "by", "group"],
        block="by",
    )
    estimates = _round_gate_counts(estimates, exact, threshold)
    municipal = _municipality_effects(fit, frame, spec, country=country, units=units)
    return estimates, municipal, log


def _fit_dml(frame: pd.DataFrame, spec: BundleSpec, *, seed: int) -> Any:
    from o4o_causal.dml import estimate_cate

    keep = [c for c in spec.gate_by if c not in spec.effect_modifiers]
    return estimate_cate(
        frame,
        outcome=spec.outcome,
        treatment=spec.treatment,
        effect_modifiers=list(spec.effect_modifiers),
        controls=list(spec.controls),
        cluster=spec.cluster,
        keep=keep or None,
        folds=spec.folds,
        learner=spec.learner,
        seed=seed,
        progress=False,
    )


def _estimate_rows(fit: Any, frame: pd.DataFrame, spec: BundleSpec) -> pd.DataFrame:
    """ATE, ATT and GATE rows with exact group sizes (never exported as they are)."""
    all_arms = _arms(frame, spec, None).iloc[0]
    rows = []
    for est in (fit.ate(), fit.att()):
        rows.append(
            {"estimand": est.estimand, "by": "", "group": "all", "n": est.n, **all_arms.to_dict()}
            | {"estimate": est.value, "se": est.se, "ci_low": est.ci_low, "ci_high": est.ci_high}
        )
    for col in spec.gate_by:
        arms = _arms(frame, spec, col)
        for r in fit.gate(col).to_dict("records"):
            group = str(r["group"])
            rows.append(
                {"estimand": "GATE", "by": col, "group": group, "n": r["n"], **arms.loc[group].to_dict()}
                | {k: r[k] for k in ("estimate", "se", "ci_low", "ci_high")}
            )
    return pd.DataFrame(rows)


def _round_gate_counts(shown: pd.DataFrame, exact: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Put the controlled-rounded arm sizes (and their sum as ``n``) into the shown GATE rows."""
    gate = (exact["estimand"] == "GATE").to_numpy()
    if not gate.any():
        return shown
    arms = ["n_treated", "n_control"]
    rounded = round_block_counts(exact.loc[gate], counts=arms, block="by", base=threshold)
    rounded["n"] = rounded["n_treated"] + rounded["n_control"]
    out = shown.copy()
    keep = gate & out["n"].notna().to_numpy()
    cols = ["n", *arms]
    out.loc[keep, cols] = rounded.loc[out.index[keep], cols].to_numpy(dtype=float)
    return out


def _municipality_effects(
    fit: object, frame: pd.DataFrame, spec: BundleSpec, *, country: str, units: pd.Series
) -> pd.DataFrame:
    """Per-municipality DR-score means (person-level SEs: one cluster per group)."""
    gate = fit.gate(spec.cluster, clustered=False)  # type: ignore[attr-defined]
    arms = _arms(frame, spec, spec.cluster)
    alone = [str(m) for m, u in units.items() if str(m) == str(u)]
    table = gate[gate["group"].astype(str).isin(alone)].rename(columns={"group": "municipality_id"})
    table = table.assign(country=country, municipality_id=table["municipality_id"].astype(str))
    table = table.join(arms, on="municipality_id")
    out: pd.DataFrame = table[MUNICIPALITY_COLUMNS].reset_index(drop=True)
    return out


def trajectory_tables(
    frame: pd.DataFrame, spec: BundleSpec, *, country: str, threshold: int, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, str]]]:
    """Return (type shares, type profiles, log rows) of one country's trajectory typology.

    Profiles (share of person-months per state and end-state shares per type) are what
    :func:`~o4o_causal.trajectories.match_types` needs to match types across countries.
    A profile share is blanked when fewer than ``threshold`` persons of the type are
    (ever, resp. at the end) in that state.
    """
    from o4o_causal import trajectories

    seqs = trajectories.sequences(frame, recode=trajectories.MERGE_MEASURES)
    options: dict[str, object] = {"method": spec.trajectory_distance}
    if spec.trajectory_distance == "OMspell":
        options["expcost"] = 0.5
    dist = trajectories.om_distances(seqs, **options)  # type: ignore[arg-type]
    typ = trajectories.typology(dist, k=spec.trajectory_k, seed=seed, ward=spec.trajectory_ward)
    shares = typ.shares(cluster=spec.cluster).assign(country=country)
    shares, log = hide_small(
        shares,
        counts=["n"],
        values=["share", "se", "ci_low", "ci_high"],
        threshold=threshold,
        name="trajectory_shares",
        labels=["country", "type", "label"],
        block="country",
    )
    shares = shares[["country", "type", "label", "n", "share", "se", "ci_low", "ci_high", "total"]]
    # only the types shown in the shares: a profile carries the type's n, so a type hidden
    # there (primary *or secondary*) must not reappear here (total - shown = the small type)
    profiles = typ.profiles()
    profiles = profiles[profiles["type"].isin(shares.loc[shares["n"].notna(), "type"])].copy()
    codes, alphabet = typ.sequences.codes, typ.sequences.alphabet
    for t in profiles["type"]:
        members = codes[typ.labels == t]
        persons = {
            "time": [int(np.any(members == a, axis=1).sum()) for a in range(len(alphabet))],
            "end": [int((members[:, -1] == a).sum()) for a in range(len(alphabet))],
        }
        for prefix, counts in persons.items():
            for a in _blanked(counts, threshold):
                profiles.loc[profiles["type"] == t, f"{prefix}:{alphabet[a]}"] = np.nan
    profiles.insert(0, "country", country)
    return shares, profiles.reset_index(drop=True), log


def _blanked(counts: list[int], threshold: int) -> list[int]:
    """States to blank: those with 0 < persons < threshold, plus the next smallest (shares sum to 1)."""
    small = [a for a, c in enumerate(counts) if 0 < c < threshold]
    if small:
        others = [a for a, c in enumerate(counts) if c >= threshold]
        if others:
            small.append(min(others, key=lambda a: counts[a]))
    return small


__all__ = ["ESTIMATE_COLUMNS", "MUNICIPALITY_COLUMNS", "effect_tables", "trajectory_tables"]

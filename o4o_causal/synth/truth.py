"""Assembling the ground truth of a world from its cohort blocks."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from o4o_causal.synth._common import CohortBlock
from o4o_causal.synth.world import Truth, harmonised_ids

#: Person-level columns of the core cohort used for subgroup truths.
_SUBGROUPS: dict[str, Callable[[pd.DataFrame, pd.DataFrame], pd.Series]] = {
    "country": lambda p, m: p["country"],
    "nonwestern": lambda p, m: (p["background"] == "nonwestern").astype(int),
    "health_problem": lambda p, m: p["health_problem"],
    "children": lambda p, m: (p["n_children"] > 0).astype(int),
    "health_employment_integration": lambda p, m: m["health_employment_integration"],
    "joint_case_management": lambda p, m: m["joint_case_management"],
}


def _core_truth(blocks: list[CohortBlock], ids: tuple[np.ndarray, ...]) -> pd.DataFrame:
    frames = []
    for i, block in enumerate(blocks):
        if block.cohort != "core":
            continue
        t = block.truth["core"].drop(columns="row").copy()
        t.insert(0, "person_id", harmonised_ids(block.country, ids[i]))
        t.insert(1, "country", block.country)
        t.insert(2, "municipality_id", block.persons["municipality_id"].to_numpy())
        t["background"] = block.persons["background"].to_numpy()
        t["health_problem"] = block.persons["health_problem"].to_numpy()
        t["n_children"] = block.persons["n_children"].to_numpy()
        frames.append(t)
    return pd.concat(frames, ignore_index=True).sort_values("person_id", ignore_index=True)


def _effect_rows(core: pd.DataFrame, munis: pd.DataFrame) -> pd.DataFrame:
    c = core[core["complete"] == 1]
    m = munis.set_index("municipality_id").loc[c["municipality_id"]].reset_index()
    m.index = c.index
    rows = [
        {
            "estimand": "ATE",
            "outcome": "employed_24",
            "group": "all",
            "level": "",
            "value": c["cate"].mean(),
            "n": len(c),
        },
        {
            "estimand": "ATT",
            "outcome": "employed_24",
            "group": "all",
            "level": "",
            "value": c.loc[c["treated"] == 1, "cate"].mean(),
            "n": int(c["treated"].sum()),
        },
        {
            "estimand": "ATE",
            "outcome": "months_employed_24",
            "group": "all",
            "level": "",
            "value": (c["m1"] - c["m0"]).mean(),
            "n": len(c),
        },
        {
            "estimand": "SATE",
            "outcome": "earnings_24",
            "group": "all",
            "level": "",
            "value": (c["y1_earnings_24"] - c["y0_earnings_24"]).mean(),
            "n": len(c),
        },
    ]
    for name, make in _SUBGROUPS.items():
        key = make(c, m)
        for level, sub in c.groupby(key):
            rows.append(
                {
                    "estimand": "GATE",
                    "outcome": "employed_24",
                    "group": name,
                    "level": str(level),
                    "value": sub["cate"].mean(),
                    "n": len(sub),
                }
            )
    return pd.DataFrame(rows)


def build_truth(
    blocks: list[CohortBlock], ids: tuple[np.ndarray, ...], munis: pd.DataFrame, deviance: pd.DataFrame
) -> Truth:
    """Collect every cohort's truth under harmonised person ids."""
    core = _core_truth(blocks, ids)
    complete = core[core["complete"] == 1]
    muni_effects = (
        complete.groupby("municipality_id")
        .agg(cate=("cate", "mean"), n=("cate", "size"), treated_share=("treated", "mean"))
        .reset_index()
    )
    waa_frames, reform = [], pd.DataFrame()
    for i, block in enumerate(blocks):
        if block.cohort == "waa":
            w = block.truth["waa_types"].drop(columns="row")
            w.insert(0, "person_id", harmonised_ids(block.country, ids[i]))
            w.insert(1, "country", block.country)
            waa_frames.append(w)
        if block.cohort == "social_assistance":
            reform = block.truth["reform_effects"]
    waa_types = pd.concat(waa_frames, ignore_index=True).sort_values("person_id", ignore_index=True)
    dev = deviance.merge(munis[["municipality_id", "country", "name"]], on="municipality_id")
    return Truth(
        core=core,
        core_effects=_effect_rows(core, munis),
        municipality_effects=muni_effects,
        waa_types=waa_types,
        reform_effects=reform,
        neet_deviance=dev,
    )

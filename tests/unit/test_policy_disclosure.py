"""Disclosure control of ``city_series``: suppressed cells cannot be recovered from the published ones.

The attacker is independent of the implementation: every published number of a city-month
becomes a linear constraint (persons, recipients, rates, the partition of ``all`` into
the four groups, ``0 <= employed <= persons``), and linear programming bounds every
suppressed quantity. A quantity whose lower and upper bound coincide is disclosed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from o4o_causal.policy import city_series
from o4o_causal.policy.outcomes import GROUPS

T = 5
CELLS = ("all", *GROUPS)
FLAGS = {"families_children": (0, 1), "nonwestern": (1, 0), "nonwestern_families_children": (1, 1), "neither": (0, 0)}


def cohort(cities: dict[str, dict[str, object]]) -> pd.DataFrame:
    """One month (2019-01); per city ``groups: {group: (persons, employed)}`` and ``recipients``."""
    rows, pid = [], 0
    for city, spec in cities.items():
        k = 0
        for group, (n, employed) in spec["groups"].items():  # type: ignore[attr-defined]
            nw, ch = FLAGS[group]
            for j in range(n):
                pid += 1
                rows.append(
                    {
                        "person_id": pid, "municipality_id": city, "city": city,
                        "month": pd.Timestamp("2019-01-01"), "year": 2019,
                        "on_sa": int(k < spec["recipients"]), "employed": int(j < employed), "earnings": 0.0,  # type: ignore[operator]
                        "nonwestern": nw, "children": ch, "bergen": 0, "post": 0,
                    }
                )  # fmt: skip
                k += 1
    return pd.DataFrame(rows)


def attack(table: pd.DataFrame, hidden: pd.Series) -> list[str]:
    """Return the suppressed quantities of one city-month that the published cells determine exactly."""
    names = [f"{q}_{c}" for c in CELLS for q in ("E", "N")] + ["P", "R"]
    col = {n: i for i, n in enumerate(names)}
    eq_a: list[np.ndarray] = []
    eq_b: list[float] = []

    def equal(coef: dict[str, float], rhs: float) -> None:
        row = np.zeros(len(names))
        for k, v in coef.items():
            row[col[k]] = v
        eq_a.append(row)
        eq_b.append(rhs)

    equal({"E_all": 1, **{f"E_{g}": -1 for g in GROUPS}}, 0)
    equal({"N_all": 1, **{f"N_{g}": -1 for g in GROUPS}}, 0)
    equal({"N_all": 1, "P": -1}, 0)
    cell = table.set_index(["measure", "group"])
    pub = ~hidden.to_numpy()
    for (measure, group), row, ok in zip(cell.index, cell.itertuples(), pub, strict=True):
        if not ok:
            continue
        count, n, value = float(row.count), float(row.n), float(row.value)
        if measure == "persons":
            equal({"P": 1}, value)
        elif measure == "recipients":
            equal({"R": 1}, value)
            equal({"P": 1}, n)
        elif measure == "recipient_rate":
            equal({"R": 1}, count)
            equal({"P": 1}, n)
            equal({"R": 1, "P": -value}, 0)
        elif measure == "mean_spell_duration":
            equal({"R": 1}, count)
        elif measure == "new_spells":
            equal({"P": 1}, n)
        elif measure == "employment_rate" and group in CELLS:
            equal({f"E_{group}": 1}, count)
            equal({f"N_{group}": 1}, n)
            equal({f"E_{group}": 1, f"N_{group}": -value}, 0)
    ub_a, ub_b = [], []
    for c in CELLS:  # E <= N
        row = np.zeros(len(names))
        row[col[f"E_{c}"]], row[col[f"N_{c}"]] = 1, -1
        ub_a.append(row)
        ub_b.append(0.0)
    row = np.zeros(len(names))
    row[col["R"]], row[col["P"]] = 1, -1
    ub_a.append(row)
    ub_b.append(0.0)
    targets: dict[str, dict[str, float]] = {}
    for (measure, group), ok in zip(cell.index, pub, strict=True):
        if ok:
            continue
        if measure == "employment_rate" and group in CELLS:
            targets[f"employed {group}"] = {f"E_{group}": 1}
            targets[f"not employed {group}"] = {f"N_{group}": 1, f"E_{group}": -1}
            if group != "all":
                targets[f"persons {group}"] = {f"N_{group}": 1}
        elif measure in ("recipients", "recipient_rate", "mean_spell_duration"):
            targets["recipients"] = {"R": 1}
            targets["non-recipients"] = {"P": 1, "R": -1}
        elif measure == "persons":
            targets["persons"] = {"P": 1}
    disclosed = []
    for label, coef in targets.items():
        c = np.zeros(len(names))
        for k, v in coef.items():
            c[col[k]] = v
        bounds = []
        for sign in (1, -1):
            res = optimize.linprog(sign * c, A_ub=ub_a, b_ub=ub_b, A_eq=eq_a, b_eq=eq_b, bounds=(0, None))
            assert res.status in (0, 3), res.message  # feasible (3: unbounded above is fine)
            bounds.append(sign * res.fun if res.status == 0 else np.inf)
        if bounds[1] - bounds[0] < 0.5:
            disclosed.append(label)
    return disclosed


def disclosed(series: pd.DataFrame, flag: str = "suppressed") -> dict[str, list[str]]:
    found = {}
    measures = ["persons", "recipients", "recipient_rate", "mean_spell_duration", "new_spells", "employment_rate"]
    for city, table in series[series["measure"].isin(measures)].groupby("city"):
        table = table[table["group"].isin(CELLS)]
        leaks = attack(table, table[flag])
        if leaks:
            found[str(city)] = leaks
    return found


ADVERSARIAL = {
    # one small group: recoverable as all minus the others without secondary suppression
    "one_small": {"groups": {"families_children": (12, 6), "nonwestern": (12, 5), "neither": (12, 7),
                             "nonwestern_families_children": (3, 2)}, "recipients": 20},
    # the next-smallest group is empty: suppressing it would protect nothing
    "empty_next": {"groups": {"families_children": (12, 6), "nonwestern": (0, 0), "neither": (12, 7),
                              "nonwestern_families_children": (3, 1)}, "recipients": 20},
    # two small groups whose total is still below the threshold (2 employed together)
    "two_small": {"groups": {"families_children": (20, 9), "nonwestern": (4, 1), "neither": (20, 12),
                             "nonwestern_families_children": (3, 1)}, "recipients": 20},
    # small groups all employed: together "all employed" would disclose both rates (1.0)
    "all_employed": {"groups": {"families_children": (20, 9), "nonwestern": (3, 3), "neither": (20, 12),
                                "nonwestern_families_children": (4, 4)}, "recipients": 20},
    # recipient rate flagged by its complement (8 persons, 6 recipients: 2 non-recipients)
    "rate_complement": {"groups": {"families_children": (2, 1), "nonwestern": (2, 1), "neither": (4, 2),
                                   "nonwestern_families_children": (0, 0)}, "recipients": 6},
    # too few persons altogether
    "tiny": {"groups": {"families_children": (1, 1), "nonwestern": (1, 0), "neither": (2, 1),
                        "nonwestern_families_children": (0, 0)}, "recipients": 1},
    # all employed in the city: the complement of all is 0
    "everyone_employed": {"groups": {"families_children": (7, 7), "nonwestern": (6, 6), "neither": (9, 9),
                                     "nonwestern_families_children": (5, 5)}, "recipients": 10},
}  # fmt: skip


def random_cities(n: int, seed: int) -> dict[str, dict[str, object]]:
    rng = np.random.default_rng(seed)
    cities: dict[str, dict[str, object]] = {}
    for k in range(n):
        sizes = rng.integers(0, 16, size=4)
        groups = {g: (int(s), int(rng.integers(0, s + 1))) for g, s in zip(GROUPS, sizes, strict=True)}
        total = int(sizes.sum())
        cities[f"r{k:03d}"] = {"groups": groups, "recipients": int(rng.integers(0, total + 1))}
    return cities


@pytest.fixture(scope="module")
def adversarial() -> pd.DataFrame:
    return city_series(cohort(ADVERSARIAL), freq="month", recipients_in=None)


def test_attack_recovers_primary_only_suppression() -> None:
    """The attacker works: blanking only the cells below the threshold leaks (the old behaviour)."""
    raw = city_series(cohort(ADVERSARIAL), freq="month", recipients_in=None, suppress=False)
    leaks = disclosed(raw, flag="below_threshold")
    assert "employed nonwestern_families_children" in leaks["one_small"]
    assert "recipients" in leaks["rate_complement"]


def test_no_suppressed_quantity_recoverable_adversarial(adversarial: pd.DataFrame) -> None:
    assert disclosed(adversarial) == {}
    cell = adversarial.set_index(["city", "measure", "group"])["suppressed"]
    assert cell[("rate_complement", "recipients", "all")]  # rate flagged -> recipients not published
    assert cell[("rate_complement", "mean_spell_duration", "all")]
    assert not cell[("rate_complement", "persons", "all")]
    assert cell[("one_small", "employment_rate", "nonwestern_families_children")]
    assert cell.xs(("one_small", "employment_rate"), level=[0, 1]).sum() == 2  # the smallest other group only
    assert cell.xs(("two_small", "employment_rate"), level=[0, 1]).sum() == 3  # 1 + 1 employed < 5: a third
    assert cell.xs(("everyone_employed", "employment_rate"), level=[0, 1]).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_no_suppressed_quantity_recoverable_random(seed: int) -> None:
    frame = cohort(random_cities(40, seed))
    series = city_series(frame, freq="month", recipients_in=None)
    assert series["suppressed"].any() and (series["suppressed"] & ~series["below_threshold"]).any()
    assert disclosed(series) == {}
    raw = city_series(frame, freq="month", recipients_in=None, suppress=False)
    assert len(disclosed(raw, flag="below_threshold")) >= 5  # without secondary suppression: leaks


def test_suppressed_cells_publish_nothing(adversarial: pd.DataFrame) -> None:
    hidden = adversarial[adversarial["suppressed"]]
    assert hidden["value"].isna().all() and hidden["count"].isna().all() and hidden["n"].isna().all()
    shown = adversarial[~adversarial["suppressed"]]
    assert shown[["value", "count", "n"]].notna().all().all()
    assert str(adversarial["count"].dtype) == "Int64" and str(adversarial["n"].dtype) == "Int64"
    assert (adversarial["below_threshold"] <= adversarial["suppressed"]).all()
    # published counts by hand: persons per city
    frame = cohort(ADVERSARIAL)
    persons = adversarial[(adversarial["measure"] == "persons") & ~adversarial["suppressed"]].set_index("city")
    by_hand = frame.groupby("city")["person_id"].nunique()
    assert (persons["count"].astype(int) == by_hand.reindex(persons.index)).all()


def test_suppress_false_keeps_values_and_flags(adversarial: pd.DataFrame) -> None:
    raw = city_series(cohort(ADVERSARIAL), freq="month", recipients_in=None, suppress=False)
    pd.testing.assert_series_equal(raw["suppressed"], adversarial["suppressed"])
    assert raw[["count", "n"]].notna().all().all()
    defined = (raw["measure"] != "mean_spell_duration") & (raw["n"] > 0)
    assert raw.loc[defined, "value"].notna().all()

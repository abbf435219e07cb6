"""Table disclosure control: primary/secondary suppression, LP attacker, dominance, rounding, ACRO agreement."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from o4o_causal import config
from o4o_causal.exceptions import DataError, SpecificationError
from o4o_causal.sdc import tables
from o4o_causal.sdc.findings import Finding
from o4o_causal.sdc.tables import (
    TableCheck,
    check_crosstab,
    check_estimates,
    check_model,
    check_table,
    dominance,
    round_counts,
    suppress,
)


def attack(inner: np.ndarray, hidden: np.ndarray, hidden_totals: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Bound every hidden inner cell by LP from the shown cells and the totals (independent of the code).

    Variables: inner cells, row totals, column totals, grand total (all >= 0). Shown cells and
    totals are fixed; ``hidden_totals`` (row mask, column mask) marks totals not shown.
    """
    r, c = inner.shape
    nvar = r * c + r + c + 1
    rt, ct, g = r * c, r * c + r, r * c + r + c
    value = np.concatenate([inner.ravel(), inner.sum(1), inner.sum(0), [inner.sum()]])
    free = np.concatenate([hidden.ravel(), np.zeros(r + c + 1, dtype=bool)])
    if hidden_totals is not None:
        free[rt : rt + r], free[ct : ct + c] = hidden_totals
    bounds = [(0, None) if f else (v, v) for f, v in zip(free, value, strict=True)]
    eq = []
    for i in range(r):
        row = np.zeros(nvar)
        row[i * c : (i + 1) * c], row[rt + i] = 1, -1
        eq.append(row)
    for j in range(c):
        row = np.zeros(nvar)
        row[j:rt:c], row[ct + j] = 1, -1
        eq.append(row)
    for start, n in ((rt, r), (ct, c)):
        row = np.zeros(nvar)
        row[start : start + n], row[g] = 1, -1
        eq.append(row)
    out = {}
    for k in np.flatnonzero(hidden.ravel()):
        obj = np.zeros(nvar)
        obj[k] = 1
        lo = optimize.linprog(obj, A_eq=eq, b_eq=np.zeros(len(eq)), bounds=bounds)
        hi = optimize.linprog(-obj, A_eq=eq, b_eq=np.zeros(len(eq)), bounds=bounds)
        assert lo.status == 0
        out[divmod(int(k), c)] = (lo.fun, -hi.fun if hi.status == 0 else np.inf)
    return out


def frame(values: list[list[int]], rows: str = "xyz", cols: str = "abc") -> pd.DataFrame:
    return pd.DataFrame(values, index=list(rows[: len(values)]), columns=list(cols[: len(values[0])]))


# -- hand-computed cases -------------------------------------------------------------------------------


def test_primary_and_rectangle_secondary() -> None:
    t = frame([[2, 8, 20], [10, 12, 25], [30, 40, 3]])
    check = check_table(t)
    assert isinstance(check, TableCheck) and check.ok and check.threshold == 5
    expected = frame([[1, 0, 2], [0, 0, 0], [2, 0, 1]]).replace({0: "ok", 1: "primary", 2: "secondary"})
    pd.testing.assert_frame_equal(check.status, expected.astype(object))
    safe = check.safe_table()
    assert safe.isna().to_numpy().sum() == 4 and safe.loc["y", "b"] == 12
    assert t.loc["x", "a"] == 2  # input untouched
    assert list(check.log.columns) == ["row", "column", "rule", "reason"]
    assert sorted(check.log["rule"]) == ["secondary", "secondary", "threshold", "threshold"]
    assert all(isinstance(f, Finding) and f.severity == "warning" for f in check.findings)
    assert "2 primary" in repr(check) and "2 secondary" in repr(check)
    assert not any("2" in f.message for f in check.findings if f.rule == "threshold")  # counts not revealed


def test_no_suppression_needed() -> None:
    check = check_table(frame([[10, 20], [30, 40]]))
    assert check.ok and not check.mask.to_numpy().any() and check.findings == [] and check.log.empty


def test_presets_and_threshold_values() -> None:
    t = frame([[3, 8, 20], [10, 12, 25], [30, 40, 9]])
    assert not suppress(t, threshold="ssb").to_numpy().any()
    assert suppress(t, threshold="dst").to_numpy().sum() >= 2
    assert suppress(t, threshold="acro").loc["z", "c"]
    assert check_table(t, threshold=4).threshold == 4


def test_margins_none_gives_primary_only() -> None:
    mask = suppress(frame([[2, 8], [10, 12]]), margins="none")
    assert mask.to_numpy().sum() == 1


def test_total_row_and_column_detected_and_protected() -> None:
    inner = np.array([[2, 8, 20], [10, 12, 25], [30, 40, 3]])
    t = pd.DataFrame(inner, index=["x", "y", "z"], columns=["a", "b", "c"])
    t["Total"] = t.sum(axis=1)
    t.loc["Total"] = t.sum()
    check = check_table(t)
    assert (check.status.loc["Total"] == "ok").all() and (check.status["Total"] == "ok").all()
    hidden = check.mask.loc[["x", "y", "z"], ["a", "b", "c"]].to_numpy()
    for (lo, hi), primary in zip(attack(inner, hidden).values(), (True,) * 4, strict=True):
        assert hi - lo >= 5 - 1e-6 or not primary


def test_small_total_cell_is_primary_and_its_line_protected() -> None:
    t = frame([[1, 1], [20, 30], [25, 40]], cols="ab")
    t["Total"] = t.sum(axis=1)
    check = check_table(t)
    assert check.status.loc["x", "Total"] == "primary"
    assert check.mask.loc["x"].all()


def test_margins_tuple_and_inconsistent_total() -> None:
    t = frame([[2, 8], [10, 12]], cols="ab")
    t["sum_ab"] = t.sum(axis=1)
    check = check_table(t, margins=(None, "sum_ab"))
    assert check.status.loc["x", "sum_ab"] != "primary"
    t.loc["x", "sum_ab"] = 99
    with pytest.raises(DataError, match="sum_ab|total column"):
        check_table(t, margins=(None, "sum_ab"))


def test_unprotectable_cell_is_an_error() -> None:
    # a row with one non-zero cell whose known total is below the threshold: nothing can hide it
    check = check_table(frame([[3, 0], [20, 30]], cols="ab"))
    assert not check.ok
    assert any(f.rule == "secondary" and f.severity == "error" for f in check.findings)


@pytest.mark.parametrize("seed", range(6))
def test_lp_attacker_cannot_narrow_random_tables(seed: int) -> None:
    rng = np.random.default_rng(seed)
    inner = rng.poisson(rng.choice([1.5, 6.0, 25.0], size=(4, 5)))
    inner[inner.sum(axis=1) < 5, 0] += 5  # no row total itself below the threshold
    inner[0, inner.sum(axis=0) < 5] += 5
    t = pd.DataFrame(inner)
    check = check_table(t, zeros="ignore")
    assert check.ok
    primary = check.status.eq("primary").to_numpy()
    bounds = attack(inner, check.mask.to_numpy())
    for (i, j), (lo, hi) in bounds.items():
        assert hi - lo >= (5 if primary[i, j] else 1) - 1e-6, ((i, j), lo, hi)
    # without secondary suppression the same attacker recovers a primary cell (when one exists alone)
    if primary.any():
        lone = [(i, j) for i, j in zip(*np.nonzero(primary), strict=True) if primary[i].sum() == 1]
        if lone:
            assert any(hi - lo < 5 for lo, hi in attack(inner, primary).values())


def test_attacker_with_published_totals() -> None:
    rng = np.random.default_rng(11)
    inner = rng.poisson(rng.choice([2.0, 20.0], size=(3, 4))) + np.array([[0, 0, 0, 0], [6, 6, 6, 6], [6, 6, 6, 6]])
    t = pd.DataFrame(inner, index=list("pqr"), columns=list("abcd"))
    t["Total"] = t.sum(axis=1)
    t.loc["Total"] = t.sum()
    check = check_table(t, zeros="ignore")
    hidden = check.mask.loc[list("pqr"), list("abcd")].to_numpy()
    rows_hidden, cols_hidden = (
        check.mask.loc[list("pqr"), "Total"].to_numpy(),
        check.mask.loc["Total", list("abcd")].to_numpy(),
    )
    primary = check.status.loc[list("pqr"), list("abcd")].eq("primary").to_numpy()
    for (i, j), (lo, hi) in attack(inner, hidden, (rows_hidden, cols_hidden)).items():
        assert hi - lo >= (5 if primary[i, j] else 1) - 1e-6


def test_zeros_policy() -> None:
    t = frame([[0, 18], [10, 12]], cols="ab")
    assert check_table(t).status.loc["x", "a"] == "zero"
    assert check_table(t).ok
    assert not check_table(t, zeros="error").ok
    assert check_table(t, zeros="ignore").status.loc["x", "a"] == "ok"


def test_proportion_table_uses_counts_and_complements() -> None:
    shares = frame([[0.5, 0.96], [0.3, 0.5]], cols="ab")
    counts = frame([[40, 50], [3, 40]], cols="ab")
    check = check_table(shares, counts, kind="proportion", margins="none")
    assert check.status.loc["x", "b"] == "primary"  # 2 persons without the trait
    assert check.status.loc["y", "a"] == "primary"  # 3 persons behind
    assert check.status.loc["x", "a"] == "ok"


def test_residual_df_and_check_model() -> None:
    assert check_model(25) == []
    (finding,) = check_model(4, location="ols")
    assert finding.rule == "residual_df" and finding.severity == "error" and finding.location == "ols"
    assert check_model(8, min_df=5) == []
    assert not check_table(frame([[10, 20], [30, 40]]), residual_df=3).ok
    with pytest.raises(SpecificationError, match="residual_df"):
        check_model(-1)


# -- dominance -----------------------------------------------------------------------------------------


def test_dominance_hand_cases() -> None:
    contributions = pd.Series([100.0, 5.0, 3.0, 2.0, 40.0, 35.0, 30.0, 30.0, 10.0, 10.0, 10.0])
    cell = pd.Series(["A"] * 4 + ["B"] * 4 + ["C"] * 3)
    out = dominance(contributions, cell)
    # A: total 110, top two 105 -> remainder 5 < 0.1 * 100: p% rule; top-2 share 105/110 >= 0.9: n-k
    assert out.loc["A", "p_rule"] and out.loc["A", "nk_rule"]
    assert out.loc["A", "p_ratio"] == pytest.approx(0.05)
    # B: remainder 60 of largest 40 -> no; top-2 75/135 -> no
    assert not out.loc["B", "dominated"]
    # C: remainder 10 >= 1.0; top-2 share 20/30 < 0.9
    assert not out.loc["C", "dominated"] and out.loc["C", "contributors"] == 3
    strict = dominance(contributions, cell, p=0.5, n=1, k=0.25)
    assert strict.loc["B", "nk_rule"] and not strict.loc["B", "p_rule"]  # 40/135 >= 0.25; 60/40 >= 0.5
    assert bool(dominance(contributions)["dominated"].iloc[0]) is False


def test_dominance_two_contributors_and_bad_input() -> None:
    out = dominance(pd.Series([10.0, 10.0]), pd.Series(["A", "A"]))
    assert out.loc["A", "p_rule"]  # two contributors: each knows the other's value
    with pytest.raises(DataError, match="negative"):
        dominance(pd.Series([1.0, -2.0]))
    with pytest.raises(SpecificationError, match="p"):
        dominance(pd.Series([1.0]), p=1.5)
    with pytest.raises(SpecificationError, match="n"):
        dominance(pd.Series([1.0]), n=0)
    with pytest.raises(DataError, match="index"):
        dominance(pd.Series([1.0, 2.0]), pd.Series(["a", "b"], index=[5, 6]))
    with pytest.raises(DataError, match="Series"):
        dominance([1.0, 2.0])  # type: ignore[arg-type]


def test_magnitude_table_with_dominance() -> None:
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"r": np.repeat(["x", "y", "z"], 40), "c": np.tile(np.repeat(["a", "b"], 20), 3)})
    data["v"] = rng.uniform(10, 20, len(data))
    data.loc[0, "v"] = 5000.0  # one firm dominates cell (x, a)
    table = data.pivot_table(index="r", columns="c", values="v", aggfunc="sum")
    table.columns.name = table.index.name = None
    check = check_table(table, kind="magnitude", contributions=data["v"], cell=data[["r", "c"]])
    assert check.status.loc["x", "a"] == "dominance"
    assert check.mask.to_numpy().sum() >= 4  # rectangle around the dominated cell
    assert check.status.loc["x", "b"] == "secondary" or check.status.loc["y", "a"] == "secondary"
    with pytest.raises(DataError, match="contributions"):
        check_table(table, kind="magnitude")


def test_magnitude_table_totals_are_checked_on_their_contributors() -> None:
    rng = np.random.default_rng(1)
    rows, cols = ["x"] * 3 + ["y"] * 40 + ["z"] * 40, ["a", "a", "b", *np.tile(["a", "b"], 40)]
    data = pd.DataFrame({"r": rows, "c": cols, "v": rng.uniform(10, 20, len(rows))})
    table = data.pivot_table(index="r", columns="c", values="v", aggfunc="sum", margins=True, margins_name="Total")
    table.columns.name = table.index.name = None
    check = check_table(table, kind="magnitude", contributions=data["v"], cell=data[["r", "c"]], zeros="error")
    assert check.ok and not (check.status == "zero").to_numpy().any()  # totals are not empty cells
    assert check.status.loc["x", "Total"] == "primary"  # the row total rests on 3 persons
    assert check.safe_table().loc["x"].isna().all() and check.safe_table().loc["Total", "Total"] > 0


# -- rounding ------------------------------------------------------------------------------------------


def test_round_counts_multiples_zeros_seed() -> None:
    t = frame([[0, 1, 2], [3, 4, 5], [7, 10, 11]])
    rounded = round_counts(t, base=3, seed=1)
    assert (rounded.to_numpy() % 3 == 0).all() and rounded.loc["x", "a"] == 0 and rounded.loc["y", "a"] == 3
    assert (abs(rounded - t).to_numpy() < 3).all()
    pd.testing.assert_frame_equal(rounded, round_counts(t, base=3, seed=1))
    assert t.loc["x", "b"] == 1
    nearest = round_counts(t, base=5, method="nearest")
    assert nearest.loc["y", "a"] == 5 and nearest.loc["x", "c"] == 0 and nearest.loc["z", "a"] == 5


def test_round_counts_unbiased_and_totals_recomputed() -> None:
    t = frame([[1, 2], [4, 7]], cols="ab")
    t["Total"] = t.sum(axis=1)
    t.loc["Total"] = t.sum()
    draws = np.stack([round_counts(t, base=3, seed=s).to_numpy() for s in range(800)])
    assert np.allclose(draws.mean(axis=0)[:2, :2], t.to_numpy()[:2, :2], atol=0.2)
    last = round_counts(t, seed=7)
    assert (last["Total"] == last[["a", "b"]].sum(axis=1)).all()
    assert (last.loc["Total"] == last.loc[["x", "y"]].sum()).all()


def test_round_counts_bad_input() -> None:
    with pytest.raises(SpecificationError, match="base"):
        round_counts(frame([[1]]), base=1)
    with pytest.raises(SpecificationError, match="method"):
        round_counts(frame([[1]]), method="up")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="counts"):
        round_counts(frame([[1.5]]))  # type: ignore[list-item]


# -- estimates tables ----------------------------------------------------------------------------------


def test_check_estimates_hides_small_groups_and_revealing_shares() -> None:
    est = pd.DataFrame(
        {"group": ["a", "b", "c"], "estimate": [0.1, 0.2, 0.3], "se": [0.01, 0.02, 0.2], "n": [100, 80, 3]},
        index=["g1", "g2", "g3"],
    )
    check = check_estimates(est)
    safe = check.safe_table()
    assert safe.loc["g3", ["estimate", "se", "n"]].isna().all() and safe.loc["g3", "group"] == "c"
    assert safe.loc["g1"].notna().all() and any(f.location == "row 'g3'" for f in check.findings)
    shares = pd.DataFrame({"share_A": [0.5, 0.98], "share_B": [0.5, 0.02], "n": [40, 100]})
    check = check_estimates(shares)
    assert check.status.loc[1, "share_B"] == "primary"  # 0.02 * 100 = 2 persons
    assert check.mask.loc[1, "share_A"]  # its complement in the same row
    with pytest.raises(DataError, match="'size'"):
        check_estimates(est, n="size")


# -- ACRO ----------------------------------------------------------------------------------------------


@pytest.fixture
def microdata() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 300
    data = pd.DataFrame(
        {
            "a": rng.choice(["x", "y", "z"], n, p=[0.6, 0.37, 0.03]),
            "b": rng.choice(["u", "v", "w", "q"], n, p=[0.5, 0.3, 0.17, 0.03]),
            "v": rng.lognormal(3, 1, n),
        }
    )
    data.loc[0, "v"] = 1e5
    return data


def test_acro_primary_flags_agree_with_ours(microdata: pd.DataFrame, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    for threshold in (5, 10):
        via_acro = check_crosstab(microdata, "a", "b", threshold=threshold)
        counts = pd.crosstab(microdata["a"], microdata["b"])
        ours = check_table(counts, threshold=threshold)
        pd.testing.assert_frame_equal(via_acro.status.eq("primary"), ours.status.eq("primary"), check_names=False)
        pd.testing.assert_frame_equal(via_acro.status, ours.status, check_names=False)
    assert list(tmp_path.iterdir()) == []  # ACRO wrote nothing
    assert root.handlers == handlers and root.level == level  # its logging set-up undone


def test_acro_dominance_agrees_with_ours(microdata: pd.DataFrame, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    via_acro = check_crosstab(microdata, "a", "b", values="v", aggfunc="sum")
    ours = dominance(microdata["v"], microdata[["a", "b"]])["dominated"].unstack(fill_value=False)
    ours = ours.reindex(index=via_acro.table.index, columns=via_acro.table.columns, fill_value=False)
    counts = pd.crosstab(microdata["a"], microdata["b"]).to_numpy()
    acro_dom = via_acro.status.isin(["dominance"]).to_numpy() | (
        via_acro.status.eq("primary").to_numpy() & (counts >= 5)
    )
    assert (acro_dom == (ours.to_numpy(dtype=bool) & (counts >= 5))).all()
    assert via_acro.status.loc["y", "w"] == "dominance"
    assert check_crosstab(microdata, "a", "b", values="v", aggfunc="mean").status.loc["y", "w"] == "dominance"


def test_acro_secondary_on_top(microdata: pd.DataFrame, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    check = check_crosstab(microdata, "a", "b")
    inner = check.table.to_numpy()
    primary = check.status.eq("primary").to_numpy()
    for (i, j), (lo, hi) in attack(inner, check.mask.to_numpy()).items():
        assert hi - lo >= (5 if primary[i, j] else 1) - 1e-6


def test_check_crosstab_bad_input(microdata: pd.DataFrame) -> None:
    with pytest.raises(SpecificationError, match="aggfunc"):
        check_crosstab(microdata, "a", "b", values="v")
    with pytest.raises(SpecificationError, match="aggfunc"):
        check_crosstab(microdata, "a", "b", values="v", aggfunc="max")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="'nope'"):
        check_crosstab(microdata, "a", "nope")


# -- bad input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: check_table([[1, 2]]), DataError, "DataFrame"),  # type: ignore[arg-type]
        (lambda: check_table(pd.DataFrame()), DataError, "empty"),
        (lambda: check_table(frame([[1, -2]])), DataError, "negative"),
        (lambda: check_table(frame([[1.5, 2]])), DataError, "fractional"),
        (lambda: check_table(frame([[np.nan, 2]])), DataError, "missing"),
        (lambda: check_table(pd.DataFrame({"a": ["x"]})), DataError, "numeric"),
        (lambda: check_table(pd.DataFrame([[1, 2]], columns=["a", "a"])), DataError, "unique"),
        (lambda: check_table(frame([[1, 2]]), threshold=0), SpecificationError, "threshold"),
        (lambda: check_table(frame([[1, 2]]), threshold="unknown"), SpecificationError, "preset"),
        (lambda: check_table(frame([[1, 2]]), threshold=True), SpecificationError, "threshold"),
        (lambda: check_table(frame([[1, 2]]), kind="share"), SpecificationError, "kind"),  # type: ignore[arg-type]
        (lambda: check_table(frame([[1, 2]]), zeros="hide"), SpecificationError, "zeros"),  # type: ignore[arg-type]
        (lambda: check_table(frame([[1, 2]]), margins="maybe"), SpecificationError, "margins"),  # type: ignore[arg-type]
        (lambda: check_table(frame([[1, 2]]), margins=("q", None)), SpecificationError, "row total"),
        (lambda: check_table(frame([[0.5, 0.2]]), kind="proportion"), DataError, "counts"),
        (lambda: check_table(frame([[0.5]]), frame([[4, 5]]), kind="mean"), DataError, "labels"),
        (lambda: check_table(frame([[1.5]]), frame([[5]]), kind="proportion"), DataError, r"\[0, 1\]"),
        (lambda: check_table(pd.DataFrame([[1, 2]], index=["Total"], columns=["All", "b"])), DataError, "totals"),
    ],
)
def test_bad_input(call, error, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error, match=match):
        call()


def test_defaults_come_from_config() -> None:
    assert tables.KINDS == ("frequency", "proportion", "mean", "magnitude")
    assert check_table(frame([[10, 20], [30, 40]])).threshold == config.DISCLOSURE.threshold

"""QCA calibration, truth table, necessity and input checks (hand-computed cases)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError
from o4o_causal.qca import calibrate, necessity, truth_table

# Five cases, two conditions; the expected numbers below are computed by hand.
HAND = pd.DataFrame(
    {
        "A": [0.8, 0.6, 0.3, 0.9, 0.2],
        "B": [0.7, 0.2, 0.6, 0.9, 0.1],
        "Y": [0.9, 0.4, 0.7, 0.6, 0.1],
    },
    index=["m1", "m2", "m3", "m4", "m5"],
)


def _quiet_tt(data: pd.DataFrame, **kw: object):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        return truth_table(data, **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- calibration
def test_direct_calibration_anchors_exact_and_monotone() -> None:
    with pytest.warns(O4OWarning, match="crossover"):
        m = calibrate(np.array([10.0, 50.0, 90.0]), thresholds=(10, 50, 90))
    assert m == pytest.approx([0.05, 0.5, 0.95], abs=1e-12)
    grid = np.linspace(-20, 120, 301)
    g = calibrate(grid[grid != 50], thresholds=(10, 50, 90))
    assert np.all(np.diff(g) > 0) and g.min() > 0 and g.max() < 1
    # asymmetric anchors: each side scaled separately (log-odds +-log(19) at the anchors)
    a = calibrate(np.array([0.0, 30.0]), thresholds=(0, 10, 30))
    assert a == pytest.approx([0.05, 0.95], abs=1e-12)
    half = calibrate(np.array([20.0]), thresholds=(0, 10, 30))[0]
    assert half == pytest.approx(1 / (1 + np.exp(-np.log(19) / 2)), abs=1e-12)


def test_decreasing_set_and_fsqca_software_scale() -> None:
    s = pd.Series([100.0, 50.0, 10.0, 200.0], index=list("abcd"), name="neet_rate")
    with pytest.warns(O4OWarning, match="crossover"):
        m = calibrate(s, thresholds=(100, 50, 10))
    assert isinstance(m, pd.Series) and list(m.index) == list("abcd") and m.name == "neet_rate"
    assert m.iloc[:3].to_numpy() == pytest.approx([0.05, 0.5, 0.95], abs=1e-12)
    assert m["d"] < 0.05
    ragin = calibrate(np.array([10.0, 90.0]), thresholds=(10, 50, 90), inclusion_degree=1 / (1 + np.exp(-3)))
    assert ragin == pytest.approx([0.0474258731775668, 0.9525741268224334], abs=1e-12)


def test_crisp_calibration_and_crossover_warning() -> None:
    assert calibrate([1.0, 5.0, 7.0], thresholds=[5], method="crisp").tolist() == [0, 1, 1]
    assert calibrate([1.0, 5.0, 7.0, 9.0], thresholds=[5, 8], method="crisp").tolist() == [0, 1, 1, 2]
    with pytest.warns(O4OWarning, match=r"values 'x'.*1 value\(s\) equal to the crossover 50"):
        calibrate(pd.Series([10.0, 50.0, 60.0], name="x"), thresholds=(10, 50, 90))


@pytest.mark.parametrize(
    ("thresholds", "method", "match"),
    [
        ((10, 90, 50), "direct", "crossover must lie strictly between"),
        ((10, 10, 90), "direct", "distinct anchors"),
        ((10, 50), "direct", "three anchors"),
        ((5, 3), "crisp", "increasing order"),
    ],
)
def test_calibration_anchor_errors(thresholds: tuple[float, ...], method: str, match: str) -> None:
    with pytest.raises(SpecificationError, match=match):
        calibrate([1.0, 2.0], thresholds=thresholds, method=method)  # type: ignore[arg-type]


def test_calibration_missing_values_error() -> None:
    with pytest.raises(DataError, match=r"values 'v'.*1 missing of 3.*Fix"):
        calibrate(pd.Series([1.0, np.nan, 3.0], name="v"), thresholds=(0, 2, 4))


# ---------------------------------------------------------------- truth table
def test_truth_table_hand_computed() -> None:
    tt = _quiet_tt(HAND, outcome="Y", conditions=["A", "B"], incl_cut=0.85, show_cases=True)
    t = tt.table.set_index("code")
    assert list(t.index) == ["00", "01", "10", "11"] and list(t["row"]) == [1, 2, 3, 4]
    # row A*B: m = min(A, B) = .7 .2 .3 .9 .1 (sum 2.2); min(m, Y) sum 1.9; min(m, Y, 1-Y) sum 1.1
    assert t.loc["11", "consistency"] == pytest.approx(1.9 / 2.2, abs=1e-12)
    assert t.loc["11", "coverage"] == pytest.approx(1.9 / 2.7, abs=1e-12)
    assert t.loc["11", "pri"] == pytest.approx(0.8 / 1.1, abs=1e-12)
    assert (t.loc["11", "n"], t.loc["11", "n_outcome"], t.loc["11", "out"]) == (2, 2, "1")
    assert t.loc["11", "cases"] == "m1,m4"
    # row A*~B: m = .3 .6 .3 .1 .2 (sum 1.5); min(m, Y) sum 1.2 -> 0.8 < 0.85
    assert t.loc["10", "consistency"] == pytest.approx(1.2 / 1.5, abs=1e-12)
    assert t.loc["10", "out"] == "0" and t.loc["10", "cases"] == "m2"
    # row ~A*B: m = .2 .2 .6 .1 .1 (sum 1.2) <= Y everywhere -> 1.0; PRI (1.2 - .8) / (1.2 - .8) = 1
    assert t.loc["01", "consistency"] == pytest.approx(1.0, abs=1e-12) and t.loc["01", "pri"] == pytest.approx(1.0)
    assert tt.positive == ("01", "11") and set(tt.negative) == {"00", "10"} and tt.remainders == ()
    assert np.array_equal(tt.membership("11"), [0.7, 0.2, 0.3, 0.9, 0.1])


def test_truth_table_cuts_negation_and_no_mutation() -> None:
    before = HAND.copy()
    tt = _quiet_tt(HAND, outcome="Y", conditions=["A", "B"], n_cut=2, incl_cut=0.8)
    assert tt.positive == ("11",) and set(tt.remainders) == {"00", "01", "10"}
    pri_tt = _quiet_tt(HAND, outcome="Y", conditions=["A", "B"], incl_cut=0.8, pri_cut=0.75)
    assert pri_tt.table.set_index("code").loc["11", "out"] == "0"  # PRI 0.727 < 0.75
    neg = _quiet_tt(HAND, outcome="Y", conditions=["A", "B"], negate_outcome=True)
    assert neg.outcome == "~Y"
    # ~Y = .1 .6 .3 .4 .9; row ~A*~B: m = .2 .4 .4 .1 .8 (sum 1.9), min(m, ~Y) = .1 .4 .3 .1 .8 (1.7)
    assert neg.table.set_index("code").loc["00", "consistency"] == pytest.approx(1.7 / 1.9, abs=1e-12)
    pd.testing.assert_frame_equal(HAND, before)
    assert not tt.x.flags.writeable
    assert "TruthTable(Y ~ A*B" in repr(tt)


def test_truth_table_limited_diversity_and_half_membership_warnings() -> None:
    with pytest.warns(O4OWarning, match=r"at least as many cases as truth-table rows \(2\^2 = 4\)"):
        truth_table(HAND.iloc[:3], outcome="Y", conditions=["A", "B"])
    data = HAND.assign(A=[0.8, 0.5, 0.3, 0.9, 0.2])
    with pytest.warns(O4OWarning, match=r"1 case\(s\) with a membership of exactly 0.5"):
        tt = truth_table(data, outcome="Y", conditions=["A", "B"])
    assert int(tt.table["n"].sum()) == 4


def test_contradictory_rows_flagged_and_warned() -> None:
    crisp = pd.DataFrame({"A": [1, 1, 1, 0, 0, 0], "B": [1, 1, 0, 0, 1, 0], "Y": [1, 0, 1, 0, 0, 0]})
    with pytest.warns(O4OWarning, match=r"1 contradictory row\(s\) \(11\).*contradictory"):
        tt = truth_table(crisp, outcome="Y", conditions=["A", "B"], incl_cut=0.5)
    t = tt.table.set_index("code")
    assert bool(t.loc["11", "contradictory"]) and not bool(t.loc["10", "contradictory"])
    assert t.loc["11", "consistency"] == pytest.approx(0.5) and tt.contradictions == ("11",)


# ---------------------------------------------------------------- bad input
def test_bad_membership_inputs() -> None:
    with pytest.raises(DataError, match=r"column 'B'.*memberships in \[0, 1\].*1 value\(s\) outside.*calibrate"):
        truth_table(HAND.assign(B=[0.7, 1.2, 0.6, 0.9, 0.1]), outcome="Y", conditions=["A", "B"])
    with pytest.raises(DataError, match=r"column 'A'.*1 missing of 5"):
        truth_table(HAND.assign(A=[0.8, np.nan, 0.3, 0.9, 0.2]), outcome="Y", conditions=["A", "B"])
    with pytest.raises(DataError, match=r"column 'C'.*vary across cases.*constant 1.*drop the column"):
        truth_table(HAND.assign(C=1.0), outcome="Y", conditions=["A", "B", "C"])
    with pytest.raises(SpecificationError, match=r"outcome 'Y' also listed as a condition.*remove 'Y'"):
        truth_table(HAND, outcome="Y", conditions=["A", "Y"])
    with pytest.raises(DataError, match=r"'Z'.*missing"):
        truth_table(HAND, outcome="Y", conditions=["A", "Z"])
    with pytest.raises(DataError, match=r"column 'A'.*numeric"):
        truth_table(HAND.assign(A=list("abcde")), outcome="Y", conditions=["A", "B"])
    with pytest.raises(SpecificationError, match="n_cut"):
        truth_table(HAND, outcome="Y", conditions=["A", "B"], n_cut=0)
    with pytest.raises(SpecificationError, match="incl_cut"):
        truth_table(HAND, outcome="Y", conditions=["A", "B"], incl_cut=1.5)


def test_skewed_condition_warns() -> None:
    with pytest.warns(O4OWarning, match=r"column 'S'.*every case above 0.5 \(a skewed set\)"):
        _ = necessity(HAND.assign(S=[0.6, 0.7, 0.8, 0.9, 0.95]), outcome="Y", conditions=["A", "S"])


# ---------------------------------------------------------------- necessity
def test_necessity_hand_computed() -> None:
    nec = necessity(HAND, outcome="Y", conditions=["A", "B"])
    t = nec.table.set_index("term")
    assert list(t.index) == ["A", "B", "~A", "~B"]
    # A: sum min(A, Y) = .8+.4+.3+.6+.1 = 2.2; sum Y = 2.7; sum A = 2.8
    assert t.loc["A", "consistency"] == pytest.approx(2.2 / 2.7, abs=1e-12)
    assert t.loc["A", "coverage"] == pytest.approx(2.2 / 2.8, abs=1e-12)
    # RoN: sum(1 - A) = 2.2; sum(1 - min(A, Y)) = .2+.6+.7+.4+.9 = 2.8
    assert t.loc["A", "ron"] == pytest.approx(2.2 / 2.8, abs=1e-12)
    # ~B = .3 .8 .4 .1 .9: sum min(~B, Y) = .3+.4+.4+.1+.1 = 1.3
    assert t.loc["~B", "consistency"] == pytest.approx(1.3 / 2.7, abs=1e-12)
    assert nec.necessary == ()
    dis = necessity(HAND, outcome="Y", conditions=["A", "B"], max_disjunction=2, incl_cut=0.9)
    d = dis.table.set_index("term")
    assert "A + B" in d.index and "A + ~A" not in d.index
    # A + B = max(A, B) = .8 .6 .6 .9 .2: sum min(., Y) = .8+.4+.6+.6+.1 = 2.5
    assert d.loc["A + B", "consistency"] == pytest.approx(2.5 / 2.7, abs=1e-12)
    assert "A + B" in dis.necessary and bool(d.loc["A + B", "necessary"])
    assert len(d) == 4 + 4  # four literals, four pairs of literals of different conditions

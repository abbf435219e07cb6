"""Regression tests from the review against R's QCA / SetMethods: intermediate solutions as R
computes them (published Lipset results, hand derivations), the exact cover search at 8
conditions, cut-off tolerance, robustness fit, argument handling."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest

from o4o_causal.exceptions import O4OWarning, SpecificationError
from o4o_causal.qca import TruthTable, _boolean, calibrate, minimize, necessity, robustness, truth_table
from o4o_causal.qca.minimisation import NoPositiveRowsError

COND = ["DEV", "URB", "LIT", "IND", "STB"]
COUNTRIES = ["AU", "BE", "CZ", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "NL", "PL", "PT", "RO", "ES", "SE", "UK"]
# Lipset data as shipped with R's QCA package (LF: fuzzy, LC: crisp)
LF = pd.DataFrame(
    {
        "DEV": [
            0.81,
            0.99,
            0.58,
            0.16,
            0.58,
            0.98,
            0.89,
            0.04,
            0.07,
            0.72,
            0.34,
            0.98,
            0.02,
            0.01,
            0.01,
            0.03,
            0.95,
            0.98,
        ],
        "URB": [
            0.12,
            0.89,
            0.98,
            0.07,
            0.03,
            0.03,
            0.79,
            0.09,
            0.16,
            0.05,
            0.1,
            1.0,
            0.17,
            0.02,
            0.03,
            0.3,
            0.13,
            0.99,
        ],
        "LIT": [
            0.99,
            0.98,
            0.98,
            0.98,
            0.99,
            0.99,
            0.99,
            0.13,
            0.88,
            0.98,
            0.41,
            0.99,
            0.59,
            0.01,
            0.17,
            0.09,
            0.99,
            0.99,
        ],
        "IND": [0.73, 1.0, 0.9, 0.01, 0.08, 0.81, 0.96, 0.36, 0.07, 0.01, 0.47, 0.94, 0.0, 0.11, 0.0, 0.21, 0.67, 1.0],
        "STB": [
            0.43,
            0.98,
            0.91,
            0.91,
            0.58,
            0.95,
            0.31,
            0.43,
            0.13,
            0.95,
            0.58,
            0.99,
            0.0,
            0.01,
            0.84,
            0.2,
            0.91,
            0.98,
        ],
        "SURV": [
            0.05,
            0.95,
            0.89,
            0.12,
            0.77,
            0.95,
            0.05,
            0.06,
            0.42,
            0.92,
            0.05,
            0.95,
            0.12,
            0.05,
            0.21,
            0.06,
            0.95,
            0.95,
        ],
    },
    index=COUNTRIES,
)
LC = pd.DataFrame(
    {
        "DEV": [1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 1],
        "URB": [0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1],
        "LIT": [1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 1],
        "IND": [1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1],
        "STB": [0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1],
        "SURV": [0, 1, 1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 1],
    },
    index=COUNTRIES,
)


def _tt(data: pd.DataFrame, **kw: object) -> TruthTable:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        return truth_table(data, **kw)  # type: ignore[arg-type]


def crisp_table(on: list[str], off: list[str], names: str = "ABC") -> TruthTable:
    rows = [
        {**{n: int(ch) for n, ch in zip(names, code, strict=True)}, "Y": y}
        for codes, y in ((on, 1), (off, 0))
        for code in codes
    ]
    return _tt(pd.DataFrame(rows), outcome="Y", conditions=list(names))


# ----------------------------------------------------------------- intermediate solution (R)


def test_lipset_fuzzy_solutions_as_published_by_r_qca() -> None:
    # R: tt <- truthTable(LF, SURV, incl.cut = 0.8); minimize(tt, include = "?", dir.exp = 1,1,1,1,1)
    tt = _tt(LF, outcome="SURV", conditions=COND, incl_cut=0.8)
    assert minimize(tt).expressions == ("DEV*URB*LIT*IND*STB + DEV*~URB*LIT*~IND*STB",)
    assert minimize(tt, remainders="include").expressions == ("DEV*~IND + URB*STB",)
    inter = minimize(tt, remainders="directional", directional=dict.fromkeys(COND, 1))
    assert inter.expressions == ("DEV*URB*LIT*STB + DEV*LIT*~IND*STB",)
    # the easy counterfactual 11101 (DEV, URB, LIT, ~IND, STB) merges with 11111
    assert inter.models[0].remainders_used == ("11101",)
    assert inter.models[0].pairs == ("C1P1",) and inter.summary()["pairs"].tolist() == ["C1P1"]
    # parameters of fit from the memberships (min within a term, max across terms)
    term = np.minimum.reduce([LF["DEV"], LF["URB"], LF["LIT"], LF["STB"]])
    other = np.minimum.reduce([LF["DEV"], LF["LIT"], 1 - LF["IND"], LF["STB"]])
    whole = np.maximum(term, other)
    y = LF["SURV"]
    assert inter.consistency == pytest.approx(np.minimum(whole, y).sum() / whole.sum())
    assert inter.coverage == pytest.approx(np.minimum(whole, y).sum() / y.sum())
    assert round(inter.consistency, 3) == 0.866 and round(inter.coverage, 3) == 0.660


def test_lipset_crisp_solutions_as_published_by_r_qca() -> None:
    tt = _tt(LC, outcome="SURV", conditions=COND, incl_cut=1)
    assert minimize(tt).expressions == ("DEV*~URB*LIT*STB + DEV*LIT*IND*STB",)
    assert minimize(tt, remainders="include").expressions == ("DEV*STB",)
    inter = minimize(tt, remainders="directional", directional=dict.fromkeys(COND, 1))
    assert inter.expressions == ("DEV*LIT*STB",)
    assert inter.models[0].remainders_used == ("11101",)


def test_intermediate_reminimises_with_easy_counterfactuals_three_conditions() -> None:
    # complex ~A*~C + ~B*C, parsimonious ~B + ~C. Reducing toward the parsimonious terms
    # gives ~C (drop ~A, against A=1) and ~B*C (C kept: in line with C=1); these select
    # the easy counterfactuals 100 and 110, with which the positive rows minimise to ~B + ~C
    # (the shortened term ~B*C itself is not prime: ~B covers 000, 001, 100, 101).
    tt = crisp_table(["000", "001", "010", "101"], ["011"])
    assert minimize(tt).expressions == ("~A*~C + ~B*C",)
    assert minimize(tt, remainders="include").expressions == ("~B + ~C",)
    inter = minimize(tt, remainders="directional", directional={"A": 1, "B": 1, "C": 1})
    assert inter.expressions == ("~B + ~C",)
    assert inter.models[0].remainders_used == ("100", "110")


def test_intermediate_four_conditions_hand_derivation() -> None:
    # positive 0001 0010 0011 1011 1101 1111, negative 0000 0110 1000; A=1, C=1, D=0.
    # Easy counterfactuals 1001 (from A*B*D -> A*D ... within the parsimonious D) and 1010
    # (from ~A*~B*C -> ~B*C); re-minimised: A*D + ~B*C + ~B*D (not A*B*D: it merges with 1001).
    tt = crisp_table(["0001", "0010", "0011", "1011", "1101", "1111"], ["0000", "0110", "1000"], "ABCD")
    assert minimize(tt, remainders="include").expressions == ("D + ~B*C",)
    inter = minimize(tt, remainders="directional", directional={"A": 1, "C": 1, "D": 0})
    assert inter.expressions == ("A*D + ~B*C + ~B*D",)
    assert inter.models[0].remainders_used == ("1001", "1010")


def test_intermediate_reports_every_pair_even_with_more_terms() -> None:
    # 2 complex x 5 parsimonious models; pairs C1P4/C1P5 (or their equivalent) admit
    # fewer easy counterfactuals and need four terms -- R reports them, so must we.
    tt = crisp_table(["0000", "0010", "1001", "1010", "1011", "1111"], ["0011", "0101", "1101", "1110"], "ABCD")
    assert len(minimize(tt).models) == 2 and len(minimize(tt, remainders="include").models) == 5
    inter = minimize(tt, remainders="directional", directional={"A": 1, "B": "-", "C": 0, "D": 1})
    assert inter.expressions[0] == "A*~B + ~B*~D + A*C*D"
    assert set(inter.expressions[1:]) == {
        "A*~B*C + A*~B*D + A*C*D + ~A*~B*~D",
        "A*~B*D + A*C*D + ~A*~B*~D + ~B*C*~D",
    }
    assert inter.summary()["n_terms"].tolist() == [3, 4, 4]
    # complex models: C1 = A*~B*C + A*~B*D + A*C*D + ~A*~B*~D, C2 = A*~B*D + A*C*D + ~A*~B*~D +
    # ~B*C*~D; parsimonious P1 = A*~B + ~A*~D + A*C*D, P2 = A*~B + ~A*~D + B*C*D, ... With P1
    # or P2, C2's terms reduce to no easy counterfactual: both complex models stay (4 terms).
    assert [m.pairs for m in inter.models] == [
        ("C1P1", "C1P2", "C1P3", "C1P4", "C1P5", "C2P3", "C2P4", "C2P5"),
        ("C2P1", "C2P2"),
        ("C2P1", "C2P2"),
    ]
    assert [m.remainders_used for m in inter.models] == [("1000",), (), ()]
    assert set(inter.expressions[1:]) == set(minimize(tt).expressions)
    labels = [m.pairs for m in inter.models]
    assert "C1P1" in labels[0] and "(C1P1" in repr(inter)


def _minterms(term: str) -> set[str]:
    return {"".join(r) for r in itertools.product(*[("0", "1") if c == "-" else (c,) for c in term])}


def test_intermediate_terms_cannot_merge_with_the_counterfactuals_they_use() -> None:
    rng = np.random.default_rng(11)
    codes = ["".join(r) for r in itertools.product("01", repeat=4)]
    checked = 0
    for _ in range(120):
        status = rng.choice(["1", "0", "?"], size=16, p=[0.3, 0.35, 0.35])
        on = [c for c, s in zip(codes, status, strict=True) if s == "1"]
        off = [c for c, s in zip(codes, status, strict=True) if s == "0"]
        if not on or not off or any(len({c[j] for c in on + off}) < 2 for j in range(4)):
            continue
        tt = crisp_table(on, off, "ABCD")
        dirs = dict(zip("ABCD", rng.choice([1, 0, "-"], size=4).tolist(), strict=True))
        for model in minimize(tt, remainders="directional", directional=dirs).models:
            allowed = set(on) | set(model.remainders_used)
            for term in model.implicants:
                assert _minterms(term) <= allowed
                for j, ch in enumerate(term):
                    if ch != "-":  # dropping any literal leaves the allowed rows: the term is prime
                        wider = term[:j] + "-" + term[j + 1 :]
                        assert not _minterms(wider) <= allowed, (on, off, dirs, model.expression)
            assert model.pairs
        checked += 1
    assert checked >= 60


def test_directional_float_and_numpy_values() -> None:
    tt = crisp_table(["100", "101"], ["000", "001", "010"])
    want = minimize(tt, remainders="directional", directional={"A": 1, "B": 0}).expressions
    for value_a, value_b in ((1.0, 0.0), (np.int64(1), np.float64(0)), ("1", "0")):
        sol = minimize(tt, remainders="directional", directional={"A": value_a, "B": value_b})
        assert sol.expressions == want and sol.directional == {"A": 1, "B": 0, "C": "-"}
    for bad in (0.5, True, "yes", None):
        with pytest.raises(SpecificationError, match=r"directional\['A'\]"):
            minimize(tt, remainders="directional", directional={"A": bad})  # type: ignore[dict-item]


# ------------------------------------------------------------------- exact cover search


def _k8_table() -> TruthTable:
    # 50 fuzzy cases, 8 conditions, incl_cut 0.8: 31 positive, 15 negative, 210 remainders
    rng = np.random.default_rng(3)
    n, k = 50, 8
    x = rng.uniform(0, 1, (n, k))
    x = np.where(np.abs(x - 0.5) < 0.02, 0.6, x)
    d = pd.DataFrame(x.round(2), columns=[f"C{i}" for i in range(k)])
    noise = rng.normal(0, 0.25, n)
    y = np.maximum(np.minimum(d.C0, d.C1), np.minimum(d.C2, 1 - d.C3)) + noise - 0.1
    d["Y"] = np.clip(y, 0, 1).round(2)
    return _tt(d, outcome="Y", conditions=[f"C{i}" for i in range(k)], incl_cut=0.8)


def test_eight_conditions_all_minimum_models_quickly() -> None:
    tt = _k8_table()
    assert (len(tt.positive), len(tt.negative), len(tt.remainders)) == (31, 15, 210)
    # the old Petrick expansion ran for > 10 minutes here; now ~0.2 s and ~2 s (not asserted: no timed tests)
    pars = minimize(tt, remainders="include")
    inter = minimize(tt, remainders="directional", directional={f"C{i}": 1 for i in range(8)})
    # 290 six-term models: the same set as an independent enumeration (MILP with no-good cuts)
    assert len(pars.models) == 290 and {len(m.implicants) for m in pars.models} == {6}
    assert len({m.implicants for m in pars.models}) == 290
    allowed = set(tt.positive) | set(tt.remainders)
    for m in pars.models:
        assert all(_minterms(t) <= allowed for t in m.implicants)
        assert set(tt.positive) <= set().union(*(_minterms(t) for t in m.implicants))
    assert inter.models and all(m.pairs for m in inter.models)


def _petrick(on: set[str], primes: set[str]) -> set[frozenset[str]]:
    """Independent oracle: Petrick's product of sums with absorption (small charts only)."""
    products: set[frozenset[str]] = {frozenset()}
    for m in sorted(on):
        options = [p for p in primes if m in _minterms(p)]
        new = {p | {t} for p in products for t in options}
        products = {p for p in new if not any(q < p for q in new)}
    smallest = min(len(p) for p in products)
    return {p for p in products if len(p) == smallest}


def test_minimum_covers_match_petrick_on_six_conditions() -> None:
    rng = np.random.default_rng(5)
    codes = ["".join(r) for r in itertools.product("01", repeat=6)]
    checked = 0
    for _ in range(40):
        status = rng.choice(["1", "0", "?"], size=64, p=[0.2, 0.4, 0.4])
        on = {c for c, s in zip(codes, status, strict=True) if s == "1"}
        dc = {c for c, s in zip(codes, status, strict=True) if s == "?"}
        if not 6 <= len(on) <= 11 or checked == 8:
            continue
        primes = _boolean.prime_implicants(on, dc)
        got = {frozenset(c) for c in _boolean.minimum_covers(on, primes)}
        assert got == _petrick(on, primes)
        checked += 1
    assert checked >= 8


def test_intractable_charts_refused_with_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    cyclic = crisp_table(["000", "001", "010", "101", "110", "111"], ["011", "100"])
    assert len(minimize(cyclic).models) == 2
    monkeypatch.setattr(_boolean, "MAX_MODELS", 1)
    with pytest.raises(SpecificationError, match="at most 1 equally minimal models"):
        minimize(cyclic)
    monkeypatch.setattr(_boolean, "MAX_IMPLICANTS", 10)
    tt = _k8_table()
    with pytest.raises(SpecificationError, match="at most 10 prime implicants.*fewer conditions"):
        minimize(tt, remainders="include")


# ------------------------------------------------------------------ cut-offs, arguments


def test_consistency_meets_cut_up_to_float_error() -> None:
    # consistency of row 1 is 1.2 / 1.5 = 0.8, computed as 0.7999999999999999 (R: agteb -> 1)
    data = pd.DataFrame({"A": [0.2, 0.0, 0.6, 0.7], "Y": [0.4, 0.6, 0.3, 0.8]})
    tt = _tt(data, outcome="Y", conditions=["A"], incl_cut=0.8)
    assert tt.table["consistency"].iloc[1] < 0.8
    assert tt.table["out"].tolist() == ["0", "1"]
    assert _tt(data, outcome="Y", conditions=["A"], incl_cut=0.8, pri_cut=0.8).table["out"].iloc[1] in ("0", "1")
    assert _tt(data, outcome="Y", conditions=["A"], incl_cut=0.81).table["out"].tolist() == ["0", "0"]
    # necessity: consistency of A for Y is 1.2 / 2.1; flagged at exactly that cut
    nec = necessity(data, outcome="Y", conditions=["A"], incl_cut=1.2 / 2.1 + 5e-11, ron_cut=0)
    assert bool(nec.table.loc[nec.table["term"] == "A", "necessary"].iloc[0])


def test_numpy_float32_cut_offs_and_inclusion_degree() -> None:
    data = pd.DataFrame({"A": [0.2, 0.0, 0.6, 0.7], "Y": [0.4, 0.6, 0.3, 0.8]})
    tt = _tt(data, outcome="Y", conditions=["A"], incl_cut=np.float32(0.8), pri_cut=np.float32(0.5))
    assert tt.incl_cut == 0.8 and tt.pri_cut == 0.5 and tt.table["out"].iloc[1] == "1"
    got = calibrate([1.0, 3.0], thresholds=(0, 2, 4), inclusion_degree=np.float32(0.95))
    assert np.allclose(got, calibrate([1.0, 3.0], thresholds=(0, 2, 4)))
    assert necessity(data, outcome="Y", conditions=["A"], incl_cut=np.float32(0.5)).incl_cut == 0.5


def test_no_negative_rows_is_an_error_not_the_tautology() -> None:
    # both observed rows (000, 111) positive, the other six remainders
    data = pd.DataFrame({"A": [0, 1], "B": [0, 1], "C": [0, 1], "Y": [0.9, 1.0]})
    tt = _tt(data, outcome="Y", conditions=["A", "B", "C"])
    assert tt.positive == ("000", "111") and not tt.negative
    with pytest.raises(SpecificationError, match="tautology"):
        minimize(tt, remainders="include")
    assert minimize(tt).expressions == ("A*B*C + ~A*~B*~C",)


def test_show_cases_needs_unique_labels() -> None:
    data = pd.DataFrame(
        {"A": [0.8, 0.6, 0.3, 0.9], "B": [0.7, 0.2, 0.6, 0.9], "Y": [0.9, 0.4, 0.7, 0.6]},
        index=["a", "a", "b", "c"],
    )
    with pytest.raises(SpecificationError, match=r"unique case labels.*\['a'\]"):
        _tt(data, outcome="Y", conditions=["A", "B"], show_cases=True)
    tt = _tt(
        data.assign(name=["a1", "a2", "b", "c"]), outcome="Y", conditions=["A", "B"], show_cases=True, case_id="name"
    )
    assert "a1" in ",".join(tt.table["cases"])


# --------------------------------------------------------------------------- robustness


def _raw_cases(seed: int = 1, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    inside = rng.random((n, 3)) < 0.5
    raw = np.where(inside, rng.uniform(6.5, 10, inside.shape), rng.uniform(0, 3.5, inside.shape))
    d = pd.DataFrame(raw, columns=["EARLY", "COLLAB", "HEALTH"], index=[f"m{i}" for i in range(n)])
    y = np.maximum(np.minimum(d["EARLY"], d["COLLAB"]), np.minimum(d["EARLY"], d["HEALTH"]))
    d["LOW_NEET"] = np.clip(y + rng.normal(0, 0.5, n), 0, 10)
    return d


ANCHORS = {c: (2.0, 5.0, 8.0) for c in ["EARLY", "COLLAB", "HEALTH", "LOW_NEET"]}
CONDS = ["EARLY", "COLLAB", "HEALTH"]


def test_rf_sc_min_is_similarity_to_the_test_set_minimum() -> None:
    raw = _raw_cases()
    wider = dict.fromkeys(CONDS, (1.0, 5.0, 9.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        rob = robustness(
            raw, outcome="LOW_NEET", conditions=CONDS, calibration=ANCHORS, calibrations={"wider": wider}, pri_cut=0.5
        )
    assert rob.table["expression"].tolist() == ["EARLY*COLLAB + EARLY*HEALTH"] * 2

    def solution(anchors: dict[str, tuple[float, float, float]]) -> np.ndarray:
        e, c, h = (calibrate(raw[n].to_numpy(), thresholds=anchors[n]) for n in CONDS)
        return np.maximum(np.minimum(e, c), np.minimum(e, h))

    initial, test = solution(ANCHORS), solution({**ANCHORS, **wider})
    # SetMethods RF_SC_minTS with one test set: TS_min = TS_max = the test set
    expected = np.minimum(initial, test).sum() / np.maximum(initial, test).sum()
    assert rob.fit["rf_sc_min"] == pytest.approx(expected) and rob.fit["rf_sc_max"] == pytest.approx(expected)
    assert round(rob.fit["rf_sc_min"], 3) == 0.891


def test_robustness_reports_variants_without_solution_and_checks_cuts() -> None:
    raw = _raw_cases()
    with pytest.warns(O4OWarning, match="robustness test sets.*1 without a positive"):
        rob = robustness(raw, outcome="LOW_NEET", conditions=CONDS, calibration=ANCHORS, incl_cuts=[0.8, 1.0])
    assert rob.table["expression"].isna().tolist() == [False, True]
    for bad in ({"n_cuts": [1.7]}, {"n_cuts": [0]}, {"incl_cuts": ["0.8"]}):
        with pytest.raises(SpecificationError, match="incl_cuts/n_cuts"):
            robustness(raw, outcome="LOW_NEET", conditions=CONDS, calibration=ANCHORS, **bad)  # type: ignore[arg-type]
    assert issubclass(NoPositiveRowsError, SpecificationError)
    none = crisp_table(["100"], ["000", "001", "010", "100"])
    with pytest.raises(NoPositiveRowsError):
        minimize(none)

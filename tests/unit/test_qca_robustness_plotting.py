"""QCA robustness table and plots (XY plot, truth-table view)."""

from __future__ import annotations

import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from o4o_causal.exceptions import O4OWarning, SpecificationError
from o4o_causal.plotting.qca import truth_table_data, truth_table_plot, xy_plot, xy_plot_data
from o4o_causal.qca import minimize, robustness, truth_table

matplotlib.use("Agg")


def raw_cases(seed: int = 1, n: int = 40) -> pd.DataFrame:
    """Raw scores 0-10 for three conditions and an outcome following EARLY*(COLLAB + HEALTH)."""
    rng = np.random.default_rng(seed)
    inside = rng.random((n, 3)) < 0.5
    raw = np.where(inside, rng.uniform(6.5, 10, inside.shape), rng.uniform(0, 3.5, inside.shape))
    d = pd.DataFrame(raw, columns=["EARLY", "COLLAB", "HEALTH"], index=[f"m{i}" for i in range(n)])
    y = np.maximum(np.minimum(d["EARLY"], d["COLLAB"]), np.minimum(d["EARLY"], d["HEALTH"]))
    d["LOW_NEET"] = np.clip(y + rng.normal(0, 0.5, n), 0, 10)
    return d


ANCHORS = {c: (2.0, 5.0, 8.0) for c in ["EARLY", "COLLAB", "HEALTH", "LOW_NEET"]}


def test_robustness_table_and_core_terms() -> None:
    raw = raw_cases()
    before = raw.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        rob = robustness(
            raw,
            outcome="LOW_NEET",
            conditions=["EARLY", "COLLAB", "HEALTH"],
            calibration=ANCHORS,
            calibrations={"wider": {"EARLY": (1.0, 5.0, 9.0)}, "shifted": {"LOW_NEET": (2.5, 5.5, 8.5)}},
            incl_cuts=[0.8, 0.85],
            n_cuts=[1, 2],
            pri_cut=0.5,
        )
    t = rob.table
    assert len(t) == 3 * 2 * 2 and int(t["initial"].sum()) == 1 and bool(t["initial"].iloc[0])
    assert rob.core_terms == ("EARLY*COLLAB", "EARLY*HEALTH")
    assert rob.initial.expression == "EARLY*COLLAB + EARLY*HEALTH"
    assert {"core: EARLY*COLLAB", "core: EARLY*HEALTH"} <= set(t.columns)
    assert t["core: EARLY*COLLAB"].all() and t["core: EARLY*HEALTH"].all()
    assert bool(t["same_as_initial"].iloc[0]) and 0.0 <= rob.share_identical <= 1.0
    for key in ("rf_cons", "rf_cov", "rf_sc_min", "rf_sc_max"):
        assert 0.0 < rob.fit[key] <= 1.0 + 1e-9
    # robust core: the intersection (min) over all solutions is within the initial solution
    is_m = rob.initial.membership().to_numpy()
    assert np.all(rob.robust_core.to_numpy() <= is_m + 1e-12)
    # the robust core is the minimum over the initial solution and every test set
    assert np.all(rob.robust_core.to_numpy() >= 0.0) and rob.robust_core.index.name == "case"
    pd.testing.assert_frame_equal(raw, before)
    assert "Robustness(initial parsimonious solution EARLY*COLLAB + EARLY*HEALTH" in repr(rob)


def test_robustness_identical_variants_fit_one_and_errors() -> None:
    raw = raw_cases()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        rob = robustness(
            raw,
            outcome="LOW_NEET",
            conditions=["EARLY", "COLLAB", "HEALTH"],
            calibration=ANCHORS,
            incl_cuts=[0.8, 0.8000001],
            pri_cut=0.5,
        )
    assert rob.table["same_as_initial"].all()
    assert all(v == pytest.approx(1.0, abs=1e-12) for v in rob.fit.values())
    with pytest.raises(SpecificationError, match=r"calibration 'x'.*\['OTHER'\]"):
        robustness(
            raw,
            outcome="LOW_NEET",
            conditions=["EARLY", "COLLAB", "HEALTH"],
            calibration=ANCHORS,
            calibrations={"x": {"OTHER": (1, 2, 3)}},
        )


def _solution():  # type: ignore[no-untyped-def]
    from o4o_causal.qca import calibrate

    raw = raw_cases()
    cal = raw.apply(lambda s: calibrate(s, thresholds=ANCHORS[s.name]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)
        tt = truth_table(cal, outcome="LOW_NEET", conditions=["EARLY", "COLLAB", "HEALTH"], pri_cut=0.5)
    return tt, minimize(tt, remainders="include"), cal


def test_xy_plot_data_and_plot() -> None:
    _, sol, cal = _solution()
    d = xy_plot_data(sol)
    assert len(d) == 40 and list(d["case"][:2]) == ["m0", "m1"]
    expected_x = np.maximum(np.minimum(cal["EARLY"], cal["COLLAB"]), np.minimum(cal["EARLY"], cal["HEALTH"]))
    assert np.allclose(d["x"], expected_x) and np.allclose(d["y"], cal["LOW_NEET"])
    assert d.attrs["consistency"] == pytest.approx(sol.consistency)
    assert d.attrs["coverage"] == pytest.approx(np.minimum(d["x"], d["y"]).sum() / d["y"].sum())
    assert (d["deviant_consistency"] == ((d["x"] > 0.5) & (d["y"] < 0.5))).all()
    term = xy_plot_data(sol, term="EARLY*HEALTH")
    assert np.allclose(term["x"], np.minimum(cal["EARLY"], cal["HEALTH"]))
    fig, ax = plt.subplots()
    out = xy_plot(sol, ax=ax, label_cases=True)
    assert out is ax and len(ax.collections) == 1 and "consistency" in ax.get_title()
    plt.close(fig)
    with pytest.raises(SpecificationError, match="term"):
        xy_plot_data(sol, term="EARLY*IRR")


def test_truth_table_data_and_plot() -> None:
    tt, _, _ = _solution()
    d = truth_table_data(tt)
    observed = tt.table[tt.table["n"] > 0]
    assert len(d) == len(observed) and d["n"].sum() == 40
    assert list(d["out"]) == sorted(d["out"], key={"1": 0, "0": 1, "?": 2}.get)
    assert "EARLY*COLLAB*HEALTH" in set(d["label"])
    assert len(truth_table_data(tt, complete=True)) == 8
    ax = truth_table_plot(tt)
    assert len(ax.patches) == len(d) and len(ax.get_yticklabels()) == len(d)
    plt.close(ax.figure)

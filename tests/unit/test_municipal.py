"""Municipal deviance: recovery of planted deviances, determinism, disclosure, bad input, plots.

Recovery thresholds were measured on :func:`simulate` (40 municipalities, 60 persons each,
4 years, true deviance SD 0.5; draws=300, tune=300, chains=2) over simulation seeds 0-7:
Spearman correlation of the posterior mean with the true deviance 0.78-0.92 (median 0.88),
precision of the k=4 positive + 4 negative selections against the true bottom/top
deciles 0.33-1.0 (median 0.69; chance 0.1). The tests use seed 3 and require
rho >= 0.7 and precision >= 0.5.
"""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from o4o_causal import config
from o4o_causal.exceptions import ConvergenceError, DataError, O4OWarning, SpecificationError
from o4o_causal.municipal import DevianceResult, deviance
from o4o_causal.municipal._design import RISK_FACTORS, STRUCTURAL, build_cells, tail_count
from o4o_causal.plotting import municipal as mplot

T = config.DISCLOSURE.threshold
FAST = {"draws": 300, "tune": 300, "chains": 2}
YEARS = (2019, 2020, 2021, 2022)


def simulate(
    seed: int = 0, n_munis: int = 40, persons: int = 60, sd_u: float = 0.5, sd_w: float = 0.1, small: int = 3
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Person-years of a NEET-like cohort (one country) with known municipality deviances.

    Municipality ``XX-000`` has only ``small`` persons (below the disclosure threshold).
    """
    rng = np.random.default_rng(seed)
    ids = np.array([f"XX-{i:03d}" for i in range(n_munis)])
    munis = pd.DataFrame(
        {
            "municipality_id": ids,
            "country": "NO",
            "unemployment_rate": rng.uniform(0.02, 0.08, n_munis),
            "urbanity": rng.uniform(0, 1, n_munis),
        }
    )
    u = rng.normal(0, sd_u, n_munis)
    size = np.full(n_munis, persons)
    size[0] = small
    m = np.repeat(np.arange(n_munis), size)
    n = m.size
    age0 = rng.integers(16, 28, n)
    female, health, low_edu, nonw = (rng.random(n) < p for p in (0.5, 0.12, 0.3, 0.15))
    w = rng.normal(0, sd_w, (n_munis, len(YEARS)))
    frames = []
    for t, year in enumerate(YEARS):
        age = age0 + t
        logit = (
            -2.2
            + 1.4 * health
            + 0.6 * low_edu
            + 0.4 * nonw
            - 0.1 * female
            + 0.04 * (age - 22)
            + 8 * (munis["unemployment_rate"].to_numpy()[m] - 0.05)
            + u[m]
            + w[m, t]
        )
        frames.append(
            pd.DataFrame(
                {
                    "person_id": np.arange(n),
                    "country": "NO",
                    "municipality_id": ids[m],
                    "year": year,
                    "age": age,
                    "female": female.astype(np.int64),
                    "nonwestern": nonw.astype(np.int64),
                    "low_education": low_edu.astype(np.int64),
                    "health_problem": health.astype(np.int64),
                    "neet": (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64),
                }
            )
        )
    return pd.concat(frames, ignore_index=True), munis, pd.Series(u, index=ids, name="true_deviance")


@pytest.fixture(autouse=True)
def _close():  # type: ignore[no-untyped-def]
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def world() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    return simulate(3)


def _fit(data: pd.DataFrame, munis: pd.DataFrame, seed: int = 1) -> DevianceResult:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", O4OWarning)  # short chains for speed: the gate warns
        return deviance(data, municipalities=munis, seed=seed, on_failure="warn", **FAST)


@pytest.fixture(scope="module")
def fitted(world) -> DevianceResult:  # type: ignore[no-untyped-def]
    data, munis, _ = world
    return _fit(data, munis)


def test_recovers_planted_deviances(fitted, world) -> None:  # type: ignore[no-untyped-def]
    _, _, truth = world
    table = fitted.table(suppress=False).set_index("municipality")
    rho = stats.spearmanr(table["deviance_mean"], truth.loc[table.index])[0]
    assert rho >= 0.7
    k = tail_count(len(truth), 0.1)
    low, high = set(truth.nsmallest(k).index), set(truth.nlargest(k).index)
    sel = fitted.select(k)
    pos = sel.loc[sel["side"] == "positive", "municipality"]
    neg = sel.loc[sel["side"] == "negative", "municipality"]
    precision = (pos.isin(low).sum() + neg.isin(high).sum()) / (2 * k)
    assert precision >= 0.5
    # positive deviants: lower NEET than expected, high probability of the bottom decile
    assert (sel.loc[sel["side"] == "positive", "deviance_mean"] < 0).all()
    assert (sel.loc[sel["side"] == "negative", "deviance_mean"] > 0).all()
    assert 0.3 < fitted.sigma_u < 0.8  # truth 0.5
    assert fitted.sigma_w < 0.3  # truth 0.1; this draw of the data is overdispersed by chance (slot-level
    # Pearson chi2 154 on ~117 df with a fixed-effects GLM), hence a posterior mean near 0.25


def test_table_contents_and_consistency(fitted, world) -> None:  # type: ignore[no-untyped-def]
    data, _, _ = world
    t = fitted.table(suppress=False).set_index("municipality")
    counts = data.groupby("municipality_id").agg(py=("neet", "size"), ev=("neet", "sum"), p=("person_id", "nunique"))
    assert (t["person_years"] == counts["py"]).all() and (t["events"] == counts["ev"]).all()
    assert (t["persons"] == counts["p"]).all()
    np.testing.assert_allclose(t["observed_rate"], counts["ev"] / counts["py"])
    # expected rates (u = w = 0: a typical municipality) are a little below the observed average
    # (Jensen: averaging expit over the municipality deviances raises a rate below 0.5)
    gap = data["neet"].mean() - np.average(t["expected_rate"], weights=t["person_years"])
    assert 0 < gap < 0.03
    assert (t["deviance_low"] <= t["deviance_mean"]).all() and (t["deviance_mean"] <= t["deviance_high"]).all()
    # rate difference has the sign of the deviance
    assert (np.sign(t["rate_difference"]) == np.sign(t["deviance_mean"])).mean() > 0.95
    # probabilities: every draw puts exactly k municipalities in each tail; consistency <= P(u < 0)
    k = tail_count(len(t), 0.1)
    assert t["p_bottom"].sum() == pytest.approx(k) and t["p_top"].sum() == pytest.approx(k)
    assert (t["p_below_every_year"] <= t["p_below"] + 0.05).all()
    assert t["years"].eq(len(YEARS)).all()
    assert np.isclose(t["rank_mean"].mean(), (len(t) + 1) / 2)
    years = fitted.years_table(suppress=False)
    assert len(years) == len(t) * len(YEARS)
    np.testing.assert_allclose(years.groupby("municipality")["person_years"].sum().loc[t.index], t["person_years"])
    assert fitted.u_draws.shape == (600, len(t)) and not fitted.u_draws.flags.writeable
    assert fitted.w_draws.shape == (600, len(years))


def test_summary_diagnostics_and_shrinkage(fitted) -> None:  # type: ignore[no-untyped-def]
    s = fitted.summary().set_index("parameter")
    assert {"alpha", "sigma_u", "sigma_w", "beta[health_problem]", "gamma[unemployment_rate]"} <= set(s.index)
    assert "beta[age[20-25)]" in s.index  # age in bands
    assert 1.0 < s.loc["beta[health_problem]", "mean"] < 1.8  # truth 1.4
    assert s.loc["gamma[unemployment_rate]", "mean"] > 0  # truth 8 per unit rate > 0 per SD
    d = fitted.diagnostics_table()
    assert {"parameter", "rhat", "ess_bulk", "ess_tail"} <= set(d.columns) and d.attrs["chains"] == 2
    sh = fitted.shrinkage(suppress=False)
    ok = sh["raw_deviance"].notna()
    # partial pooling: posterior means are pulled towards 0, the more the further out the raw value
    assert sh.loc[ok, "deviance_mean"].std() < sh.loc[ok, "raw_deviance"].std()
    np.testing.assert_allclose(sh["pull"], sh["raw_deviance"] - sh["deviance_mean"])
    assert np.corrcoef(sh.loc[ok, "pull"], sh.loc[ok, "raw_deviance"])[0, 1] > 0.5
    assert "binomial cells" in repr(fitted) and fitted.design["cells"] < fitted.design["person_years"] / 2


def test_same_seed_same_numbers(fitted, world) -> None:  # type: ignore[no-untyped-def]
    data, munis, _ = world
    again = _fit(data, munis)
    np.testing.assert_array_equal(again.u_draws, fitted.u_draws)
    pd.testing.assert_frame_equal(again.table(), fitted.table())
    pd.testing.assert_frame_equal(again.select(4), fitted.select(4))


def test_disclosure_suppression(fitted) -> None:  # type: ignore[no-untyped-def]
    raw = fitted.table(suppress=False).set_index("municipality")
    pub = fitted.table().set_index("municipality")
    assert raw.loc["XX-000", "persons"] < T and pub.loc["XX-000", "small"]
    assert pub.loc["XX-000", ["persons", "observed_rate", "deviance_mean", "p_bottom"]].isna().all()
    few = (raw["events"] < T) | (raw["person_years"] - raw["events"] < T)
    assert pub.loc[few, "observed_rate"].isna().all() and pub.loc[few, "events"].isna().all()
    assert pub.loc[~few & ~pub["small"], "observed_rate"].notna().all()
    years = fitted.years_table()
    raw_years = fitted.years_table(suppress=False)
    cell_few = (raw_years["events"] < T) | (raw_years["person_years"] - raw_years["events"] < T)
    assert years.loc[cell_few.to_numpy(), "observed_rate"].isna().all() and cell_few.any()
    # a stricter threshold suppresses more
    strict = fitted.table(threshold=30)
    assert strict["observed_rate"].isna().sum() > pub["observed_rate"].isna().sum()
    # selections never include municipalities below the threshold
    assert "XX-000" not in set(fitted.select(4, min_persons=1)["municipality"])


def test_select_options(fitted) -> None:  # type: ignore[no-untyped-def]
    by_mean = fitted.select(3, by="mean")
    pos = by_mean[by_mean["side"] == "positive"]
    assert pos["deviance_mean"].is_monotonic_increasing and list(pos["rank"]) == [1, 2, 3]
    by_p = fitted.select(3)
    assert by_p.loc[by_p["side"] == "positive", "probability"].is_monotonic_decreasing
    with pytest.raises(SpecificationError, match="by"):
        fitted.select(3, by="median")
    with pytest.raises(SpecificationError, match="lower k"):
        fitted.select(30)
    with pytest.raises(SpecificationError, match="country"):
        fitted.select(3, country="SE")


def test_plots(fitted, world) -> None:  # type: ignore[no-untyped-def]
    _, _, truth = world
    sel = fitted.select(4)
    data = mplot.funnel_data(fitted, selection=sel)
    pub = fitted.table()
    assert len(data) == pub["events"].notna().sum() and data.attrs["left_out"] == pub["events"].isna().sum()
    row = data.iloc[0]
    assert row["ratio"] == pytest.approx(row["observed"] / row["expected"])
    p = row["expected"] / row["person_years"]
    assert row["z"] == pytest.approx((row["observed"] - row["expected"]) / np.sqrt(row["expected"] * (1 - p)))
    assert (data["outside_99_8"] <= data["outside_95"]).all()
    assert set(data.loc[data["side"] != "", "municipality"]) <= set(sel["municipality"])
    lo, hi = mplot.funnel_limits(0.1, np.array([100.0, 400.0]), 0.95)
    np.testing.assert_allclose(hi - 1, 1.959964 * np.sqrt(0.9 / (np.array([100.0, 400.0]) * 0.1)), rtol=1e-6)
    np.testing.assert_allclose(lo, np.maximum(2 - hi, 0))
    assert mplot.funnel_plot(fitted, selection=sel).get_xscale() == "log"
    cat = mplot.deviance_caterpillar_data(fitted, selection=sel, truth=truth.to_dict())
    assert len(cat) == len(pub) - 1 and cat.attrs["left_out"] == 1  # XX-000 is small
    assert cat["mean"].is_monotonic_increasing and (cat["side"] != "").sum() == 8
    assert cat["truth"].notna().all()
    ax = mplot.deviance_caterpillar(fitted, selection=sel, truth=truth.to_dict())
    assert "left out" in ax.get_title()
    with pytest.raises(SpecificationError):
        mplot.funnel_data(pd.DataFrame({"x": [1]}))


def test_convergence_gate_raises(world) -> None:  # type: ignore[no-untyped-def]
    data, munis, _ = world
    with pytest.raises(ConvergenceError, match="municipal deviance"):
        deviance(data, municipalities=munis, seed=1, draws=10, tune=10, chains=2)


# --------------------------------------------------------------------------- bad input (no sampling)


def _cells(data: pd.DataFrame, munis: pd.DataFrame | None, **kw):  # type: ignore[no-untyped-def]
    args = {
        "outcome": "neet",
        "risk_factors": RISK_FACTORS,
        "structural": STRUCTURAL,
        "municipality": "municipality_id",
        "country": "country",
        "year": "year",
        "person": "person_id",
        "municipalities": munis,
        "bands": None,
        "pool_countries": False,
    }
    return build_cells(data, **{**args, **kw})


def test_cells_collapse_and_do_not_mutate(world) -> None:  # type: ignore[no-untyped-def]
    data, munis, _ = world
    before = data.copy()
    cells = _cells(data, munis)
    pd.testing.assert_frame_equal(data, before)
    assert cells.n.sum() == len(data) and cells.y.sum() == data["neet"].sum()
    assert cells.n.size < len(data) / 2 and cells.xp.shape[0] <= 4 * 16
    with pytest.warns(O4OWarning, match="band continuous risk factors"):
        linear = _cells(data, munis, bands={})
    assert linear.n.size > cells.n.size and "age" in linear.features


@pytest.mark.parametrize(
    ("change", "kind", "match"),
    [
        (lambda d: d.drop(columns="female"), DataError, "'female'.*missing"),
        (lambda d: d.assign(neet=d["neet"] * 2), DataError, "binary"),
        (lambda d: d.assign(age=d["age"].where(d.index != 5)), DataError, "missing values"),
        (
            lambda d: d.assign(country=np.where((d["municipality_id"] == "XX-001") & (d["year"] == 2019), "SE", "NO")),
            DataError,
            "several countries",
        ),
        (lambda d: d[d["municipality_id"] < "XX-005"], DataError, "at least 10"),
        (lambda d: d[d["year"] == 2019], DataError, "at least 2 years"),
        (
            lambda d: d.assign(country=np.where(d["municipality_id"] < "XX-020", "SE", "NO")),
            SpecificationError,
            "pool_countries",
        ),
        (lambda d: d.assign(female="f"), DataError, "numeric"),
    ],
)
def test_bad_input(world, change, kind, match) -> None:  # type: ignore[no-untyped-def]
    data, munis, _ = world
    with pytest.raises(kind, match=match) as err:
        _cells(change(data), munis)
    assert "expected" in str(err.value) and "Fix:" in str(err.value)


def test_structural_errors(world) -> None:  # type: ignore[no-untyped-def]
    data, munis, _ = world
    with pytest.raises(DataError, match="municipalities="):
        _cells(data, None)
    with pytest.raises(DataError, match="a row for every municipality"):
        _cells(data, munis.iloc[1:])
    varying = data.assign(unemployment_rate=np.arange(len(data)) / len(data))
    with pytest.raises(DataError, match="one value per municipality"):
        _cells(varying, munis)
    with pytest.raises(SpecificationError, match="disjoint"):
        _cells(data, munis, structural=["female"], risk_factors=["female"])


def test_pooled_countries_design(world) -> None:  # type: ignore[no-untyped-def]
    data, munis, _ = world
    two = data.assign(country=np.where(data["municipality_id"] < "XX-020", "SE", "NO"))
    cells = _cells(two, munis, pool_countries=True)
    assert cells.countries == ("NO", "SE") and set(cells.muni_country.tolist()) == {0, 1}


def test_bad_options(world) -> None:  # type: ignore[no-untyped-def]
    data, munis, _ = world
    for kw, match in (
        ({"on_failure": "ignore"}, "on_failure"),
        ({"ci_level": 1.5}, "ci_level"),
        ({"tail": 0.7}, "tail"),
    ):
        with pytest.raises(SpecificationError, match=match):
            deviance(data, municipalities=munis, **kw)  # type: ignore[arg-type]

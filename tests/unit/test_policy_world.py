"""The Bergen reform in the synthetic world: planted effects recovered, null covered, no pre-trends.

A small world with a raised social-assistance sampling fraction (0.1: ~150k adults, ~520
Bergen recipients in 2019). To stay fast, the cohort frame is built from the world's
generating matrices for the analysed persons only; ``test_block_frame_equals_store``
shows on a small world that this frame is identical to ``store.cohort("social_assistance")``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from o4o_causal.exceptions import O4OWarning
from o4o_causal.policy import city_series, did, did_by, event_study, person_panel, synthetic_control
from o4o_causal.registers import formats, open_store
from o4o_causal.synth import World, generate_world
from o4o_causal.synth._common import month_start

SA = formats.STATES.index("SA")


def block_frame(world: World, rows: np.ndarray | None = None) -> pd.DataFrame:
    """The ``social_assistance`` cohort frame computed from the world's matrices (for ``rows``)."""
    i = next(k for k, b in enumerate(world.blocks) if b.cohort == "social_assistance")
    block = world.blocks[i]
    sel = np.arange(block.n) if rows is None else np.asarray(rows)
    states = block.states()[sel]
    earnings = block.earnings[sel]
    persons = block.persons.iloc[sel].reset_index(drop=True)
    ids = world.person_ids(i)[sel]
    r, c = np.nonzero(states >= 0)
    month = month_start(block.window_start[sel][r] + c)
    names = world.municipalities.set_index("municipality_id")["name"]
    muni = persons["municipality_id"].to_numpy()[r]
    year = pd.DatetimeIndex(month).year.to_numpy().astype(np.int64)
    frame = pd.DataFrame(
        {
            "person_id": ids[r],
            "municipality_id": muni,
            "city": names.reindex(muni).to_numpy(),
            "month": month,
            "year": year,
            "on_sa": (states[r, c] == SA).astype(np.int64),
            "employed": (earnings[r, c] > 0).astype(np.int64),
            "earnings": earnings[r, c].astype(np.float64),
            "female": persons["female"].to_numpy()[r].astype(np.int64),
            "age": year - persons["birth_year"].to_numpy()[r],
            "nonwestern": (persons["background"].to_numpy()[r] == "nonwestern").astype(np.int64),
            "children": (persons["n_children"].to_numpy()[r] > 0).astype(np.int64),
            "bergen": (muni == "NO-4601").astype(np.int64),
            "post": (month >= np.datetime64("2020-01-01")).astype(np.int64),
        }
    )
    return frame.sort_values(["person_id", "month"], ignore_index=True)


def recipient_rows(world: World, year: int = 2019) -> np.ndarray:
    """Block rows of persons on social assistance in at least one month of ``year``."""
    i = next(k for k, b in enumerate(world.blocks) if b.cohort == "social_assistance")
    block = world.blocks[i]
    months = block.window_start[0] + np.arange(block.months)
    years = pd.DatetimeIndex(month_start(months)).year.to_numpy()
    return np.flatnonzero((block.states()[:, years == year] == SA).any(axis=1))


@pytest.fixture(scope="module")
def world() -> World:
    return generate_world("small", seed=11, sa_fraction=0.1)


@pytest.fixture(scope="module")
def recipients(world: World) -> pd.DataFrame:
    return person_panel(block_frame(world, recipient_rows(world)), freq="year", recipients_in=2019)


@pytest.fixture(scope="module")
def truth(world: World) -> pd.DataFrame:
    return world.truth.reform_effects.set_index(["population", "group"])


@pytest.fixture(scope="module")
def small_store_frame(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, pd.DataFrame]:
    path = Path(tmp_path_factory.mktemp("sa_world"))
    w = generate_world("small", seed=2)
    w.write(path)
    return w, open_store(path).cohort("social_assistance")


def test_block_frame_equals_store(small_store_frame: tuple[World, pd.DataFrame]) -> None:
    w, store_frame = small_store_frame
    mine = block_frame(w)
    pd.testing.assert_frame_equal(mine, store_frame[mine.columns.tolist()], check_dtype=False)


def test_overall_effect_is_null_among_all_adults(world: World, truth: pd.DataFrame) -> None:
    """Bergen adults overall: planted effect ~ -0.003; a 12k-person sample's CI covers it."""
    i = next(k for k, b in enumerate(world.blocks) if b.cohort == "social_assistance")
    sample = np.sort(np.random.default_rng(0).choice(world.blocks[i].n, 12_000, replace=False))
    panel = person_panel(block_frame(world, sample), freq="year")
    est = did(panel, outcome="employment", unit="person_id", time="period", treated="bergen", post="post")
    planted = truth.loc[("bergen_adults", "all"), "att_employment"]
    assert abs(planted) < 0.01
    assert est.covers(planted)
    assert est.ci_high - est.ci_low < 0.05


def test_planted_negative_effects_among_2019_recipients(recipients: pd.DataFrame, truth: pd.DataFrame) -> None:
    overall = did(recipients, outcome="employment", unit="person_id", time="period", treated="bergen", post="post")
    assert overall.covers(truth.loc[("recipients_2019", "all"), "att_employment"])
    by = did_by(
        recipients, outcome="employment", unit="person_id", time="period", treated="bergen", post="post", by="group"
    )
    for group, est in by.estimates.items():
        planted = truth.loc[("recipients_2019", group), "att_employment"]
        assert est.covers(planted), (group, est, planted)
    affected = [by.estimates[g].value for g in ("families_children", "nonwestern", "nonwestern_families_children")]
    assert np.mean(affected) < 0.0


def test_city_clustering_warns_single_treated_city(recipients: pd.DataFrame) -> None:
    with pytest.warns(O4OWarning, match="invalid"):
        did(
            recipients,
            outcome="employment",
            unit="person_id",
            time="period",
            treated="bergen",
            post="post",
            cluster="city",
        )


def test_no_pretrends_among_2019_recipients(recipients: pd.DataFrame, truth: pd.DataFrame) -> None:
    panel = recipients.assign(adoption=np.where(recipients["bergen"] == 1, 2020.0, np.nan))
    es = event_study(panel, outcome="employment", unit="person_id", time="period", treatment_time="adoption")
    assert es.pretrend.df == 3
    assert es.pretrend.p_value > 0.01
    assert es.att.covers(truth.loc[("recipients_2019", "all"), "att_employment"])


def test_city_series_and_synthetic_control_on_store_frame(small_store_frame: tuple[World, pd.DataFrame]) -> None:
    _, frame = small_store_frame
    series = city_series(frame, freq="month")
    assert series["below_threshold"].dtype == bool
    flagged = series[series["suppressed"]]
    assert series.loc[series["below_threshold"], "suppressed"].all()
    assert flagged[["value", "count", "n"]].isna().all().all()  # nothing of a suppressed cell is published
    published = series[~series["suppressed"]]
    assert (published["count"] >= 5).all()
    proportions = published["measure"].isin(["recipient_rate", "employment_rate"])
    assert (published.loc[proportions, "n"] - published.loc[proportions, "count"] >= 5).all()
    rate = series[(series["measure"] == "employment_rate") & (series["group"] == "all")]
    assert not rate["below_threshold"].any()
    by_hand = frame.groupby(["city", "month"])["employed"].mean()
    mine = rate.set_index(["city", "period"])["value"]
    np.testing.assert_allclose(mine.to_numpy(), by_hand.reindex(mine.index).to_numpy(), rtol=1e-12)
    recipients = series[(series["measure"] == "recipients") & ~series["below_threshold"]].set_index(["city", "period"])
    count = frame[frame["on_sa"] == 1].groupby(["city", "month"])["person_id"].nunique()
    np.testing.assert_array_equal(recipients["value"].to_numpy(), count.reindex(recipients.index).to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sc = synthetic_control(
            rate,
            outcome="value",
            unit="city",
            time="period",
            treated_unit="Bergen",
            treatment_time=pd.Timestamp("2020-01-01"),
        )
    assert len(sc.placebos) == 10
    # placebo p-value from the gaps: rank of Bergen's post/pre RMSPE ratio among the ten cities
    gaps = sc.placebo_gaps.pivot(index="period", columns="unit", values="gap")
    gaps["Bergen"] = sc.gaps["gap"]
    post = gaps.index >= pd.Timestamp("2020-01-01")
    ratio = np.sqrt((gaps[post] ** 2).mean() / (gaps[~post] ** 2).mean())
    assert sc.p_value == pytest.approx((ratio >= ratio["Bergen"]).sum() / 10)
    assert abs(sc.weights.sum() - 1) < 1e-12
    assert sc.sdid is not None

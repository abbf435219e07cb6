"""Nearest-neighbour propensity-score matching for the ATT (with replacement).

Every treated unit is matched to its ``n_neighbors`` nearest controls on the distance
(the logit of the propensity score by default, as MatchIt and Dehejia & Wahba); controls
can be reused; ties are broken at random (seeded). With ``caliper`` (in standard
deviations of the distance), treated units without a control that close are dropped and
the estimand becomes the ATT among the matched treated; ``trim`` drops units with
propensity outside ``[trim, 1 - trim]`` first.

Variance (Abadie & Imbens 2006, ATT with replacement)::

    V = n1^-2 [ sum_treated (Y_i - Yhat_i(0) - tau)^2 + sum_controls K_i (K_i - 1) / M^2 sigma_i^2 ]

with ``K_i`` the times control ``i`` is used, ``M = n_neighbors`` and ``sigma_i^2`` from
matching each control to its nearest other control (``(Y_i - Y_j)^2 / 2``). The
estimation of the propensity score is ignored (Abadie & Imbens 2016 show this is not
always conservative for the ATT).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from o4o_causal import _validate, config
from o4o_causal.benchmarks._common import arrays, check_trim, propensity
from o4o_causal.dag.methods import _nearest  # sorted 1-D k-nearest search shared with the DAG matching
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.results import Estimate

DISTANCES = ("logit", "propensity")


def _check(n_neighbors: int, caliper: float | None, distance: str) -> None:
    if isinstance(n_neighbors, bool) or not isinstance(n_neighbors, int) or n_neighbors < 1:
        raise SpecificationError(
            format_error(what="n_neighbors", expected="an integer >= 1", found=repr(n_neighbors), fix="use 1")
        )
    if caliper is not None and (isinstance(caliper, bool) or not isinstance(caliper, int | float) or caliper <= 0):
        raise SpecificationError(
            format_error(what="caliper", expected="None or a number > 0", found=repr(caliper), fix="use e.g. 0.2")
        )
    if distance not in DISTANCES:
        raise SpecificationError(
            format_error(what="distance", expected=f"one of {DISTANCES}", found=repr(distance), fix="choose one")
        )


def _matches(score: np.ndarray, treated: np.ndarray, controls: np.ndarray, m: int) -> np.ndarray:
    """Return, per treated unit, the indices (into ``score``) of its ``m`` nearest controls."""
    order = controls[np.argsort(score[controls], kind="stable")]
    return np.asarray(order[_nearest(score[order], score[treated], m)])


def _control_noise(score: np.ndarray, y: np.ndarray, controls: np.ndarray) -> np.ndarray:
    """Return ``sigma_i^2`` of every control from its nearest other control."""
    order = controls[np.argsort(score[controls], kind="stable")]
    pair = order[_nearest(score[order], score[controls], 2)]
    other = np.where(pair[:, 0] == controls, pair[:, 1], pair[:, 0])
    return np.asarray((y[controls] - y[other]) ** 2 / 2.0)


def _pairs(
    score: np.ndarray, e: np.ndarray, d: np.ndarray, cut: float | None, n_neighbors: int, caliper: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the matched treated units, the eligible controls and the matches (after trim and caliper)."""
    keep = np.ones(e.size, dtype=bool) if cut is None else (e >= cut) & (e <= 1 - cut)
    treated, controls = np.flatnonzero(keep & (d == 1)), np.flatnonzero(keep & (d == 0))
    if controls.size < max(n_neighbors, 2) or treated.size < 1:
        raise DataError(
            format_error(
                what="units to match",
                expected=f">= 1 treated and >= {max(n_neighbors, 2)} controls",
                found=f"{treated.size} treated, {controls.size} controls",
                fix="use a smaller trim or fewer neighbours",
            )
        )
    idx = _matches(score, treated, controls, n_neighbors)
    if caliper is not None:
        within = np.abs(score[idx] - score[treated][:, None]).max(axis=1) <= caliper * float(np.std(score[keep]))
        treated, idx = treated[within], idx[within]
        if treated.size < 2:
            raise DataError(
                format_error(
                    what=f"caliper={caliper}",
                    expected="at least 2 treated units with matches within the caliper",
                    found=f"{treated.size}",
                    fix="use a wider caliper",
                )
            )
    return treated, controls, idx


def match(
    data: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    n_neighbors: int = 1,
    caliper: float | None = None,
    trim: float | None = None,
    distance: Literal["logit", "propensity"] = "logit",
    seed: int = 0,
    ci_level: float = config.CI_LEVEL,
) -> Estimate:
    """Estimate the ATT by nearest-neighbour matching on the propensity score.

    Parameters
    ----------
    data
        One row per unit (not modified).
    outcome, treatment
        Numeric outcome; binary 0/1 treatment.
    covariates
        Numeric columns of the logistic propensity model.
    n_neighbors
        Controls per treated unit (``M``), with replacement.
    caliper
        Maximum distance, in standard deviations of the distance, between a treated unit
        and its farthest match; treated units beyond it are dropped (``None``: no caliper).
    trim
        Drop units with propensity outside ``[trim, 1 - trim]`` before matching.
    distance
        ``"logit"`` (log-odds of the propensity score) or ``"propensity"``.
    seed
        Seed of the random tie-breaking.
    ci_level
        Level of the normal interval.

    Returns
    -------
    Estimate
        ``estimand = "ATT"``; ``n`` = treated units matched.

    Raises
    ------
    DataError
        Invalid data, or too few controls/treated left after trimming or the caliper.
    SpecificationError
        Bad ``n_neighbors``, ``caliper``, ``trim`` or ``distance``.
    """
    level = _validate.ci_level(ci_level)
    _check(n_neighbors, caliper, distance)
    cut = check_trim(trim)
    arr = arrays(data, outcome=outcome, treatment=treatment, covariates=covariates)
    e, _ = propensity(arr, treatment)
    score = np.log(e / (1 - e)) if distance == "logit" else e.copy()
    score = score + np.random.default_rng(seed).uniform(-1e-9, 1e-9, score.size)  # random tie-breaking
    treated, controls, idx = _pairs(score, e, arr.d, cut, n_neighbors, caliper)
    tau_i = arr.y[treated] - arr.y[idx].mean(axis=1)
    att = float(tau_i.mean())
    used = np.bincount(idx.ravel(), minlength=e.size)[controls].astype(float)
    sigma2 = _control_noise(score, arr.y, controls)
    m = float(n_neighbors)
    variance = (np.sum((tau_i - att) ** 2) + np.sum(used * (used - 1) / m**2 * sigma2)) / treated.size**2
    method = f"matching {n_neighbors}-NN {distance}" + (f" caliper={caliper:g}" if caliper else "")
    method += f" trim={cut:g}" if cut else ""
    return Estimate.from_normal(
        att, float(np.sqrt(variance)), n=int(treated.size), method=method, ci_level=level, estimand="ATT"
    )

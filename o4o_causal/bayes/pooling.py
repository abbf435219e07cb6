"""Bayesian random-effects meta-analysis: pool per-group (e.g. per-country) estimates.

The model for ``J >= 2`` groups with estimates ``y_j`` and standard errors ``se_j`` is::

    y_j     ~ Normal(theta_j, se_j)          (se_j known)
    theta_j = mu + tau * z_j,  z_j ~ Normal(0, 1)   (non-centred, default)
    theta_j ~ Normal(mu, tau)                        (centred=True)
    mu      ~ Normal(mu_mean, mu_sd)
    tau     ~ HalfNormal(tau_scale)  or  HalfCauchy(tau_scale)

``mu`` is the pooled mean effect, ``tau`` the between-group standard deviation and
``theta_j`` the group's effect after partial pooling. All prior scales are on the scale
of the estimates, so set them relative to the effect sizes: the defaults (``mu_sd=1``,
``tau_scale=0.5``) suit risk differences or standardised effects of order 0.1, and are
far too narrow for effects of order 10. Sampling uses PyMC with nutpie, and every fit
passes the convergence gate of :func:`o4o_causal.bayes.diagnostics.check_diagnostics`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, NoReturn

import numpy as np
import pandas as pd

from o4o_causal import _validate, config
from o4o_causal._validate import require_columns, require_frame, require_no_missing
from o4o_causal.bayes.diagnostics import check_diagnostics, diagnostics_table, group_dataset
from o4o_causal.exceptions import DataError, O4OWarning, SpecificationError, format_error
from o4o_causal.results import Estimate

#: Parameters that are diagnosed and summarised.
PARAMETERS: tuple[str, ...] = ("mu", "tau", "theta")

_TAU_FAMILIES = ("halfnormal", "halfcauchy")

#: Columns of the posterior summaries of ``mu`` and ``tau``.
_STATS = ("mean", "sd", "ci_low", "ci_high", "mcse")


def _fail(error: type[Exception], what: str, expected: str, found: str, fix: str) -> NoReturn:
    """Raise ``error`` with a message in the suite's standard form."""
    raise error(format_error(what=what, expected=expected, found=found, fix=fix))


#: Default target acceptance of the pooling model: with three or four groups the funnel
#: between tau and theta needs small steps (0.9 gave 8-12 divergences on four countries).
POOLING_TARGET_ACCEPT = 0.99


@dataclass(frozen=True)
class PoolingPrior:
    """Priors of :func:`pool_estimates`, on the scale of the estimates.

    Parameters
    ----------
    mu_sd
        Standard deviation of the Normal prior on the pooled mean ``mu``.
    tau_family
        ``"halfnormal"`` (default; light tail, regularises ``tau`` with few groups) or
        ``"halfcauchy"`` (heavy tail, lets the data speak for large heterogeneity).
    tau_scale
        Scale of the prior on the between-group standard deviation ``tau`` (``sigma``
        of the HalfNormal, ``beta`` of the HalfCauchy).
    mu_mean
        Mean of the Normal prior on ``mu``.

    Notes
    -----
    Choose the scales relative to the effect sizes: for risk differences around 0.1 the
    defaults are weakly informative; for the eight-schools data (effects ~10 points)
    use e.g. ``PoolingPrior(mu_sd=5, tau_family="halfcauchy", tau_scale=5)``.
    """

    mu_sd: float = 1.0
    tau_family: Literal["halfnormal", "halfcauchy"] = "halfnormal"
    tau_scale: float = 0.5
    mu_mean: float = 0.0

    def __post_init__(self) -> None:
        for name in ("mu_sd", "tau_scale", "mu_mean"):
            value = getattr(self, name)
            positive = name != "mu_mean"
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if not ok or (positive and value <= 0):
                expected = "a finite positive number" if positive else "a finite number"
                fix = "set it on the scale of the estimates (e.g. 0.1-1 for risk differences)"
                _fail(SpecificationError, f"PoolingPrior.{name}", expected, repr(value), fix)
        if self.tau_family not in _TAU_FAMILIES:
            expected = " or ".join(repr(f) for f in _TAU_FAMILIES)
            _fail(SpecificationError, "PoolingPrior.tau_family", expected, repr(self.tau_family), "pick one")

    def table(self) -> pd.DataFrame:
        """Return the priors as a printable table.

        Returns
        -------
        pandas.DataFrame
            Columns ``parameter``, ``distribution``, ``arguments``; one row each for
            ``mu``, ``tau`` and the group effects ``theta[j]``.
        """
        cauchy = self.tau_family == "halfcauchy"
        tau = ("tau", "HalfCauchy" if cauchy else "HalfNormal", f"{'beta' if cauchy else 'sigma'}={self.tau_scale:g}")
        mu = ("mu", "Normal", f"mu={self.mu_mean:g}, sigma={self.mu_sd:g}")
        rows = [mu, tau, ("theta[j]", "Normal", "mu=mu, sigma=tau")]
        return pd.DataFrame(rows, columns=["parameter", "distribution", "arguments"])


def _interval(draws: np.ndarray, ci_level: float) -> tuple[float, float]:
    alpha = (1.0 - ci_level) / 2.0
    low, high = np.quantile(draws, [alpha, 1.0 - alpha])
    return float(low), float(high)


@dataclass(frozen=True, repr=False)
class PooledResult:
    """Posterior of a Bayesian random-effects meta-analysis; built by :func:`pool_estimates`.

    Intervals are equal-tailed at ``ci_level``. ``mcse`` is the Monte Carlo standard
    error of the posterior mean. ``idata`` is the :class:`xarray.DataTree` returned by
    ``pm.sample`` (groups ``posterior``, ``sample_stats``, ``observed_data``).
    """

    idata: Any = field(repr=False)
    prior: PoolingPrior
    data: pd.DataFrame = field(repr=False)
    ci_level: float
    seed: int
    centred: bool
    sampler: dict[str, Any]
    diagnostics_frame: pd.DataFrame = field(repr=False)

    def __repr__(self) -> str:
        mu, tau = self.mu, self.tau
        interval = f"[{mu['ci_low']:.4g}, {mu['ci_high']:.4g}]"
        return f"PooledResult(groups={len(self.data)}, mu={mu['mean']:.4g} {interval}, tau={tau['mean']:.4g})"

    @cached_property
    def _posterior(self) -> Any:
        return group_dataset(self.idata, "posterior")

    def _draws(self, name: str) -> np.ndarray:
        """Return draws of ``name`` with chains and draws flattened into the first axis."""
        values = np.asarray(self._posterior[name].transpose("chain", "draw", ...).values)
        return values.reshape((-1, *values.shape[2:]))

    @cached_property
    def _summary(self) -> pd.DataFrame:
        import arviz as az

        posterior = self._posterior
        mcse = az.mcse(posterior, var_names=list(PARAMETERS), method="mean")
        mu, tau, theta = (self._draws(n) for n in PARAMETERS)
        rows = {"mu": (mu, float(mcse["mu"])), "tau": (tau, float(mcse["tau"]))}
        theta_mcse = np.asarray(mcse["theta"].transpose("group").values, dtype=float)
        for j, label in enumerate(posterior["theta"].coords["group"].values.tolist()):
            rows[f"theta[{label}]"] = (theta[:, j], float(theta_mcse[j]))
        stats = [(d.mean(), d.std(ddof=1), *_interval(d, self.ci_level), m) for d, m in rows.values()]
        out = pd.DataFrame(stats, columns=list(_STATS), index=pd.Index(list(rows), name="parameter"))
        diag = self.diagnostics_frame.set_index("parameter")
        return out.join(diag[["ess_bulk", "ess_tail", "rhat"]])

    @property
    def mu(self) -> pd.Series:
        """Posterior summary of the pooled mean: ``mean``, ``sd``, ``ci_low``, ``ci_high``, ``mcse``."""
        return self._summary.loc[["mu"], list(_STATS)].iloc[0].rename("mu")

    @property
    def tau(self) -> pd.Series:
        """Posterior summary of the between-group SD: ``mean``, ``sd``, ``ci_low``, ``ci_high``, ``mcse``."""
        return self._summary.loc[["tau"], list(_STATS)].iloc[0].rename("tau")

    @property
    def theta(self) -> pd.DataFrame:
        """Per-group input and partially pooled posterior, one row per group.

        Columns: ``group``, ``estimate`` and ``se`` (input), the posterior ``mean``,
        ``sd``, ``ci_low``, ``ci_high`` of ``theta_j`` and ``shrinkage``, the pooling
        factor ``se_j² / (se_j² + tau²)`` averaged over posterior draws of ``tau``
        (0 = no pooling, the estimate stands; 1 = complete pooling towards ``mu``).
        """
        tau = self._draws("tau")
        se = self.data["se"].to_numpy(dtype=float)
        rows = self._summary.iloc[2:]
        out = self.data[["group", "estimate", "se"]].reset_index(drop=True)
        for col in ("mean", "sd", "ci_low", "ci_high"):
            out[col] = rows[col].to_numpy()
        out["shrinkage"] = (se[None, :] ** 2 / (se[None, :] ** 2 + tau[:, None] ** 2)).mean(axis=0)
        return out

    def prediction(self, ci_level: float | None = None) -> pd.Series:
        """Summarise the posterior predictive distribution of a new group's effect.

        Draws ``theta_new = mu + tau * e`` with ``e ~ Normal(0, 1)`` per posterior draw
        (generator seeded with the fit's ``seed``, so repeated calls agree).

        Parameters
        ----------
        ci_level
            Level of the equal-tailed interval; defaults to the fit's ``ci_level``.

        Returns
        -------
        pandas.Series
            ``mean``, ``sd``, ``ci_low``, ``ci_high`` named ``theta_new``.
        """
        level = self.ci_level if ci_level is None else _validate.ci_level(ci_level)
        mu, tau = self._draws("mu"), self._draws("tau")
        new = mu + tau * np.random.default_rng(self.seed).standard_normal(mu.shape)
        low, high = _interval(new, level)
        return pd.Series({"mean": new.mean(), "sd": new.std(ddof=1), "ci_low": low, "ci_high": high}, name="theta_new")

    def summary(self) -> pd.DataFrame:
        """Return the posterior summary of ``mu``, ``tau`` and every ``theta[group]``.

        Returns
        -------
        pandas.DataFrame
            Indexed by parameter; columns ``mean``, ``sd``, ``ci_low``, ``ci_high``,
            ``mcse``, ``ess_bulk``, ``ess_tail``, ``rhat``. ``attrs['ci_level']`` is the level.
        """
        out = self._summary.copy()
        out.attrs["ci_level"] = self.ci_level
        return out

    def diagnostics(self) -> pd.DataFrame:
        """Return the convergence diagnostics (see :func:`~o4o_causal.bayes.diagnostics.diagnostics_table`)."""
        out = self.diagnostics_frame.copy()
        out.attrs = dict(self.diagnostics_frame.attrs)
        return out

    def to_estimate(self) -> Estimate:
        """Return the pooled mean ``mu`` as an :class:`~o4o_causal.results.Estimate` (se = posterior sd)."""
        mu, n = self.mu, len(self.data)
        args = (mu["mean"], mu["sd"], mu["ci_low"], mu["ci_high"], n, "bayes-random-effects", self.ci_level)
        return Estimate(*args, estimand="pooled mean (mu)")


def _positive_int(name: str, value: object, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        _fail(SpecificationError, name, "a positive integer", repr(value), f"e.g. {name}={default}")
    return int(value)


def _prepare(table: object, estimate: str, se: str, group: str) -> pd.DataFrame:
    """Validate the input table and return a fresh frame with columns group, estimate, se."""
    frame = require_frame(table, what="table")
    require_columns(frame, [estimate, se, group], what="table")
    require_no_missing(frame, [estimate, se, group], what="table")
    for col in (estimate, se):
        values = frame[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            _fail(DataError, f"column {col!r} of table", "numeric values", f"dtype {values.dtype}", "use pd.to_numeric")
    columns = {"group": frame[group].to_numpy(), "estimate": frame[estimate].to_numpy(dtype=float)}
    out = pd.DataFrame({**columns, "se": frame[se].to_numpy(dtype=float)})
    bad_est = out.loc[~np.isfinite(out["estimate"]), "group"].tolist()
    if bad_est:
        found = f"non-finite values for groups {bad_est[:10]}"
        _fail(
            DataError, f"column {estimate!r} of table", "finite estimates", found, "drop groups whose estimation failed"
        )
    bad_se = out.loc[~(np.isfinite(out["se"]) & (out["se"] > 0)), ["group", "se"]]
    if len(bad_se):
        shown = ", ".join(f"{g}: {s}" for g, s in bad_se.head(10).itertuples(index=False))
        fix = "drop groups without a usable standard error (a zero SE cannot be pooled)"
        _fail(DataError, f"column {se!r} of table", "finite standard errors > 0", shown, fix)
    labels = out["group"].astype(str)
    dupes = sorted(set(labels[labels.duplicated()]))
    if dupes:
        found = f"duplicated labels {dupes[:10]}"
        _fail(DataError, f"column {group!r} of table", "one row per group", found, "aggregate or relabel them")
    if len(out) < 2:
        fix = "pooling needs several groups; report the single estimate as it is"
        _fail(DataError, "table", "at least 2 groups to pool", f"{len(out)} group", fix)
    return out


def pool_estimates(
    table: pd.DataFrame,
    *,
    estimate: str = "estimate",
    se: str = "se",
    group: str = "group",
    prior: PoolingPrior | None = None,
    draws: int | None = None,
    tune: int | None = None,
    chains: int | None = None,
    target_accept: float | None = None,
    centred: bool = False,
    seed: int = 0,
    ci_level: float | None = None,
    progress: bool = False,
    on_failure: str = "raise",
) -> PooledResult:
    """Pool per-group estimates by Bayesian random-effects meta-analysis.

    Parameters
    ----------
    table
        One row per group with an estimate and its standard error (not modified).
    estimate, se, group
        Column names of the estimates, their standard errors (> 0) and group labels
        (unique; used as ``theta[label]`` in summaries and diagnostics).
    prior
        Priors on the estimate's scale; None uses :class:`PoolingPrior` defaults, which
        suit effects of order 0.1 (set ``mu_sd``/``tau_scale`` relative to your effects).
    draws, tune, chains, target_accept
        Sampler settings; None uses :data:`o4o_causal.config.SAMPLER` (target_accept: :data:`POOLING_TARGET_ACCEPT`).
    centred
        Use the centred parametrisation ``theta_j ~ Normal(mu, tau)``; the default
        non-centred one suits noisy groups, the centred one very precise groups.
    seed
        Seed of the sampler (same seed, same draws) and of :meth:`PooledResult.prediction`.
    ci_level
        Level of the equal-tailed intervals; None uses :data:`o4o_causal.config.CI_LEVEL`.
    progress
        Show nutpie's progress bar and PyMC's log output.
    on_failure
        What to do when the convergence gate fails: ``"raise"`` or ``"warn"``.

    Returns
    -------
    PooledResult
        Posterior of ``mu``, ``tau`` and the group effects, with diagnostics.

    Raises
    ------
    DataError
        If columns are missing, estimates are non-numeric or non-finite, a standard
        error is not finite and positive, group labels repeat, or fewer than 2 groups.
    SpecificationError
        If a sampler setting, ``ci_level`` or ``on_failure`` is invalid.
    ConvergenceError
        If the diagnostics fail the gate and ``on_failure="raise"``.
    """
    data = _prepare(table, estimate, se, group)
    prior = PoolingPrior() if prior is None else prior
    if not isinstance(prior, PoolingPrior):
        _fail(SpecificationError, "prior", "a PoolingPrior", type(prior).__name__, "pass PoolingPrior(...)")
    _validate.on_failure(on_failure)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        _fail(SpecificationError, "seed", "a non-negative integer", repr(seed), "e.g. seed=0")
    level = _validate.ci_level(config.CI_LEVEL if ci_level is None else ci_level)
    accept = POOLING_TARGET_ACCEPT if target_accept is None else target_accept
    if not (isinstance(accept, int | float) and 0.0 < accept < 1.0):
        _fail(SpecificationError, "target_accept", "a number in (0, 1)", repr(accept), "e.g. 0.95")
    sampler: dict[str, Any] = {
        "draws": _positive_int("draws", draws, config.SAMPLER.draws),
        "tune": _positive_int("tune", tune, config.SAMPLER.tune),
        "chains": _positive_int("chains", chains, config.SAMPLER.chains),
        "target_accept": float(accept),
    }
    y, s = data["estimate"].to_numpy(), data["se"].to_numpy()
    pooled = float(np.sum(y / s**2) / np.sum(1 / s**2))
    if abs(pooled - prior.mu_mean) > 3 * prior.mu_sd:
        found = f"inverse-variance mean {pooled:.4g} more than 3 prior SDs from mu_mean={prior.mu_mean:g}"
        fix = "set PoolingPrior(mu_sd=..., tau_scale=...) on the scale of the estimates"
        message = format_error(what="prior on mu", expected="a scale like the estimates'", found=found, fix=fix)
        warnings.warn(message, O4OWarning, stacklevel=2)
    idata = _sample(data, prior, bool(centred), int(seed), progress, sampler)
    diag = diagnostics_table(idata, list(PARAMETERS))
    check_diagnostics(diag, on_failure=on_failure, what="pool_estimates")
    return PooledResult(idata, prior, data, level, int(seed), bool(centred), sampler, diag)


def _sample(
    data: pd.DataFrame, prior: PoolingPrior, centred: bool, seed: int, progress: bool, sampler: dict[str, Any]
) -> Any:
    """Build the PyMC model and sample it with nutpie; return the DataTree."""
    import pymc as pm

    coords = {"group": data["group"].astype(str).tolist()}
    with pm.Model(coords=coords):
        mu = pm.Normal("mu", mu=prior.mu_mean, sigma=prior.mu_sd)
        if prior.tau_family == "halfcauchy":
            tau = pm.HalfCauchy("tau", beta=prior.tau_scale)
        else:
            tau = pm.HalfNormal("tau", sigma=prior.tau_scale)
        if centred:
            theta = pm.Normal("theta", mu=mu, sigma=tau, dims="group")
        else:
            z = pm.Normal("z", mu=0.0, sigma=1.0, dims="group")
            theta = pm.Deterministic("theta", mu + tau * z, dims="group")
        pm.Normal("y", mu=theta, sigma=data["se"].to_numpy(), observed=data["estimate"].to_numpy(), dims="group")
        return pm.sample(nuts_sampler="nutpie", random_seed=seed, progressbar=progress, quiet=not progress, **sampler)


__all__ = ["PARAMETERS", "PooledResult", "PoolingPrior", "pool_estimates"]

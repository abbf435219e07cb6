"""One call of the sampler for every model of the suite: PyMC's ``pm.sample`` with nutpie."""

from __future__ import annotations

from typing import Any

from o4o_causal import config


def sample_nutpie(
    model: Any,
    *,
    draws: int | None,
    tune: int | None,
    chains: int | None,
    target_accept: float | None,
    seed: int,
    progress: bool,
) -> Any:
    """Sample ``model`` with nutpie; unset settings come from :data:`o4o_causal.config.SAMPLER`.

    Returns the DataTree of ``pm.sample`` (groups ``posterior``, ``sample_stats``, ...).
    Chains run on :func:`o4o_causal.config.threads` cores.
    """
    import pymc as pm

    sampler = config.SAMPLER
    return pm.sample(
        draws=draws or sampler.draws,
        tune=tune or sampler.tune,
        chains=chains or sampler.chains,
        target_accept=target_accept or sampler.target_accept,
        nuts_sampler="nutpie",
        random_seed=seed,
        cores=config.threads(),
        progressbar=progress,
        quiet=not progress,
        model=model,
    )


__all__ = ["sample_nutpie"]

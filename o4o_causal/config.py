"""Defaults of the suite, kept in one place.

Modules read their defaults from here instead of hard-coding them, so a data owner
or a reproduction profile changes one value and every module follows. The values are
frozen dataclasses: derive a changed copy with :func:`dataclasses.replace`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Final

#: Confidence / credible interval level used when a function is not told otherwise.
CI_LEVEL: Final[float] = 0.95

#: Name of the Jupyter kernel the suite registers for its own environment.
KERNEL_NAME: Final[str] = "o4o-causal"
KERNEL_DISPLAY_NAME: Final[str] = "Python 3.12 (o4o-causal)"

#: Reproduction profiles. ``quick`` is what the test suite and CI execute, ``full`` is
#: what ``make reproduce`` executes.
PROFILES: Final[tuple[str, ...]] = ("quick", "full")

#: Parameters every notebook must declare in its ``parameters`` cell.
REQUIRED_NOTEBOOK_PARAMETERS: Final[tuple[str, ...]] = ("profile", "seed", "data_dir", "output_dir")

#: Default seed of reproduction runs (every random component derives from it).
DEFAULT_SEED: Final[int] = 20261130

#: Paths relative to the project root.
NOTEBOOKS_DIR: Final[str] = "notebooks"
PROFILES_FILE: Final[str] = "reproducibility/profiles.yaml"
RUNS_DIR: Final[str] = "reproducibility/runs"
LOCK_FILE: Final[str] = "reproducibility/requirements.lock"

#: Environment variables that control thread pools of the numerical libraries. The
#: suite's kernel sets all of them to the same value before numpy is imported.
THREAD_ENV_VARS: Final[tuple[str, ...]] = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)

#: Environment variable that overrides :data:`DEFAULT_THREADS`.
THREADS_ENV: Final[str] = "O4O_THREADS"

#: Thread count for reproduction runs. Fixed (not ``os.cpu_count()``) so that the same
#: seed gives the same numbers on machines with different numbers of cores.
DEFAULT_THREADS: Final[int] = 2


def threads() -> int:
    """Return the thread count to pin: ``$O4O_THREADS`` if set, else the default.

    Returns
    -------
    int
        A positive thread count.

    Raises
    ------
    SpecificationError
        If ``O4O_THREADS`` is set to something that is not a positive integer.
    """
    from o4o_causal.exceptions import SpecificationError, format_error

    raw = os.environ.get(THREADS_ENV)
    if raw is None or raw == "":
        return DEFAULT_THREADS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise SpecificationError(
            format_error(
                what=f"environment variable {THREADS_ENV}",
                expected="a positive integer",
                found=repr(raw),
                fix=f"unset it or set e.g. {THREADS_ENV}=2",
            )
        )
    return value


@dataclass(frozen=True)
class DisclosureConfig:
    """Statistical disclosure control defaults.

    The default threshold is the strictest rule common to the three national
    statistics offices' practice for register tables (DST: at least 5 observations per
    cell). Presets exist for SSB-like (3) and ACRO/UK-like (10) rules.
    """

    threshold: int = 5
    presets: dict[str, int] = field(default_factory=lambda: {"ssb": 3, "dst": 5, "acro": 10})
    dominance_p: float = 0.10
    dominance_n: int = 2
    dominance_k: float = 0.90
    min_residual_df: int = 10


@dataclass(frozen=True)
class SamplerConfig:
    """Default settings of the Bayesian sampler (nutpie through PyMC)."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    target_accept: float = 0.9


@dataclass(frozen=True)
class DiagnosticsThresholds:
    """Convergence gate for MCMC output."""

    max_rhat: float = 1.01
    min_ess_bulk: float = 400.0
    min_ess_tail: float = 400.0
    max_divergences: int = 0
    min_bfmi: float = 0.3


DISCLOSURE: Final[DisclosureConfig] = DisclosureConfig()
SAMPLER: Final[SamplerConfig] = SamplerConfig()
DIAGNOSTICS: Final[DiagnosticsThresholds] = DiagnosticsThresholds()

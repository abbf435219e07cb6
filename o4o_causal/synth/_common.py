"""Shared pieces of the synthetic world: months, state codes, random helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from o4o_causal.registers import formats

#: Integer code of each harmonised state (index into formats.STATES); -1 = no row.
STATE_CODE: dict[str, int] = {s: i for i, s in enumerate(formats.STATES)}
NO_ROW = -1
NONE = STATE_CODE["INACTIVE"]  # "no benefit" in benefit matrices


def month_index(yyyymm: int) -> int:
    """Return months since January 2000 for ``YYYYMM``."""
    return (yyyymm // 100 - 2000) * 12 + (yyyymm % 100 - 1)


def yyyymm(index: np.ndarray | int) -> np.ndarray:
    """Return ``YYYYMM`` integers for month indices (months since January 2000)."""
    idx = np.asarray(index, dtype=np.int64)
    return (2000 + idx // 12) * 100 + idx % 12 + 1


def month_start(index: np.ndarray) -> np.ndarray:
    """Return ``datetime64[ns]`` first days of month for month indices."""
    return (np.datetime64("2000-01", "M") + np.asarray(index, dtype=np.int64)).astype("datetime64[ns]")


def expit(x: np.ndarray) -> np.ndarray:
    """Logistic function."""
    return np.asarray(1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float))))


@dataclass
class CohortBlock:
    """One cohort of one country, as produced by a cohort generator.

    ``benefit`` (n x T, int8) holds the benefit state code of each month of a person's
    window (``formats.STATES`` index, INACTIVE = no benefit, -1 after exit), ``earnings``
    (n x T, float) the month's earnings. Month t of person i is month
    ``window_start[i] + t``; windows of one block have equal length T.
    """

    country: str
    cohort: str
    persons: pd.DataFrame  # harmonised persons columns except person_id / country / cohort
    window_start: np.ndarray  # month index
    benefit: np.ndarray
    earnings: np.ndarray
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)
    measure_runs: np.ndarray | None = None  # bool n x T: WAA months flagged as with measure (for raw writers)

    @property
    def n(self) -> int:
        """Number of persons."""
        return int(self.benefit.shape[0])

    @property
    def months(self) -> int:
        """Window length in months."""
        return int(self.benefit.shape[1])

    def states(self) -> np.ndarray:
        """Harmonised state codes (n x T, -1 after exit) by :func:`final_states`."""
        return final_states(self.benefit, self.earnings, formats.LOW_PAY_THRESHOLD[self.country])


def final_states(benefit: np.ndarray, earnings: np.ndarray, threshold: float) -> np.ndarray:
    """Combine benefit states and earnings into harmonised states (numpy reference).

    The highest-priority state wins: any benefit state outranks employment; a month with
    earnings > 0 and no benefit is EMP, or EMP_LOW below ``threshold``; else INACTIVE.
    Months after exit (-1) stay -1.
    """
    emp = np.where(earnings >= threshold, STATE_CODE["EMP"], STATE_CODE["EMP_LOW"])
    emp = np.where(earnings > 0, emp, NONE)
    out = np.minimum(benefit, emp).astype(np.int8)  # lower code = higher priority
    return np.where(benefit == NO_ROW, NO_ROW, out).astype(np.int8)


def exit_months(rng: np.random.Generator, n: int, months: int, hazard: float, earliest: int) -> np.ndarray:
    """Draw exit (death/emigration) months relative to window start; ``months`` = none.

    Exits happen at a constant monthly ``hazard`` from relative month ``earliest`` on.
    """
    draw = rng.geometric(hazard, size=n) - 1 + earliest
    return np.where(draw < months, draw, months).astype(np.int64)


def truncate_at_exit(matrix: np.ndarray, exit_rel: np.ndarray, fill: float) -> np.ndarray:
    """Set cells at or after each row's exit month to ``fill`` (returns a new array)."""
    cols = np.arange(matrix.shape[1])
    out = matrix.copy()
    out[cols[None, :] >= exit_rel[:, None]] = fill
    return out


def wages(rng: np.random.Generator, median: np.ndarray | float, n: int, sigma: float = 0.35) -> np.ndarray:
    """Draw person-level monthly wage levels (lognormal around ``median``)."""
    return np.asarray(median, dtype=float) * np.exp(rng.normal(0.0, sigma, size=n))


def monthly_earnings(rng: np.random.Generator, wage: np.ndarray, employed: np.ndarray) -> np.ndarray:
    """Return monthly earnings: the wage level with +-10% noise where employed, else 0."""
    noise = np.exp(rng.normal(0.0, 0.1, size=employed.shape))
    return np.where(employed, np.round(wage[:, None] * noise, 0), 0.0)

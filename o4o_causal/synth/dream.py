"""Monthly benefit states -> DREAM-like weekly wide file (DK raw shape).

One column per ISO week (``y_YYWW``), one integer benefit code per week, empty for no
benefit. A week belongs to the month containing its Thursday; every week of a benefit
month carries the month's code, except that with probability 5% the first week of a
benefit month is left empty (majority rule: the month keeps its code).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from o4o_causal.registers import formats
from o4o_causal.synth._common import STATE_CODE, CohortBlock

_CODE_OF_STATE = np.zeros(len(formats.STATES), dtype=np.int16)
for _code, _state in formats.DK_CODES.items():
    _CODE_OF_STATE[STATE_CODE[_state]] = _code
BLANK_FIRST_WEEK = 0.05
CHUNK = 50_000


def iso_weeks(first_month: int, last_month: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Weeks whose Thursday lies in the month range: (column names, month index, first-week flag)."""
    day = dt.date(2000 + first_month // 12, first_month % 12 + 1, 1)
    day += dt.timedelta(days=(3 - day.weekday()) % 7)  # first Thursday
    names, months, first = [], [], []
    while True:
        month = (day.year - 2000) * 12 + day.month - 1
        if month > last_month:
            break
        iso_year, week, _ = day.isocalendar()
        names.append(f"y_{iso_year % 100:02d}{week:02d}")
        months.append(month)
        first.append(day.day <= 7)
        day += dt.timedelta(days=7)
    return names, np.array(months, dtype=np.int64), np.array(first, dtype=bool)


def dream_table(rng: np.random.Generator, blocks: list[CohortBlock], ids: list[np.ndarray]) -> pa.Table:
    """Return the weekly wide DREAM-like table for Danish blocks (``pnr`` + week columns)."""
    first_month = min(int(b.window_start.min()) for b in blocks)
    last_month = max(int(b.window_start.max()) + b.months - 1 for b in blocks)
    names, week_month, first_week = iso_weeks(first_month, last_month)
    tables = []
    for block, native in zip(blocks, ids, strict=True):
        codes = np.where(block.benefit >= 0, _CODE_OF_STATE[np.maximum(block.benefit, 0)], 0).astype(np.int16)
        for lo in range(0, block.n, CHUNK):
            hi = min(lo + CHUNK, block.n)
            rel = week_month[None, :] - block.window_start[lo:hi, None]
            inside = (rel >= 0) & (rel < block.months)
            values = np.take_along_axis(codes[lo:hi], np.clip(rel, 0, block.months - 1), axis=1)
            values = np.where(inside, values, 0)
            blank = first_week[None, :] & (rng.random(values.shape) < BLANK_FIRST_WEEK)
            values = np.where(blank, 0, values)
            columns = [pa.array(native[lo:hi].astype(str))]
            columns += [pa.array(values[:, j], mask=values[:, j] == 0, type=pa.int16()) for j in range(len(names))]
            tables.append(pa.Table.from_arrays(columns, names=["pnr", *names]))
    return pa.concat_tables(tables)

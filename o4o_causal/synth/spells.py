"""Monthly benefit states -> benefit spells with day-level dates (NO, SE raw shape).

Each run of consecutive months with the same benefit becomes one spell. Start dates fall
on days 1-15 of the first month and end dates on day 15 or later of the last month, so
the reference-day rule (a spell covers month m when it covers day 15 of m) gives back
exactly the months of the run. A WAA-with-measure month is written as the WAA spell plus
an overlapping measure spell (NO AAP + TILTAK, SE AKE + PROG); one in ten job-seeking
runs is written as a measure spell alone (which harmonises to JOBSEEK).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from o4o_causal.registers import formats
from o4o_causal.synth._common import STATE_CODE, CohortBlock

S = STATE_CODE
#: state -> raw code for the plain (non-measure) channel, per country.
_STATE_TO_CODE = {
    "NO": {"DP": "UFOR", "WAA": "AAP", "SICK": "SYKP", "SA": "SOSH", "JOBSEEK": "ARBS", "EDU": "UTD"},
    "SE": {"DP": "SE", "WAA": "AKE", "SICK": "SJP", "SA": "EKB", "JOBSEEK": "INSKR", "EDU": "STUD"},
}
_MEASURE = {"NO": formats.NO_MEASURE_CODE, "SE": formats.SE_MEASURE_CODE}
MEASURE_SHARE_OF_JOBSEEK_RUNS = 0.1


def runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (row, first column, last column) of every run of True along rows."""
    n, t = mask.shape
    padded = np.zeros((n, t + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    step = np.diff(padded, axis=1)
    rows, first = np.nonzero(step == 1)
    _, after = np.nonzero(step == -1)
    return rows, first, after - 1


def _dates(rng: np.random.Generator, months: np.ndarray, *, start: bool) -> np.ndarray:
    base = (np.datetime64("2000-01", "M") + months.astype(np.int64)).astype("datetime64[D]")
    if start:
        offset = rng.integers(0, formats.REFERENCE_DAY, months.size)  # days 1..15
    else:
        nxt = (np.datetime64("2000-01", "M") + months.astype(np.int64) + 1).astype("datetime64[D]")
        last = (nxt - base).astype(np.int64)
        offset = formats.REFERENCE_DAY - 1 + rng.integers(0, 1 << 30, months.size) % (last - formats.REFERENCE_DAY + 1)
    return np.asarray(base + offset.astype("timedelta64[D]"), dtype="datetime64[ms]")


def _block_spells(rng: np.random.Generator, country: str, block: CohortBlock, ids: np.ndarray) -> list[pd.DataFrame]:
    b = block.benefit
    channels: list[tuple[str, np.ndarray]] = []
    js_rows, js_first, js_last = runs(b == S["JOBSEEK"])
    as_measure = rng.random(js_rows.size) < MEASURE_SHARE_OF_JOBSEEK_RUNS
    measure_js = np.zeros(b.shape, dtype=bool)
    for r, f, last in zip(js_rows[as_measure], js_first[as_measure], js_last[as_measure], strict=True):
        measure_js[r, f : last + 1] = True
    for state, code in _STATE_TO_CODE[country].items():
        if state == "WAA":
            mask = (b == S["WAA"]) | (b == S["WAA_M"])
        elif state == "JOBSEEK":
            mask = (b == S["JOBSEEK"]) & ~measure_js
        else:
            mask = b == S[state]
        channels.append((code, mask))
    channels.append((_MEASURE[country], (b == S["WAA_M"]) | measure_js))
    out = []
    for code, mask in channels:
        rows, first, last = runs(mask)
        if rows.size == 0:
            continue
        out.append(
            pd.DataFrame(
                {
                    "id": ids[rows],
                    "code": code,
                    "start": _dates(rng, block.window_start[rows] + first, start=True),
                    "end": _dates(rng, block.window_start[rows] + last, start=False),
                }
            )
        )
    return out


def spell_table(
    rng: np.random.Generator, country: str, blocks: list[CohortBlock], ids: list[np.ndarray]
) -> pd.DataFrame:
    """Return the benefit spell table of ``country`` ("NO" or "SE") in native columns."""
    parts = [f for block, native in zip(blocks, ids, strict=True) for f in _block_spells(rng, country, block, native)]
    out = pd.concat(parts, ignore_index=True).sort_values(["id", "start", "code"], kind="stable", ignore_index=True)
    out.columns = list(formats.COLUMNS[country]["spells"])
    return out

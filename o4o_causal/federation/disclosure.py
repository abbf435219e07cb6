"""Disclosure checks of every table a bundle exports.

The tables are built to be safe (cells merged, small groups hidden). The checks here
verify that *independently* of how the table was built, just before it is written:
counts below the threshold are errors that stop the bundle, and
:func:`~o4o_causal.sdc.check_table` / ``check_estimates`` of :mod:`o4o_causal.sdc.tables`
run as well and their findings are added.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from o4o_causal import config
from o4o_causal.exceptions import DisclosureError, SpecificationError, format_error
from o4o_causal.sdc.findings import Finding, blocking
from o4o_causal.sdc.tables import check_estimates, check_table

#: Columns that would identify persons; a bundle table must not carry any.
IDENTIFIER_COLUMNS = ("person_id", "pid", "lopenr", "personnummer", "cpr", "fnr", "id")


def resolve_threshold(threshold: int | str | None) -> int:
    """Return the threshold as an int: ``None`` -> config default, a preset name -> its value.

    Raises
    ------
    SpecificationError
        If ``threshold`` is not a positive integer or a known preset.
    """
    presets = config.DISCLOSURE.presets
    if threshold is None:
        return int(config.DISCLOSURE.threshold)
    if isinstance(threshold, str):
        if threshold.lower() in presets:
            return int(presets[threshold.lower()])
    elif isinstance(threshold, int | np.integer) and not isinstance(threshold, bool) and threshold >= 1:
        return int(threshold)
    raise SpecificationError(
        format_error(
            what="threshold",
            expected=f"a positive integer or a preset ({', '.join(f'{k}={v}' for k, v in presets.items())})",
            found=repr(threshold),
            fix="e.g. threshold='dst' or threshold=5",
        )
    )


def check_counts(table: pd.DataFrame, columns: Sequence[str], *, name: str, threshold: int) -> list[Finding]:
    """Return an error finding for every shown count in ``columns`` below ``threshold``.

    Missing values (hidden cells) pass. ``columns`` may name ``"failures"``, computed as
    ``n - successes``.
    """
    findings = [
        Finding("identifier", f"{name}, column {c!r}", "identifier-like column in an exported table; drop it")
        for c in table.columns
        if str(c).lower() in IDENTIFIER_COLUMNS
    ]
    for col in columns:
        values = table["n"] - table["successes"] if col == "failures" else table[col]
        shown = pd.to_numeric(values, errors="coerce")
        bad = shown.notna() & (shown < threshold)
        for i in np.flatnonzero(bad.to_numpy()):
            findings.append(
                Finding(
                    "threshold",
                    f"{name}, row {int(i)}, column {col!r}",
                    f"a count below the threshold {threshold} would be exported; suppress or merge it",
                )
            )
    return findings


def sdc_findings(
    table: pd.DataFrame, *, name: str, threshold: int, counts: Sequence[str], estimates: bool
) -> list[Finding]:
    """Run :mod:`o4o_causal.sdc.tables` on ``table``; return its findings.

    Estimate tables go through ``check_estimates(frame, n="n", shares=[])`` (rows hidden
    before are skipped; the tables' shares are type shares ``n / total``, whose counts
    are the ``n`` column itself); count tables through ``check_table`` on the count
    columns (``"failures"`` computed as ``n - successes``).
    """
    if not counts:
        return []
    shown = table[table["n"].notna()].reset_index(drop=True) if "n" in table.columns else table
    if not len(shown):
        return []
    if estimates:
        result = check_estimates(shown, n="n", threshold=threshold, shares=[])
    else:
        frame = pd.DataFrame({c: shown["n"] - shown["successes"] if c == "failures" else shown[c] for c in counts})
        result = check_table(frame, threshold=threshold, kind="frequency", margins="known", zeros="ignore")
    return [Finding(f.rule, f"{name}: {f.location}", f.message, f.severity) for f in result.findings]


def hide_small(
    table: pd.DataFrame,
    *,
    counts: Sequence[str],
    values: Sequence[str],
    threshold: int,
    name: str,
    labels: Sequence[str],
    block: str | None = None,
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """Blank the rows where any count is below ``threshold``; return the table and log rows.

    With ``block`` (a column whose values partition the rows into groups that add up to a
    published total, e.g. the levels of one GATE variable), hidden rows are complemented
    by secondary suppression: the next smallest rows of the block are hidden too until
    the hidden rows hold at least ``threshold`` persons in every count column, so no
    hidden count follows from the total minus the shown rows.

    The log names a hidden row by its ``labels`` columns only (group labels, never a
    count or a value: the log is exported too).
    """
    overlap = sorted(set(labels) & {*counts, *values})
    if overlap:
        raise SpecificationError(
            format_error(
                what="hide_small labels",
                expected="label columns (the log is exported)",
                found=f"count or value columns {overlap}",
                fix="name the rows by their group columns",
            )
        )
    out = table.copy()
    cnt = out[list(counts)].apply(pd.to_numeric, errors="coerce").fillna(0)
    small = (cnt < threshold).any(axis=1).to_numpy()
    primary = small.copy()
    if block is not None:
        for _, idx in out.groupby(block, sort=False).indices.items():
            order = sorted(idx, key=lambda i: float(cnt.iloc[i].min()))
            while small[idx].any() and not small[idx].all():
                hidden = cnt.iloc[[i for i in idx if small[i]]].sum()
                if (hidden >= threshold).all():
                    break
                small[next(i for i in order if not small[i])] = True
    log = []
    for i in np.flatnonzero(small):
        label = " | ".join(str(out.iloc[i][c]) for c in labels)
        reason = f"a count below {threshold}" if primary[i] else "secondary: protects a hidden row of the same block"
        log.append({"table": name, "action": "suppressed", "location": label, "reason": reason})
    cols = [*values, *counts]
    out[cols] = out[cols].astype(float)
    out.loc[small, cols] = np.nan
    return out, log


def round_block_counts(table: pd.DataFrame, *, counts: Sequence[str], block: str, base: int) -> pd.DataFrame:
    """Return a copy of ``table`` with ``counts`` rounded to multiples of ``base``, additively per block.

    Controlled (cumulative) rounding: within each block (rows in table order), the
    running total of a count column is rounded *down* to a multiple of ``base`` and the
    rows get the differences, the last row of the block taking the exact block total.
    Hence every block still adds up exactly to its total (nothing is learnt by comparing
    with an exact total published elsewhere), every row is off by less than ``base``
    (so a count obtained by subtracting other tables is uncertain over ``base``
    consecutive values), and a row of at least ``base`` stays at least ``base``.
    Deterministic: the rounding cannot be undone by replaying a seed.
    """
    out = table.copy()
    for col in counts:
        values = pd.to_numeric(out[col], errors="raise").to_numpy(dtype=np.int64)
        rounded = values.copy()
        for idx in out.groupby(block, sort=False).indices.values():
            cum = np.cumsum(values[idx])
            floor = (cum // base) * base
            floor[-1] = cum[-1]
            rounded[idx] = np.diff(floor, prepend=0)
        out[col] = rounded
    return out


def gate(findings: Sequence[Finding], *, country: str) -> None:
    """Raise :class:`DisclosureError` if any finding blocks the export."""
    errors = blocking(findings)
    if errors:
        shown = "; ".join(str(f) for f in errors[:5])
        raise DisclosureError(
            format_error(
                what=f"bundle of {country}",
                expected="no table with counts below the threshold or identifiers",
                found=f"{len(errors)} blocking finding(s): {shown}",
                fix="nothing was written; report this as a bug in o4o_causal.federation",
            )
        )


__all__ = [
    "IDENTIFIER_COLUMNS",
    "check_counts",
    "gate",
    "hide_small",
    "resolve_threshold",
    "round_block_counts",
    "sdc_findings",
]

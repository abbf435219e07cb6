"""One record type for everything a disclosure check finds, in tables, figures and notebooks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

Severity = Literal["error", "warning"]

#: Rules a finding can name (table rules first, then notebook-export rules).
RULES: tuple[str, ...] = (
    "threshold",  # a cell (or a statistic) rests on fewer persons than the threshold
    "secondary",  # a cell hidden so that a primary cell cannot be recovered from margins
    "dominance",  # one or a few contributors dominate a magnitude cell (p% or n-k rule)
    "zeros",  # structural or sampling zeros that reveal that no one in a group has a trait
    "residual_df",  # a model with too few residual degrees of freedom
    "min_max",  # minima/maxima (single persons' values)
    "percentile",  # a percentile without enough persons around it
    "person_rows",  # a displayed table whose rows are persons
    "identifier",  # identifier-like column or index (person ids)
    "traceback",  # an error output that shows data
    "unsafe_image",  # an image not produced by a disclosure-safe plotting function
    "interactive_data",  # embedded interactive JSON (plotly, vega, widgets) carrying data arrays
    "path_parameter",  # a parameter or output exposing a file path
)


@dataclass(frozen=True)
class Finding:
    """One disclosure risk found by a check.

    Attributes
    ----------
    rule
        Which rule was broken; one of :data:`RULES`.
    location
        Where: e.g. ``"row 'Bergen', column 'n'"`` or ``"04-waa-trajectories.ipynb, cell 12, output 0"``.
    message
        What was found and what to do about it (one or two sentences).
    severity
        ``"error"`` blocks an export; ``"warning"`` is reported but does not block.
    """

    rule: str
    location: str
    message: str
    severity: Severity = "error"

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"Finding.rule: expected one of {RULES}, found {self.rule!r}")
        if self.severity not in ("error", "warning"):
            raise ValueError(f"Finding.severity: expected 'error' or 'warning', found {self.severity!r}")

    def __str__(self) -> str:
        return f"[{self.severity}] {self.rule} at {self.location}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        """Return the finding as a plain dict (JSON-ready)."""
        return asdict(self)


def findings_frame(findings: Iterable[Finding]) -> pd.DataFrame:
    """Return findings as a table with columns ``rule, location, message, severity``."""
    rows = [f.to_dict() for f in findings]
    return pd.DataFrame(rows, columns=["rule", "location", "message", "severity"])


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """Return the findings that block an export (severity ``"error"``)."""
    return [f for f in findings if f.severity == "error"]


__all__ = ["RULES", "Finding", "Severity", "blocking", "findings_frame"]

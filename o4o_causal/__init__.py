"""o4o_causal: helper package of the o4o-causal notebook suite.

Causal inference on (synthetic or real) Nordic register data for the Organizing for
Outcomes research programme. See ``ARCHITECTURE.md`` for the module map.

Importing the package is deliberately light (no numpy): the suite's Jupyter kernel
launcher lives inside it and must pin thread pools before numerical libraries load.
Heavier names are imported on first access.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from o4o_causal.exceptions import (
    ConvergenceError,
    DataError,
    DisclosureError,
    O4OError,
    SpecificationError,
)

if TYPE_CHECKING:
    from o4o_causal.results import Estimate

try:
    __version__ = version("o4o-causal")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "Estimate":
        from o4o_causal.results import Estimate

        return Estimate
    raise AttributeError(f"module 'o4o_causal' has no attribute {name!r}")


__all__ = [
    "ConvergenceError",
    "DataError",
    "DisclosureError",
    "Estimate",
    "O4OError",
    "SpecificationError",
    "__version__",
]

"""Designs of a simulation study: frozen, seed-free descriptions of a synthetic world.

A :class:`Design` fixes the knobs of :func:`o4o_causal.synth.simdesign.simulation_world`
(persons, municipalities, municipality confounding, heterogeneity, within-municipality
correlation, unequal municipality sizes); the seed belongs to the replication, not to
the design. :func:`grid` crosses variations of a base design.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from o4o_causal.exceptions import SpecificationError, format_error
from o4o_causal.synth.simdesign import SimWorld, population_ate, simulation_world

#: Column roles of the simulated data (the estimators read these names).
OUTCOME = "employed"
TREATMENT = "treated"
CLUSTER = "municipality"
PERSON_COVARIATES = ("x1", "x2", "x3", "x4")
MUNICIPALITY_COVARIATES = ("resources", "config")
COVARIATES = (*PERSON_COVARIATES, *MUNICIPALITY_COVARIATES)
MODIFIERS = ("x3", "config")

_FLOAT_FIELDS = ("confounding", "heterogeneity", "cluster_sd", "size_sd")


@dataclass(frozen=True)
class Design:
    """A synthetic world design (no seed: every replication draws its own data).

    Parameters
    ----------
    n
        Persons per data set.
    municipalities
        Number of municipalities (clusters).
    confounding
        Strength of municipality-level confounding (observed ``resources``); 0 = none.
    heterogeneity
        Scale of effect variation by person, configuration and municipality; 0 = constant
        effect on the logit scale.
    cluster_sd
        SD of the unobserved municipality intercept on the outcome (logit scale): the
        within-municipality correlation; 0 = none.
    size_sd
        Log-SD of municipality sizes (0 = equal expected sizes).
    """

    n: int = 10_000
    municipalities: int = 100
    confounding: float = 0.5
    heterogeneity: float = 1.0
    cluster_sd: float = 0.5
    size_sd: float = 0.5

    def __post_init__(self) -> None:
        for name in ("n", "municipalities"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 2:
                raise SpecificationError(
                    format_error(
                        what=f"Design.{name}", expected="an integer >= 2", found=repr(value), fix="pass a whole number"
                    )
                )
            object.__setattr__(self, name, int(value))
        if self.n < 10 * self.municipalities:
            raise SpecificationError(
                format_error(
                    what="Design.n",
                    expected=f">= 10 persons per municipality (>= {10 * self.municipalities})",
                    found=f"n={self.n}, municipalities={self.municipalities}",
                    fix="use more persons or fewer municipalities",
                )
            )
        for name in _FLOAT_FIELDS:
            raw = getattr(self, name)
            number = math.nan if isinstance(raw, bool) or not isinstance(raw, numbers.Real) else float(raw)
            if not (math.isfinite(number) and number >= 0):
                raise SpecificationError(
                    format_error(
                        what=f"Design.{name}", expected="a finite number >= 0", found=repr(raw), fix="use e.g. 0.5"
                    )
                )
            object.__setattr__(self, name, number)

    @property
    def label(self) -> str:
        """Short readable label, e.g. ``"n=10000 G=100 conf=0.5 het=1 u_sd=0.5"``."""
        return (
            f"n={self.n} G={self.municipalities} conf={self.confounding:g} het={self.heterogeneity:g} "
            f"u_sd={self.cluster_sd:g}" + (f" size_sd={self.size_sd:g}" if self.size_sd != 0.5 else "")
        )

    def draw(self, seed: int) -> SimWorld:
        """Draw one data set of this design.

        Parameters
        ----------
        seed
            Seed of the draw (a replication's data seed).

        Returns
        -------
        SimWorld
            Data and truth.
        """
        return simulation_world(
            self.n,
            municipalities=self.municipalities,
            confounding=self.confounding,
            heterogeneity=self.heterogeneity,
            cluster_sd=self.cluster_sd,
            size_sd=self.size_sd,
            seed=seed,
        )

    def population_ate(self) -> float:
        """Superpopulation average treatment effect (fixed-seed Monte Carlo, MC SD ~ 1e-4)."""
        return population_ate(
            confounding=self.confounding, heterogeneity=self.heterogeneity, cluster_sd=self.cluster_sd
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict (JSON-serialisable)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Design:
        """Build a design from :meth:`to_dict` output (unknown keys refused)."""
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise SpecificationError(
                format_error(
                    what="design fields",
                    expected=f"a subset of {', '.join(f.name for f in fields(cls))}",
                    found=", ".join(sorted(unknown)),
                    fix="remove the unknown keys",
                )
            )
        return cls(**dict(values))


def grid(base: Design | None = None, **axes: Iterable[Any]) -> list[Design]:
    """Cross variations of a base design.

    Parameters
    ----------
    base
        Design whose other fields are kept (default :class:`Design()`).
    **axes
        Field name -> values, e.g. ``municipalities=[25, 100], cluster_sd=[0, 0.5]``.

    Returns
    -------
    list of Design
        One design per combination, in the order of the axes (last axis fastest).

    Raises
    ------
    SpecificationError
        Unknown field names or empty value lists.
    """
    start = base or Design()
    names = {f.name for f in fields(Design)}
    for key in axes:
        if key not in names:
            raise SpecificationError(
                format_error(
                    what=f"grid axis {key!r}",
                    expected=f"one of {', '.join(sorted(names))}",
                    found=repr(key),
                    fix="use a Design field name",
                )
            )
    lists = {k: list(v) for k, v in axes.items()}
    empty = [k for k, v in lists.items() if not v]
    if empty:
        raise SpecificationError(
            format_error(what=f"grid axis {empty[0]!r}", expected="at least one value", found="[]", fix="add values")
        )
    return [replace(start, **dict(zip(lists, combo, strict=True))) for combo in itertools.product(*lists.values())]


def as_designs(design: Design | Sequence[Design]) -> tuple[Design, ...]:
    """Return ``design`` as a non-empty tuple of designs (validates the type)."""
    items = (design,) if isinstance(design, Design) else tuple(design) if isinstance(design, Sequence) else None
    if not items or not all(isinstance(d, Design) for d in items):
        raise SpecificationError(
            format_error(
                what="design",
                expected="a Design or a non-empty sequence of Design objects",
                found=type(design).__name__ if items is None else f"{len(items)} item(s) incl. non-Design",
                fix="use o4o_causal.simulate.Design(...) or simulate.grid(...)",
            )
        )
    return items


__all__ = ["CLUSTER", "COVARIATES", "MODIFIERS", "OUTCOME", "TREATMENT", "Design", "as_designs", "grid"]

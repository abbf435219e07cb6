"""The analysis specification shared by every country's bundle: :class:`BundleSpec`.

Pooling bundles is only meaningful when every country ran the *same* analysis: the same
cohort, outcome, treatment, covariates, cell definition and effect modifiers. The spec
travels in each bundle's manifest (as a dict and as a digest) and
:func:`~o4o_causal.federation.pool_bundles` refuses bundles whose specs differ.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from o4o_causal import _io
from o4o_causal._validate import require_columns
from o4o_causal.exceptions import SpecificationError, format_error

#: Version of the bundle layout (files, columns, manifest keys). A pooling run refuses
#: bundles of another major version.
SCHEMA_VERSION = "1.0"

#: Analyses a bundle can contain.
ANALYSES: tuple[str, ...] = ("ate", "municipality_effects", "cells", "trajectory_shares")


@dataclass(frozen=True)
class BundleSpec:
    """What each country computes; identical in every bundle that is pooled.

    Attributes
    ----------
    cohort, outcome, treatment, cluster
        Analysis frame (``store.cohort(cohort)``), binary outcome, binary treatment and
        the municipality column (clustering unit and multilevel level).
    cell_covariates
        Discrete person-level columns that define the binomial cells, in coarsening
        order: when a cell is too small, the *last* columns are merged first.
    bins
        Derived discrete columns: ``(new column, source column, bin edges)`` made with
        ``pd.cut(source, edges, labels=False)`` before anything else.
    municipality_covariates
        Municipality-level columns carried on the cells (constant within municipality).
    pool_by, pool_bins
        Municipality-level columns (confounders first) by whose quantile bins small
        municipalities are pooled into pool units (``pool_bins`` bins per column).
    interactions
        Derived cell columns ``(new column, person column, municipality column)``:
        their product, computed on the cells (so it follows merged values).
    covariates, modifiers
        Multilevel model adjustment columns and treatment-effect modifiers (from the
        cell, municipality and interaction columns).
    effect_modifiers, controls
        Double-ML effect modifiers and further controls (person-level microdata, used
        inside the country only).
    gate_by
        Columns for group average treatment effects in the exported estimate table.
    folds, learner
        Cross-fitting folds and nuisance learner (``"lightgbm"``, ``"forest"``,
        ``"linear"``) of the double-ML fit.
    trajectory_cohort, trajectory_k, trajectory_distance, trajectory_ward
        Cohort, number of types, distance (``"OMspell"``, ``"OM"``, ``"DHD"``) and Ward
        variant of the trajectory typology.
    """

    cohort: str = "core"
    outcome: str = "employed_24"
    treatment: str = "treated"
    cluster: str = "municipality_id"
    cell_covariates: tuple[str, ...] = ("prior_work", "health_problem", "nonwestern", "low_education")
    bins: tuple[tuple[str, str, tuple[float, ...]], ...] = (("prior_work", "prior_employment", (-1.0, 0.0, 6.0, 12.0)),)
    municipality_covariates: tuple[str, ...] = (
        "service_resources",
        "unemployment_rate",
        "co_location",
        "joint_case_management",
        "health_employment_integration",
    )
    pool_by: tuple[str, ...] = ("service_resources",)
    pool_bins: int = 5
    interactions: tuple[tuple[str, str, str], ...] = (
        ("health_x_ips", "health_problem", "health_employment_integration"),
    )
    covariates: tuple[str, ...] = (
        "health_problem",
        "low_education",
        "nonwestern",
        "prior_work",
        "service_resources",
        "unemployment_rate",
        "co_location",
        "joint_case_management",
        "health_employment_integration",
        "health_x_ips",
    )
    modifiers: tuple[str, ...] = (
        "health_problem",
        "nonwestern",
        "health_x_ips",
        "joint_case_management",
        "health_employment_integration",
    )
    effect_modifiers: tuple[str, ...] = (
        "age",
        "female",
        "nonwestern",
        "children",
        "low_education",
        "health_problem",
        "prior_employment",
        "joint_case_management",
        "health_employment_integration",
    )
    controls: tuple[str, ...] = ("service_resources", "unemployment_rate", "co_location", "population")
    gate_by: tuple[str, ...] = ("health_problem", "nonwestern", "joint_case_management")
    folds: int = 3
    learner: str = "lightgbm"
    trajectory_cohort: str = "waa"
    trajectory_k: int = 4
    trajectory_distance: str = "OMspell"
    trajectory_ward: str = "D"

    def __post_init__(self) -> None:
        cell_cols = {*self.cell_covariates, *self.municipality_covariates, *(i[0] for i in self.interactions)}
        for name in ("covariates", "modifiers"):
            unknown = [c for c in getattr(self, name) if c not in cell_cols]
            if unknown:
                raise SpecificationError(
                    format_error(
                        what=f"BundleSpec.{name}",
                        expected="columns of the cells (cell_covariates, municipality_covariates, interactions)",
                        found=f"{unknown}",
                        fix="add them to cell_covariates or municipality_covariates",
                    )
                )
        if not set(self.pool_by) <= set(self.municipality_covariates) or self.pool_bins < 1:
            raise SpecificationError(
                format_error(
                    what="BundleSpec.pool_by / pool_bins",
                    expected="columns of municipality_covariates and pool_bins >= 1",
                    found=f"pool_by={self.pool_by}, pool_bins={self.pool_bins}",
                    fix="e.g. pool_by=('service_resources',), pool_bins=5",
                )
            )
        if not self.cell_covariates:
            raise SpecificationError(
                format_error(
                    what="BundleSpec.cell_covariates",
                    expected="at least one discrete person-level column",
                    found="none",
                    fix="e.g. ('health_problem',)",
                )
            )
        if self.folds < 2 or self.trajectory_k < 2:
            raise SpecificationError(
                format_error(
                    what="BundleSpec.folds / trajectory_k",
                    expected="integers >= 2",
                    found=f"folds={self.folds}, trajectory_k={self.trajectory_k}",
                    fix="use e.g. folds=3, trajectory_k=4",
                )
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the spec as JSON-ready nested lists and scalars."""
        return json.loads(json.dumps(asdict(self)))  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BundleSpec:
        """Rebuild a spec written by :meth:`to_dict` (unknown keys refused)."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise SpecificationError(
                format_error(
                    what="analysis spec",
                    expected=f"keys among {sorted(names)}",
                    found=f"unknown keys {unknown}",
                    fix="the bundle was written by another version of o4o_causal; rebuild it",
                )
            )
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key == "bins":
                kwargs[key] = tuple((str(a), str(b), tuple(float(e) for e in edges)) for a, b, edges in value)
            elif key == "interactions":
                kwargs[key] = tuple((str(a), str(b), str(c)) for a, b, c in value)
            elif isinstance(value, list):
                kwargs[key] = tuple(value)
            else:
                kwargs[key] = value
        return cls(**kwargs)

    def digest(self) -> str:
        """Return a SHA-256 of the canonical JSON of the spec (equal specs, equal digests)."""
        return _io.sha256_json(self.to_dict())

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return a copy of ``frame`` with the binned columns added (``frame`` is not modified).

        Raises
        ------
        DataError
            If a source column is missing or a value falls outside the bin edges.
        """
        out = frame.copy()
        for new, source, edges in self.bins:
            require_columns(out, [source], what=f"cohort {self.cohort!r}")
            binned = pd.cut(out[source], list(edges), labels=False)
            if binned.isna().any():
                from o4o_causal.exceptions import DataError

                raise DataError(
                    format_error(
                        what=f"column {source!r} (binned into {new!r})",
                        expected=f"values inside the bin edges {list(edges)}",
                        found=f"{int(binned.isna().sum())} values outside",
                        fix="widen the edges in BundleSpec.bins",
                    )
                )
            out[new] = binned.astype(np.int64)
        return out

    def person_columns(self) -> list[str]:
        """Return every person-level microdata column the bundle's analyses read."""
        derived = {b[0] for b in self.bins}
        cols = [self.outcome, self.treatment, self.cluster, "country"]
        cols += [c for c in (*self.cell_covariates, *self.effect_modifiers) if c not in derived]
        cols += [b[1] for b in self.bins]
        cols += [*self.municipality_covariates, *self.controls, *self.gate_by]
        return list(dict.fromkeys(c for c in cols if c not in derived))


__all__ = ["ANALYSES", "SCHEMA_VERSION", "BundleSpec"]

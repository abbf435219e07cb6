"""Effect estimation from a DAG's adjustment set: regression, IPW, matching, DML.

``estimate_effect`` identifies the adjustment set with the DAG, validates the data, and
estimates the average treatment effect of a binary treatment with the chosen method.
Inference is cluster-robust when ``cluster`` is given (municipality): sandwich
covariance with cluster sums of influence functions for regression, IPW and DML, and
cluster bootstrap for matching. When ``fixed_effects`` names the municipality column,
latent municipality-level confounders in the DAG are absorbed: regression gets
municipality fixed effects, the propensity and outcome models of IPW/matching/DML get
cluster means of the adjustment columns and the cluster share treated (Mundlak
device). Regression removes latent municipality confounding; for IPW, matching and DML
the Mundlak features only reduce it -- prefer regression when the DAG needs fixed
effects.

The result is a :class:`DagEstimate`: the shared :class:`~o4o_causal.results.Estimate`
plus the :class:`EffectSpec` needed to re-run it (refutations re-estimate on modified
data with :func:`estimate_with_spec`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from o4o_causal import _validate, config
from o4o_causal.dag.graph import CausalDAG
from o4o_causal.exceptions import DataError, SpecificationError, format_error
from o4o_causal.results import Estimate

METHODS = ("regression", "ipw", "matching", "dml")


@dataclass(frozen=True)
class EffectSpec:
    """Everything needed to re-run an estimate on (modified) data."""

    treatment: str
    outcome: str
    method: str
    adjustment: tuple[str, ...]  # data columns
    cluster: str | None = None
    fixed_effects: str | None = None
    ci_level: float = config.CI_LEVEL
    seed: int = 0
    trim: float | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, repr=False)
class DagEstimate(Estimate):
    """An :class:`Estimate` with the specification that produced it."""

    spec: EffectSpec | None = None


def _check_data(data: pd.DataFrame, spec: EffectSpec) -> pd.DataFrame:
    frame = _validate.require_frame(data)
    cols = [spec.treatment, spec.outcome, *spec.adjustment]
    extra = [c for c in (spec.cluster, spec.fixed_effects) if c]
    _validate.require_columns(frame, [*cols, *extra])
    _validate.require_no_missing(frame, [*cols, *extra])
    _validate.binary_treatment(frame, spec.treatment)
    if not pd.api.types.is_numeric_dtype(frame[spec.outcome]):
        raise DataError(
            format_error(
                what=f"outcome column {spec.outcome!r}",
                expected="numeric values",
                found=f"dtype {frame[spec.outcome].dtype}",
                fix="convert the outcome to numbers (0/1 for binary outcomes)",
            )
        )
    if spec.cluster and frame[spec.cluster].nunique() < 2:
        raise DataError(
            format_error(
                what=f"cluster column {spec.cluster!r}",
                expected="at least 2 clusters",
                found=f"{frame[spec.cluster].nunique()}",
                fix="pass cluster=None or more data",
            )
        )
    return frame


def estimate_with_spec(data: pd.DataFrame, spec: EffectSpec) -> DagEstimate:
    """Estimate the effect described by ``spec`` on ``data`` (used by refutations)."""
    from o4o_causal.dag import methods

    if spec.method not in METHODS:
        raise SpecificationError(
            format_error(what="method", expected=f"one of {list(METHODS)}", found=repr(spec.method), fix="choose one")
        )
    frame, run_spec = encode_categories(_check_data(data, spec), spec)
    value, se, n = getattr(methods, spec.method)(frame, run_spec)
    base = Estimate.from_normal(value, se, n=n, method=_label(spec), ci_level=spec.ci_level, estimand="ATE")
    return DagEstimate(**base.to_dict(), spec=spec)


def encode_categories(frame: pd.DataFrame, spec: EffectSpec) -> tuple[pd.DataFrame, EffectSpec]:
    """Expand text/categorical adjustment columns into 0/1 dummies (first level dropped)."""
    categorical = [c for c in spec.adjustment if not pd.api.types.is_numeric_dtype(frame[c])]
    if not categorical:
        return frame, spec
    dummies = pd.get_dummies(frame[categorical].astype(str), prefix=categorical, drop_first=True, dtype=float)
    encoded = pd.concat([frame.drop(columns=categorical), dummies], axis=1)
    adjustment = [c for c in spec.adjustment if c not in categorical] + list(dummies.columns)
    return encoded, replace(spec, adjustment=tuple(adjustment))


def _label(spec: EffectSpec) -> str:
    parts = [spec.method]
    if spec.fixed_effects:
        parts.append(f"fe={spec.fixed_effects}")
    if spec.cluster:
        parts.append(f"cluster={spec.cluster}")
    return " ".join(parts)


def estimate_effect(
    data: pd.DataFrame,
    dag: CausalDAG,
    *,
    treatment: str,
    outcome: str,
    method: str = "regression",
    cluster: str | None = None,
    fixed_effects: str | None = None,
    adjustment: list[str] | None = None,
    ci_level: float = config.CI_LEVEL,
    seed: int = 0,
    trim: float | None = None,
    method_options: dict[str, Any] | None = None,
) -> DagEstimate:
    """Estimate the ATE of a binary ``treatment`` on ``outcome`` as the DAG prescribes.

    Parameters
    ----------
    data
        One row per person (not modified).
    dag
        The causal DAG; every observed node must map to columns of ``data``.
    treatment, outcome
        Node names (= columns).
    method
        ``"regression"`` (outcome regression with treatment interactions, i.e.
        g-computation), ``"ipw"`` (Hajek inverse probability weighting, logistic
        propensity), ``"matching"`` (nearest-neighbour matching on the propensity score,
        ATE, with replacement) or ``"dml"`` (partialling-out double ML, LightGBM nuisance
        models, cross-fitting grouped by cluster).
    cluster
        Column of clusters (municipality) for cluster-robust inference.
    fixed_effects
        Column of the municipality level whose latent confounders the DAG says must be
        absorbed (see module docstring). Required when the DAG is only identified with
        fixed effects.
    adjustment
        Override the DAG's minimal adjustment set (node names), e.g. to show the bias of
        leaving the municipality level out. Not checked for validity.
    ci_level, seed, trim
        Interval level; seed of every random component; optional propensity trimming
        (drop units with propensity outside ``[trim, 1 - trim]``; the share trimmed is
        reported by :func:`o4o_causal.dag.overlap_diagnostics`).
    method_options
        Method-specific settings (e.g. ``{"n_neighbors": 1}``, ``{"folds": 5}``).

    Returns
    -------
    DagEstimate
    """
    dag.validate(data)
    ident = dag.identify(treatment, outcome, fixed_effects=fixed_effects is not None)
    if adjustment is None:
        if not ident.identified:
            hint = (
                "pass fixed_effects='municipality_id' to absorb latent municipality-level confounders"
                if any(dag.level(n) == "municipality" for n in dag.unobserved)
                else "add the missing confounders to the data (and DAG), or use another identification strategy"
            )
            raise SpecificationError(
                format_error(
                    what=f"effect of {treatment!r} on {outcome!r} in DAG {dag.name!r}",
                    expected="a valid backdoor adjustment set",
                    found="none among observed nodes",
                    fix=hint,
                )
            )
        nodes: tuple[str, ...] = ident.backdoor or ()
    else:
        for node in adjustment:
            dag.require_node(node, "adjustment node")
        nodes = tuple(adjustment)
    spec = EffectSpec(
        treatment=treatment,
        outcome=outcome,
        method=method,
        adjustment=tuple(dag.adjustment_columns(nodes)),
        cluster=cluster,
        fixed_effects=fixed_effects,
        ci_level=ci_level,
        seed=seed,
        trim=trim,
        options=dict(method_options or {}),
    )
    return estimate_with_spec(data, spec)


def respec(estimate: Estimate, **changes: Any) -> EffectSpec:
    """Return the spec of a :class:`DagEstimate` with ``changes`` applied."""
    spec: EffectSpec | None = getattr(estimate, "spec", None)
    if spec is None:
        raise SpecificationError(
            format_error(
                what="estimate",
                expected="a DagEstimate returned by estimate_effect",
                found=type(estimate).__name__,
                fix="estimate with o4o_causal.dag.estimate_effect",
            )
        )
    new: EffectSpec = replace(spec, **changes)
    return new

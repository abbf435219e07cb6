"""Simulation studies: replications of synthetic designs x estimators, run on Dask.

* :class:`Design` / :func:`grid` -- seed-free designs of the simulation world
  (:func:`o4o_causal.synth.simdesign.simulation_world`): persons, municipalities,
  municipality confounding, heterogeneity, within-municipality correlation;
* :data:`ESTIMATORS` -- naive, regression, IPW, DML without and with clustering,
  Bayesian multilevel (fast settings; custom ones return a :class:`Fit`);
* :func:`run` -- one Dask task per (design, replication), seeds per replication
  index (identical results for any number of workers), failures recorded;
* :class:`SimulationResult` -- raw table, :meth:`~SimulationResult.summary` (bias,
  RMSE, coverage with Monte Carlo SEs, width, failures, time), Parquet with the
  designs, seed and package versions (:meth:`~SimulationResult.to_parquet`, :func:`read`);
* :func:`simulate_cmd` -- the ``o4o simulate`` command (typer).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from o4o_causal.simulate.cli import simulate_cmd
    from o4o_causal.simulate.design import Design, grid
    from o4o_causal.simulate.estimators import DEFAULT as DEFAULT_ESTIMATORS
    from o4o_causal.simulate.estimators import ESTIMATORS, Fit, dml_ate
    from o4o_causal.simulate.replication import replication_seeds
    from o4o_causal.simulate.result import SimulationResult, read
    from o4o_causal.simulate.runner import run

# Imported on first access, so ``o4o_causal.simulate.cli`` (and the ``o4o`` command) loads
# without numpy: the suite's kernel pins thread pools before numerical libraries load.
_LAZY = {
    "simulate_cmd": ("cli", "simulate_cmd"),
    "Design": ("design", "Design"),
    "grid": ("design", "grid"),
    "DEFAULT_ESTIMATORS": ("estimators", "DEFAULT"),
    "ESTIMATORS": ("estimators", "ESTIMATORS"),
    "Fit": ("estimators", "Fit"),
    "dml_ate": ("estimators", "dml_ate"),
    "replication_seeds": ("replication", "replication_seeds"),
    "SimulationResult": ("result", "SimulationResult"),
    "read": ("result", "read"),
    "run": ("runner", "run"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'o4o_causal.simulate' has no attribute {name!r}")
    module, attr = _LAZY[name]
    return getattr(import_module(f"o4o_causal.simulate.{module}"), attr)


__all__ = [
    "DEFAULT_ESTIMATORS",
    "ESTIMATORS",
    "Design",
    "Fit",
    "SimulationResult",
    "dml_ate",
    "grid",
    "read",
    "replication_seeds",
    "run",
    "simulate_cmd",
]

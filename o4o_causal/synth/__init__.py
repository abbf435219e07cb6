"""Synthetic data with known ground truth.

* :func:`generate_world` -- the synthetic Nordic register world (NO/SE/DK): real numbers
  of municipalities with service-integration configurations, four cohorts (core
  question, young WAA entrants, social assistance in ten cities with Bergen's reform,
  NEET youth), ground truth (:class:`Truth`), calibration against published magnitudes,
  and raw extracts shaped like FD-Trygd, DREAM and LISA (:meth:`World.write`).
* :func:`simulate_trial` -- a two-arm trial calibrated on the Norwegian IPS trial.
"""

from __future__ import annotations

from o4o_causal.synth.trial import IPS_CONTROL_RATE, IPS_TREATED_RATE, replicate_trial, simulate_trial
from o4o_causal.synth.world import SCALES, Truth, World, generate_world

__all__ = [
    "IPS_CONTROL_RATE",
    "IPS_TREATED_RATE",
    "SCALES",
    "Truth",
    "World",
    "generate_world",
    "replicate_trial",
    "simulate_trial",
]

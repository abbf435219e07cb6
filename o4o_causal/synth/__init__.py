"""Synthetic data with known ground truth.

So far: a two-arm randomised trial calibrated on the Norwegian IPS trial
(:mod:`o4o_causal.synth.trial`), used to show what honest uncertainty looks like. The
synthetic Nordic register world (``generate_world``) is added by the synthetic-world
issue.
"""

from __future__ import annotations

from o4o_causal.synth.trial import IPS_CONTROL_RATE, IPS_TREATED_RATE, replicate_trial, simulate_trial

__all__ = ["IPS_CONTROL_RATE", "IPS_TREATED_RATE", "replicate_trial", "simulate_trial"]

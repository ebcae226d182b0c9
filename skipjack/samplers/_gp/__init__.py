"""Gaussian-process Bayesian optimization on NumPy and SciPy."""

from skipjack.samplers._gp._sampler import GPSampler

__all__ = ["GPSampler"]

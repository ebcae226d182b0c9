"""Hypervolume of a set of points (lower is better), shared by samplers and benchmarks."""

from skipjack._hypervolume._compute import compute_hypervolume

__all__ = ["compute_hypervolume"]

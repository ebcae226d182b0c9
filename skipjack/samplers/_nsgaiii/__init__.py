"""NSGA-III sampler (reference-point based survival)."""

from skipjack.samplers._nsgaiii._sampler import NSGAIIISampler

__all__ = ["NSGAIIISampler"]

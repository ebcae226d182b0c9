"""Shared machinery of genetic-algorithm samplers (generations, populations, parents)."""

from skipjack.samplers._ga._base import BaseGASampler

__all__ = ["BaseGASampler"]

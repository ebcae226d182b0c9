"""Pruners: when to stop an unpromising trial early."""

from skipjack.pruners._base import BasePruner
from skipjack.pruners._median import MedianPruner
from skipjack.pruners._nop import NopPruner
from skipjack.pruners._percentile import PercentilePruner

__all__ = ["BasePruner", "MedianPruner", "NopPruner", "PercentilePruner"]

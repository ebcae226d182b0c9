"""Samplers: how each trial's parameters are chosen."""

from skipjack.samplers._base import BaseSampler
from skipjack.samplers._partial_fixed import PartialFixedSampler
from skipjack.samplers._random import RandomSampler

__all__ = ["BaseSampler", "PartialFixedSampler", "RandomSampler"]

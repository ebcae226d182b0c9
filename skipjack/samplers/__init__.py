"""Samplers: how each trial's parameters are chosen."""

from skipjack.samplers._base import BaseSampler
from skipjack.samplers._partial_fixed import PartialFixedSampler
from skipjack.samplers._qmc import QMCSampler
from skipjack.samplers._random import RandomSampler
from skipjack.samplers._tpe._sampler import TPESampler

__all__ = ["BaseSampler", "PartialFixedSampler", "QMCSampler", "RandomSampler", "TPESampler"]

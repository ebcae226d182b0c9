"""Samplers: how each trial's parameters are chosen."""

from skipjack.samplers import nsgaii
from skipjack.samplers._base import BaseSampler
from skipjack.samplers._brute_force import BruteForceSampler
from skipjack.samplers._cmaes import CmaEsSampler
from skipjack.samplers._ga import BaseGASampler
from skipjack.samplers._gp import GPSampler
from skipjack.samplers._grid import GridSampler
from skipjack.samplers._nsgaiii import NSGAIIISampler
from skipjack.samplers._partial_fixed import PartialFixedSampler
from skipjack.samplers._qmc import QMCSampler
from skipjack.samplers._random import RandomSampler
from skipjack.samplers._tpe._sampler import TPESampler
from skipjack.samplers.nsgaii._sampler import NSGAIISampler

__all__ = [
    "BaseGASampler",
    "BaseSampler",
    "BruteForceSampler",
    "CmaEsSampler",
    "GPSampler",
    "GridSampler",
    "NSGAIIISampler",
    "NSGAIISampler",
    "PartialFixedSampler",
    "QMCSampler",
    "RandomSampler",
    "TPESampler",
    "nsgaii",
]

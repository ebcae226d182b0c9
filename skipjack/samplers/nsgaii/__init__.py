"""NSGA-II's building blocks: crossovers and mutations (as ``optuna.samplers.nsgaii``)."""

from skipjack.samplers.nsgaii._crossovers import BaseCrossover
from skipjack.samplers.nsgaii._crossovers import BLXAlphaCrossover
from skipjack.samplers.nsgaii._crossovers import SBXCrossover
from skipjack.samplers.nsgaii._crossovers import SPXCrossover
from skipjack.samplers.nsgaii._crossovers import UNDXCrossover
from skipjack.samplers.nsgaii._crossovers import UniformCrossover
from skipjack.samplers.nsgaii._crossovers import VSBXCrossover
from skipjack.samplers.nsgaii._mutations import BaseMutation
from skipjack.samplers.nsgaii._mutations import PolynomialMutation

__all__ = [
    "BLXAlphaCrossover",
    "BaseCrossover",
    "BaseMutation",
    "PolynomialMutation",
    "SBXCrossover",
    "SPXCrossover",
    "UNDXCrossover",
    "UniformCrossover",
    "VSBXCrossover",
]

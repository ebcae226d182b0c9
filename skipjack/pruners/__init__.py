"""Pruners: when to stop an unpromising trial early."""

from skipjack.pruners._base import BasePruner
from skipjack.pruners._filter import _filter_study as _filter_study
from skipjack.pruners._hyperband import HyperbandPruner
from skipjack.pruners._median import MedianPruner
from skipjack.pruners._nop import NopPruner
from skipjack.pruners._patient import PatientPruner
from skipjack.pruners._percentile import PercentilePruner
from skipjack.pruners._successive_halving import SuccessiveHalvingPruner
from skipjack.pruners._threshold import ThresholdPruner
from skipjack.pruners._wilcoxon import WilcoxonPruner

__all__ = [
    "BasePruner",
    "HyperbandPruner",
    "MedianPruner",
    "NopPruner",
    "PatientPruner",
    "PercentilePruner",
    "SuccessiveHalvingPruner",
    "ThresholdPruner",
    "WilcoxonPruner",
]

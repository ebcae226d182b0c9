"""Trials: the objects objective functions receive, and finished trials' records."""

from skipjack.trial._base import BaseTrial
from skipjack.trial._fixed import FixedTrial
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._frozen import create_trial
from skipjack.trial._state import TrialState
from skipjack.trial._trial import Trial

__all__ = ["BaseTrial", "FixedTrial", "FrozenTrial", "Trial", "TrialState", "create_trial"]

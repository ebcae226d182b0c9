"""Step facts read from the study's history, shared by successive halving and Hyperband."""

from __future__ import annotations

from typing import Any

import numpy as np

from skipjack.study._history import history_of
from skipjack.trial._state import TrialState

__all__ = ["max_complete_last_step"]

_COMPLETE = (TrialState.COMPLETE,)


def max_complete_last_step(study: Any) -> int | None:
    """The largest last reported step among the study's COMPLETE trials, or None if no COMPLETE
    trial reported anything."""
    snapshot = history_of(study).snapshot()
    trials = snapshot.trials
    rows = np.flatnonzero(snapshot.mask(_COMPLETE)).tolist()
    steps = [step for step in (trials[i].last_step for i in rows) if step is not None]
    return max(steps) if steps else None

"""Per-study cache of finished trials, filled incrementally from the finish-order table.

Finished trials never change, so each is read from the database once per storage object. A
read of the study asks only for finish records newer than the last one seen, plus the (few)
trials that are still RUNNING or WAITING.
"""

from __future__ import annotations

import bisect

from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState


class FinishedTrials:
    """The finished trials of one study that this process has seen, in finish order."""

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.trials: list[FrozenTrial] = []
        self.ids: set[int] = set()
        # Every trial with a smaller id was finished and recorded when last scanned.
        self.floor = 0
        self.scans = 0
        # Finished trials of each state, ordered by number.
        self.by_state: dict[TrialState, list[FrozenTrial]] = {
            TrialState.COMPLETE: [],
            TrialState.PRUNED: [],
            TrialState.FAIL: [],
        }

    @property
    def last_seq(self) -> int:
        """The finish sequence number of the newest cached trial (0 when empty)."""
        return self.seqs[-1] if self.seqs else 0

    def add(self, seq: int, trial: FrozenTrial) -> None:
        """Append a trial that finished with sequence number ``seq``."""
        if trial._trial_id in self.ids:
            return
        self.seqs.append(seq)
        self.trials.append(trial)
        self.ids.add(trial._trial_id)
        bisect.insort(self.by_state[trial.state], trial, key=lambda t: t.number)

    def since(self, watermark: int) -> list[FrozenTrial]:
        """Trials whose sequence number is greater than ``watermark``."""
        return self.trials[bisect.bisect_right(self.seqs, watermark) :]

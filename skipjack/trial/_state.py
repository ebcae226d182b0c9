"""The life-cycle states of a trial."""

from __future__ import annotations

import enum

__all__ = ["TrialState"]


class TrialState(enum.IntEnum):
    """State of a trial; the integer values are Optuna's and are written to storages as is.

    ``RUNNING`` (0) is being evaluated, ``COMPLETE`` (1) finished with values, ``PRUNED`` (2) was
    stopped early by a pruner, ``FAIL`` (3) raised or returned an invalid value, and ``WAITING``
    (4) was enqueued and waits for a worker.
    """

    RUNNING = 0
    COMPLETE = 1
    PRUNED = 2
    FAIL = 3
    WAITING = 4

    __str__ = enum.Enum.__str__  # prints "TrialState.COMPLETE", as Optuna's does

    def is_finished(self) -> bool:
        """Return ``True`` for COMPLETE, PRUNED and FAIL; ``False`` for RUNNING and WAITING."""
        return self in _FINISHED


_FINISHED = frozenset((TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL))

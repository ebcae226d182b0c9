"""The pruner contract: decide whether a running trial should stop early."""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["BasePruner"]


class BasePruner(abc.ABC):
    """Abstract base class of pruners.

    A pruner is asked by ``trial.should_prune()``, usually right after ``trial.report(value,
    step)``, whether the trial looks unpromising compared with the rest of the study. The
    framework only calls :meth:`prune`, so any object with that method works as a pruner.
    """

    @abc.abstractmethod
    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """Return whether ``trial`` should be stopped now.

        Users do not call this directly: ``trial.should_prune()`` does. ``trial`` is a snapshot
        of the running trial (its ``intermediate_values`` hold every report so far) owned by
        the caller; copy it before changing it.
        """
        raise NotImplementedError

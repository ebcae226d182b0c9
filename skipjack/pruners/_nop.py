"""A pruner that never prunes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skipjack.pruners._base import BasePruner

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["NopPruner"]


class NopPruner(BasePruner):
    """Never prune: ``trial.should_prune()`` is always ``False``.

    Use it to switch pruning off while keeping ``report``/``should_prune`` calls in the
    objective.
    """

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """Return ``False``."""
        return False

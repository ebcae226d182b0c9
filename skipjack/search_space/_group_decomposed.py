"""Split a study's parameters into groups that always appear together.

Two parameters share a group exactly when the same finished trials suggested them: either a
trial has both or it has neither. Samplers that model parameters jointly (TPE with
``group=True``) fit one model per group, so conditional search spaces (``if opt == "SGD":
suggest momentum``) are handled without mixing unrelated branches.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING
from typing import Any

from skipjack.search_space._intersection import _NewlyFinished

if TYPE_CHECKING:
    from skipjack.distributions import BaseDistribution

__all__ = ["_GroupDecomposedSearchSpace", "_SearchSpaceGroup"]


class _SearchSpaceGroup:
    """A partition of parameter names into groups, each a dict of name to distribution.

    Adding a trial's distributions refines the partition: every group is split into the part
    the trial has and the part it lacks, and names never seen before form a new group. The
    distribution kept for a name is the first one seen for it.
    """

    def __init__(self) -> None:
        self._search_spaces: list[dict[str, BaseDistribution]] = []

    @property
    def search_spaces(self) -> list[dict[str, BaseDistribution]]:
        """The groups, each a non-empty dict of name to distribution."""
        return self._search_spaces

    def add_distributions(self, distributions: dict[str, BaseDistribution]) -> None:
        """Refine the groups with the parameter set of one trial."""
        unseen = set(distributions)
        refined: list[dict[str, BaseDistribution]] = []
        for group in self._search_spaces:
            inside = {n: d for n, d in group.items() if n in distributions}
            outside = {n: d for n, d in group.items() if n not in distributions}
            refined.extend(g for g in (inside, outside) if g)
            unseen.difference_update(group)
        # Keep the trial's own order for the new group so that results are deterministic.
        fresh = {n: d for n, d in distributions.items() if n in unseen}
        if fresh:
            refined.append(fresh)
        self._search_spaces = refined

    def __repr__(self) -> str:
        return f"{type(self).__name__}(search_spaces={self._search_spaces!r})"


class _GroupDecomposedSearchSpace:
    """Compute a study's :class:`_SearchSpaceGroup` incrementally.

    Each call of :meth:`calculate` adds only the trials that finished since the previous call.
    An instance serves one study; giving it another study raises ValueError.

    Args:
        include_pruned: Also count PRUNED trials, not only COMPLETE ones.
    """

    def __init__(self, include_pruned: bool = False) -> None:
        self._include_pruned = include_pruned
        self._search_space = _SearchSpaceGroup()
        self._reader = _NewlyFinished(include_pruned)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(include_pruned={self._include_pruned!r})"

    def calculate(self, study: Any, use_cache: bool = False) -> _SearchSpaceGroup:
        """Return a copy of the groups after folding in newly finished trials.

        ``use_cache`` is accepted for compatibility with Optuna and has no effect.
        """
        self._reader.check_study(study, type(self).__name__)
        for trial in self._reader.take(study):
            self._search_space.add_distributions(trial.distributions)
        return copy.deepcopy(self._search_space)

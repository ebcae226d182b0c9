"""What CmaEsSampler needs from a study's finished trials, read incrementally.

Finished trials never change, so each refresh reads only the trials that finished since the last
one (``BaseStorage.get_finished_trials_since``) and files them: usable ones (COMPLETE, and PRUNED
with a reported value when asked) by the generation they were sampled in, and the most advanced
optimizer state any of them stored. A sample then costs the same at trial 10 as at trial 10,000.
"""

from __future__ import annotations

import copy
import math
import threading
from typing import TYPE_CHECKING

from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.distributions import BaseDistribution
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["CmaHistory"]


class CmaHistory:
    """Finished trials of one study, filed for CMA-ES.

    Args:
        key_generation: System attribute holding a trial's generation.
        key_state: System attribute of the first chunk of a stored optimizer state.
        consider_pruned: Count PRUNED trials, valued by their last intermediate value.
    """

    def __init__(self, key_generation: str, key_state: str, consider_pruned: bool) -> None:
        self._key_generation = key_generation
        self._key_state = key_state
        self._consider_pruned = consider_pruned
        self._lock = threading.Lock()
        self._study_key: tuple[int, int] | None = None
        self.space_version = 0
        self._reset()

    def _reset(self) -> None:
        self._watermark = 0
        self._seen: set[int] = set()
        self.n_usable = 0
        self._by_generation: dict[int, list[FrozenTrial]] = {}
        # Parameters common to every COMPLETE trial (Optuna's IntersectionSearchSpace), kept
        # here to avoid re-reading and deep-copying on every trial. ``space_version`` changes
        # whenever it does, so callers can cache what they derive from it.
        self._intersection: dict[str, BaseDistribution] | None = None
        self.space_version += 1  # never reused, even across studies
        # (generation, -number, trial) of the most advanced stored state; earliest trial on ties.
        self._best_state: tuple[int, int, FrozenTrial] | None = None

    def refresh(self, study: Study) -> None:
        """Take in the trials of ``study`` that finished since the last call."""
        key = (id(study._storage), study._study_id)
        with self._lock:
            if key != self._study_key:
                self._study_key = key
                self._reset()
            trials, self._watermark = study._storage.get_finished_trials_since(
                study._study_id, self._watermark
            )
            for trial in trials:
                if trial._trial_id in self._seen:
                    continue
                self._seen.add(trial._trial_id)
                self._file(trial)

    def _file(self, trial: FrozenTrial) -> None:
        if trial.state == TrialState.COMPLETE:
            self._intersect(trial.distributions)
        attrs = trial.system_attrs
        generation = attrs.get(self._key_generation)
        if self._key_state in attrs and isinstance(generation, int):
            entry = (generation, -trial.number, trial)
            if self._best_state is None or entry[:2] > self._best_state[:2]:
                self._best_state = entry
        usable = self._usable(trial)
        if usable is None:
            return
        self.n_usable += 1
        if isinstance(generation, int):
            self._by_generation.setdefault(generation, []).append(usable)

    def _intersect(self, dists: dict[str, BaseDistribution]) -> None:
        if self._intersection is None:
            self._intersection = dict(sorted(dists.items()))
            self.space_version += 1
            return
        # Suggest calls share distribution objects, so identity settles almost every check.
        for name, dist in self._intersection.items():
            other = dists.get(name)
            if other is not dist and other != dist:
                break
        else:
            return
        self._intersection = {
            name: dist for name, dist in self._intersection.items() if dists.get(name) == dist
        }
        self.space_version += 1

    def _usable(self, trial: FrozenTrial) -> FrozenTrial | None:
        if trial.state == TrialState.COMPLETE:
            return trial
        if trial.state != TrialState.PRUNED or not self._consider_pruned:
            return None
        if not trial.intermediate_values:
            return None
        value = trial.intermediate_values[max(trial.intermediate_values)]
        if value is None or math.isnan(value):
            return None
        copied = copy.deepcopy(trial)  # storage-owned trials must not be modified
        copied.value = value
        return copied

    def intersection(self) -> dict[str, BaseDistribution]:
        """Parameters (sorted by name) with the same distribution in every COMPLETE trial."""
        with self._lock:
            return dict(self._intersection or {})

    def count(self, generation: int) -> int:
        """Number of usable trials sampled in ``generation``."""
        return len(self._by_generation.get(generation, ()))

    def members(self, generation: int) -> list[FrozenTrial]:
        """Usable trials sampled in ``generation``, by number."""
        with self._lock:
            return sorted(self._by_generation.get(generation, []), key=lambda t: t.number)

    def state_holder(self) -> tuple[int, FrozenTrial] | None:
        """The generation and trial of the most advanced stored optimizer state, if any."""
        with self._lock:
            if self._best_state is None:
                return None
            return self._best_state[0], self._best_state[2]

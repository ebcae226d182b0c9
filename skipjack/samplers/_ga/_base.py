"""Generations and populations of genetic-algorithm samplers, shared through the storage.

Every trial carries its generation number in the system attribute ``<SamplerClass>:generation``
(Optuna's key, so a study started by either library continues in the other). A new trial joins
the newest generation until that generation has ``population_size`` COMPLETE trials, then opens
the next one. The parents chosen for generation ``g`` are written once to the study system
attribute ``<SamplerClass>:parent:<g>`` as a list of trial ids, so that every process working on
the study breeds generation ``g`` from the same parents.

Reads are incremental: each sampler keeps a per-study index of generation members that grows
with the trials the storage reports as finished since the last look
(``BaseStorage.get_finished_trials_since``), so a trial costs the same at trial 10 and 10,000.
"""

from __future__ import annotations

import abc
import threading
import time
from typing import TYPE_CHECKING
from typing import Any

from skipjack.samplers._base import BaseSampler
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.distributions import BaseDistribution
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["BaseGASampler"]

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
# How long a process that lost the race to choose a generation's parents waits for the winner
# to publish them before choosing on its own.
_PARENT_WAIT_SECONDS = 2.0


class _GenerationIndex:
    """COMPLETE trials of one study grouped by generation, grown from newly finished trials.

    It also folds each new COMPLETE trial's distributions into the intersection search space,
    which GA samplers breed over, so each finished trial is looked at once for both.
    """

    def __init__(self) -> None:
        self.watermark = 0
        self.seen: set[int] = set()
        self.members: dict[int, list[FrozenTrial]] = {}
        self.by_id: dict[int, FrozenTrial] = {}
        self.parents: dict[int, list[FrozenTrial]] = {}
        # Parent ids found in the study's system attributes on the first look, by attribute.
        self.published: dict[str, Any] | None = None
        self.search_space: dict[str, BaseDistribution] | None = None
        # Bumped whenever ``search_space`` changes, so derived views can be cached.
        self.space_version = 0
        self._sorted: tuple[int, dict[str, BaseDistribution]] = (0, {})
        self._breedable: tuple[int, dict[str, BaseDistribution]] = (0, {})

    def update(self, study: Study, key: str) -> None:
        storage = study._storage
        fetch = getattr(storage, "get_finished_trials_since", None)
        if fetch is None:  # a storage written against Optuna's interface only
            trials = storage.get_all_trials(study._study_id, deepcopy=False, states=_FINISHED)
            watermark = 0
        else:
            trials, watermark = fetch(study._study_id, self.watermark)
        seen = self.seen
        for trial in trials:
            trial_id = trial._trial_id
            # Storages without incremental reads hand back every finished trial each time.
            if trial_id in seen:
                continue
            seen.add(trial_id)
            if trial.state != TrialState.COMPLETE:
                continue
            self.by_id[trial_id] = trial
            generation = trial.system_attrs.get(key)
            if generation is not None:
                self.members.setdefault(int(generation), []).append(trial)
            self._intersect(trial.distributions)
        self.watermark = watermark

    def sorted_space(self) -> dict[str, BaseDistribution]:
        """The intersection search space sorted by name (shared: do not modify)."""
        version, space = self._sorted
        if version != self.space_version:
            space = dict(sorted((self.search_space or {}).items()))
            self._sorted = (self.space_version, space)
        return space

    def breedable_space(self) -> dict[str, BaseDistribution]:
        """:meth:`sorted_space` without single-valued parameters (shared: do not modify)."""
        version, space = self._breedable
        if version != self.space_version:
            space = {n: d for n, d in self.sorted_space().items() if not d.single()}
            self._breedable = (self.space_version, space)
        return space

    def _intersect(self, distributions: dict[str, BaseDistribution]) -> None:
        space = self.search_space
        if space is None:
            self.search_space = dict(distributions)
            self.space_version += 1
            return
        gone = []
        for name, dist in space.items():
            other = distributions.get(name)
            if other is not dist and other != dist:
                gone.append(name)
        for name in gone:
            del space[name]
        if gone:
            self.space_version += 1


class BaseGASampler(BaseSampler, abc.ABC):
    """Base class of samplers that evolve a population generation by generation.

    Subclasses implement :meth:`select_parent`, which chooses the parents of a generation from
    the trials of the previous one. This class assigns each trial its generation, lists a
    generation's members and publishes each generation's parents once per study, so that several
    threads or processes sharing the study agree on them.

    Args:
        population_size: Number of COMPLETE trials that make up one generation.
    """

    _GENERATION_KEY = "BaseGASampler:generation"
    _PARENT_CACHE_KEY_PREFIX = "BaseGASampler:parent:"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Keys are per sampler class, as in Optuna: NSGA-II and NSGA-III never mix generations.
        cls._GENERATION_KEY = f"{cls.__name__}:generation"
        cls._PARENT_CACHE_KEY_PREFIX = f"{cls.__name__}:parent:"

    def __init__(self, population_size: int | None) -> None:
        self._population_size = population_size
        self._ga_lock = threading.RLock()
        self._indexes: dict[tuple[int, int], _GenerationIndex] = {}
        # Generations assigned in before_trial, by trial id, until the trial finishes.
        self._assigned: dict[int, int] = {}
        self._local = threading.local()

    @classmethod
    def _get_generation_key(cls) -> str:
        return cls._GENERATION_KEY

    @classmethod
    def _get_parent_cache_key_prefix(cls) -> str:
        return cls._PARENT_CACHE_KEY_PREFIX

    @property
    def population_size(self) -> int | None:
        """Number of COMPLETE trials in one generation."""
        return self._population_size

    @population_size.setter
    def population_size(self, value: int) -> None:
        self._population_size = value

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_ga_lock"] = None
        state["_indexes"] = {}
        state["_local"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._ga_lock = threading.RLock()
        self._local = threading.local()

    @abc.abstractmethod
    def select_parent(self, study: Study, generation: int) -> list[FrozenTrial]:
        """Choose the parents of ``generation`` (at least 1) from the study's trials.

        Called at most once per generation and study by the process that publishes the result;
        every other caller reads the published trial ids.
        """
        raise NotImplementedError

    def _index(self, study: Study, refresh: bool = True) -> _GenerationIndex:
        key = (id(study._storage), study._study_id)
        index = self._indexes.get(key)
        if index is None:
            index = self._indexes.setdefault(key, _GenerationIndex())
        if refresh:
            index.update(study, self._get_generation_key())
        return index

    def _intersection_search_space(
        self, study: Study, refresh: bool = True
    ) -> dict[str, BaseDistribution]:
        """The distributions every COMPLETE trial of ``study`` shares, sorted by name.

        ``refresh=False`` reuses the index as last refreshed (when it exists), for callers that
        refreshed it a moment ago for the same trial.
        """
        return dict(self._known_index(study, refresh).sorted_space())

    def _breedable_search_space(
        self, study: Study, refresh: bool = True
    ) -> dict[str, BaseDistribution]:
        """:meth:`_intersection_search_space` without single-valued parameters."""
        return dict(self._known_index(study, refresh).breedable_space())

    def _known_index(self, study: Study, refresh: bool) -> _GenerationIndex:
        # An index that does not exist yet is always filled, whatever ``refresh`` says.
        with self._ga_lock:
            known = (id(study._storage), study._study_id) in self._indexes
            return self._index(study, refresh=refresh or not known)

    def get_trial_generation(self, study: Study, trial: FrozenTrial) -> int:
        """Return ``trial``'s generation, assigning (and storing) it on first request.

        A trial joins the newest generation seen among COMPLETE trials, or opens the next one
        once that generation already holds ``population_size`` COMPLETE trials.
        """
        stored = trial.system_attrs.get(self._get_generation_key())
        if stored is not None:
            return int(stored)
        with self._ga_lock:
            assigned = self._assigned.get(trial._trial_id)
            if assigned is not None:
                return assigned
            if self._population_size is None:
                raise ValueError("population_size must be set before generations are assigned.")
            members = self._index(study).members
            newest = max(members, default=0)
            count = len(members.get(newest, ()))
            generation = newest + 1 if count >= self._population_size else newest
            study._storage.set_trial_system_attr(
                trial._trial_id, self._get_generation_key(), generation
            )
            self._assigned[trial._trial_id] = generation
            return generation

    def _forget_trial(self, trial: FrozenTrial) -> None:
        with self._ga_lock:
            self._assigned.pop(trial._trial_id, None)

    def get_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        """Return the COMPLETE trials of ``generation``, in the order they finished."""
        with self._ga_lock:
            return list(self._index(study).members.get(generation, ()))

    def get_parent_population(self, study: Study, generation: int) -> list[FrozenTrial]:
        """Return the parents of ``generation`` (``[]`` for generation 0).

        The first process to need them chooses them with :meth:`select_parent` and publishes
        their trial ids in a study system attribute; others read that attribute. When the
        storage supports claims, only the claim's winner chooses, so concurrent processes
        cannot publish different parents for one generation. Each process works this out once
        per generation and keeps the answer.
        """
        if generation == 0:
            return []
        with self._ga_lock:
            cached = self._index(study, refresh=False).parents.get(generation)
            if cached is not None:
                return cached
            index = self._index(study)
            attr = self._get_parent_cache_key_prefix() + str(generation)
            ids = self._published_parents(study, index, attr)
            if ids is not None:
                parents = self._resolve(study, index, ids)
            else:
                parents = self.select_parent(study, generation)
                study._storage.set_study_system_attr(
                    study._study_id, attr, [t._trial_id for t in parents]
                )
            index.parents[generation] = parents
            return parents

    def _published_parents(self, study: Study, index: _GenerationIndex, attr: str) -> Any:
        """The trial ids published under ``attr``, or ``None`` when this process must choose.

        Study system attributes hold every generation's parents, so reading them costs more as
        the study grows: they are read once per study (for parents published before this
        process arrived, by skipjack or Optuna), then only by a process that lost the claim.
        """
        if index.published is None:
            prefix = self._get_parent_cache_key_prefix()
            attrs = study._storage.get_study_system_attrs(study._study_id)
            index.published = {k: v for k, v in attrs.items() if k.startswith(prefix)}
        ids = index.published.pop(attr, None)
        if ids is not None:
            return ids
        won = self._claim_parents(study, attr)
        if won is None:  # no claims here: best effort, publish unless someone already has
            return study._storage.get_study_system_attrs(study._study_id).get(attr)
        if won:
            return None
        return _wait_for_attr(study, attr)

    def _claim_parents(self, study: Study, attr: str) -> bool | None:
        """Claim the right to choose ``attr``'s parents; ``None`` when claims are unavailable."""
        # The claim is held by the trial this thread is sampling for (set by the subclass).
        trial_id = getattr(self._local, "trial_id", None)
        claim = getattr(study._storage, "claim", None)
        if trial_id is None or claim is None:
            return None
        try:
            return bool(claim(study._study_id, "skipjack:" + attr, trial_id))
        except NotImplementedError:
            return None

    def _resolve(self, study: Study, index: _GenerationIndex, ids: list[int]) -> list[FrozenTrial]:
        missing = [i for i in ids if i not in index.by_id]
        if missing:  # a parent from an older, unindexed part of the study
            for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
                index.by_id.setdefault(trial._trial_id, trial)
        return [index.by_id[i] for i in ids if i in index.by_id]


def _wait_for_attr(study: Study, attr: str) -> Any:
    deadline = time.monotonic() + _PARENT_WAIT_SECONDS
    delay = 0.005
    while time.monotonic() < deadline:
        value = study._storage.get_study_system_attrs(study._study_id).get(attr)
        if value is not None:
            return value
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    return None

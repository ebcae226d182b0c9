"""GridSampler: every point of a fixed grid, each claimed atomically so no point runs twice."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import hashlib
import itertools
import json
import logging
import math
import random
import threading
from typing import TYPE_CHECKING
from typing import Any
from typing import Union
import warnings

from skipjack.distributions import BaseDistribution
from skipjack.exceptions import TrialPruned
from skipjack.samplers._base import BaseSampler
from skipjack.samplers._base import _IndependentOnly

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial
    from skipjack.trial._state import TrialState

__all__ = ["GridSampler"]

GridValueType = Union[str, float, int, bool, None]  # noqa: UP007 (runtime alias)

_logger = logging.getLogger(__name__)

EXHAUSTED_ATTR = "skipjack:grid:exhausted"


class _GridState:
    """What one worker knows of a study's grid. Guard with the sampler's lock."""

    def __init__(self) -> None:
        self.done: set[int] = set()  # grid ids of finished trials
        self.taken: set[int] = set()  # claimed by someone (ourselves included)
        self.seen_trials: set[int] = set()
        self.watermark = 0
        self.cursor = 0


class GridSampler(_IndependentOnly, BaseSampler):
    """Evaluate each point of the Cartesian product of ``search_space`` once.

    Parameter names are sorted and the grid is shuffled (by ``seed``, 0 when ``None``, as in
    Optuna). Each trial claims its grid point in the storage before running, so concurrent
    workers never evaluate the same point; the study stops itself once every point is started.

    When every point is taken, a new trial is not given a duplicate point (Optuna re-evaluates a
    random one): its first suggestion raises :class:`~skipjack.TrialPruned` with a message saying
    the grid is exhausted, and inside ``optimize`` the study stops. This works the same under
    ask-and-tell, where Optuna raises RuntimeError from ``tell`` at the end of the grid; use
    :meth:`is_exhausted` to know when to stop asking.

    Args:
        search_space: Parameter name to the list of its values.
        seed: Seed of the shuffle of grid points.
    """

    def __init__(
        self, search_space: Mapping[str, Sequence[GridValueType]], seed: int | None = None
    ) -> None:
        for name, values in search_space.items():
            for value in values:
                if value is not None and not isinstance(value, (str, int, float, bool)):
                    warnings.warn(
                        f"{name} contains a value of type {type(value)}, which GridSampler does "
                        "not support; use str, int, float, bool or None so persistent storages "
                        "can store it.",
                        UserWarning,
                        stacklevel=2,
                    )
        self._search_space = {name: list(values) for name, values in sorted(search_space.items())}
        self._param_names = list(self._search_space)
        self._all_grids = list(itertools.product(*self._search_space.values()))
        random.Random(seed or 0).shuffle(self._all_grids)
        self._n = len(self._all_grids)
        digest = json.dumps(self._search_space, sort_keys=True, default=repr)
        self._key_prefix = "grid:" + hashlib.sha1(digest.encode()).hexdigest()[:16] + ":"
        self._lock = threading.Lock()
        self._states: dict[int, _GridState] = {}

    def reseed_rng(self) -> None:
        """The grid order is fixed by ``seed``; there is nothing to reseed."""

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        """Claim a free grid point for ``trial`` (not for enqueued or retried trials)."""
        if "grid_id" in trial.system_attrs or "fixed_params" in trial.system_attrs:
            return
        grid_id = self._claim_next(study, trial._trial_id)
        storage = study._storage
        if grid_id is None:
            storage.set_trial_system_attr(trial._trial_id, EXHAUSTED_ATTR, True)
            trial.system_attrs[EXHAUSTED_ATTR] = True
            return
        storage.set_trial_system_attr(trial._trial_id, "search_space", self._search_space)
        storage.set_trial_system_attr(trial._trial_id, "grid_id", grid_id)
        trial.system_attrs["search_space"] = self._search_space
        trial.system_attrs["grid_id"] = grid_id

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Return ``param_name``'s value at this trial's grid point."""
        if trial.system_attrs.get(EXHAUSTED_ATTR):
            _stop(study)
            raise TrialPruned(
                "GridSampler: the grid is exhausted; every grid point has been evaluated or is "
                "being evaluated by another trial."
            )
        if "grid_id" not in trial.system_attrs:
            raise ValueError(
                "All parameters must be specified when using GridSampler with enqueue_trial."
            )
        if param_name not in self._search_space:
            raise ValueError(f"The parameter name, {param_name}, is not found in the given grid.")
        value = self._all_grids[trial.system_attrs["grid_id"]][self._param_names.index(param_name)]
        if not param_distribution._contains(param_distribution.to_internal_repr(value)):
            warnings.warn(
                f"The value `{value}` is out of range of the parameter `{param_name}`. The value "
                f"will be used but the actual distribution is: `{param_distribution}`.",
                UserWarning,
                stacklevel=2,
            )
        return value

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """Stop the study once no grid point is left to start."""
        with self._lock:
            st = self._state(study)
            if isinstance(trial.system_attrs.get("grid_id"), int):
                st.done.add(trial.system_attrs["grid_id"])
            self._sync(study, st)
            left = self._n - len(st.done | st.taken)
        if left <= 0:
            _stop(study)

    def is_exhausted(self, study: Study) -> bool:
        """Return True when every grid point has been evaluated (finished trials)."""
        with self._lock:
            st = self._state(study)
            self._sync(study, st)
            return len(st.done) >= self._n

    # ---- internals -------------------------------------------------------------------------
    def _state(self, study: Study) -> _GridState:
        st = self._states.get(study._study_id)
        if st is None:
            st = self._states[study._study_id] = _GridState()
        return st

    def _same_space(self, space: Any) -> bool:
        if not isinstance(space, Mapping) or list(sorted(space)) != self._param_names:
            return False
        for name in self._param_names:
            mine, theirs = self._search_space[name], list(space[name])
            if len(mine) != len(theirs):
                return False
            for a, b in zip(mine, theirs):
                if not (a == b or (_is_nan(a) and _is_nan(b))):
                    return False
        return True

    def _sync(self, study: Study, st: _GridState) -> None:
        trials, st.watermark = study._storage.get_finished_trials_since(
            study._study_id, st.watermark
        )
        for t in trials:
            if t._trial_id in st.seen_trials:
                continue
            st.seen_trials.add(t._trial_id)
            grid_id = t.system_attrs.get("grid_id")
            if isinstance(grid_id, int) and self._same_space(t.system_attrs.get("search_space")):
                st.done.add(grid_id)

    def _claim_next(self, study: Study, trial_id: int) -> int | None:
        with self._lock:
            st = self._state(study)
            self._sync(study, st)
            while st.cursor < self._n:
                grid_id = st.cursor
                st.cursor += 1
                if grid_id in st.done or grid_id in st.taken:
                    continue
                st.taken.add(grid_id)
                try:
                    won = study._storage.claim(
                        study._study_id, f"{self._key_prefix}{grid_id}", trial_id
                    )
                except NotImplementedError:
                    won = True
                if won:
                    return grid_id
            return None


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _stop(study: Study) -> None:
    try:
        study.stop()
    except RuntimeError:  # ask-and-tell: there is no optimize loop to stop
        pass

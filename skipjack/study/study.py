"""Study: one optimization task, its trials and the sampler and pruner that drive it."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Container
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
import copy
import numbers
import threading
from typing import TYPE_CHECKING
from typing import Any

from skipjack import logging as _logging
from skipjack.distributions import BaseDistribution
from skipjack.distributions import _convert_old_distribution_to_new_distribution
from skipjack.exceptions import UpdateFinishedTrialError
from skipjack.storages._base import BaseStorage
from skipjack.storages._heartbeat import HeartbeatThread
from skipjack.storages._heartbeat import is_heartbeat_enabled
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._constraints import is_feasible
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._frozen import create_trial
from skipjack.trial._state import TrialState
from skipjack.trial._trial import Trial

if TYPE_CHECKING:
    import pandas as pd

    from skipjack.pruners._base import BasePruner
    from skipjack.samplers._base import BaseSampler

__all__ = ["ObjectiveFuncType", "Study"]

ObjectiveFuncType = Callable[[Trial], "float | Sequence[float]"]
_METRIC_NAMES_KEY = "study:metric_names"
_logger = _logging.get_logger(__name__)


class Study:
    """A study: the trials of one optimization task, shared through a storage.

    Create or load one with :func:`create_study` / :func:`load_study` rather than the constructor.

    Args:
        study_name: The name of an existing study in ``storage``.
        storage: A storage object or URL.
        sampler: The sampler; defaults to the library default sampler.
        pruner: The pruner; defaults to :class:`~skipjack.pruners.MedianPruner`.
    """

    def __init__(
        self,
        study_name: str,
        storage: str | BaseStorage,
        sampler: BaseSampler | None = None,
        pruner: BasePruner | None = None,
    ) -> None:
        from skipjack.storages._get import get_storage

        self.study_name = study_name
        self._storage = get_storage(storage)
        self._study_id = self._storage.get_study_id_from_name(study_name)
        self._directions = self._storage.get_study_directions(self._study_id)
        self.sampler = sampler if sampler is not None else _default_sampler(self._directions)
        self.pruner = pruner if pruner is not None else _default_pruner()
        self._thread_local = threading.local()
        self._stop_flag = False
        self._heartbeats: dict[int, HeartbeatThread] = {}
        self._heartbeats_lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for transient in ("_thread_local", "_heartbeats", "_heartbeats_lock"):
            state.pop(transient, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._thread_local = threading.local()
        self._heartbeats = {}
        self._heartbeats_lock = threading.Lock()

    # ---- best results --------------------------------------------------------------------
    @property
    def best_params(self) -> dict[str, Any]:
        """Parameters of the best trial (single objective)."""
        return self.best_trial.params

    @property
    def best_value(self) -> float:
        """Objective value of the best trial (single objective)."""
        value = self.best_trial.value
        assert value is not None
        return value

    @property
    def best_trial(self) -> FrozenTrial:
        """The best COMPLETE trial; feasible ones only when trials set constraints.

        Raises ValueError when there is none, RuntimeError for a multi-objective study.
        """
        return copy.deepcopy(self._get_best_trial())

    def _get_best_trial(self) -> FrozenTrial:
        if len(self._directions) > 1:
            raise RuntimeError(
                "A single best trial cannot be retrieved from a multi-objective study; "
                "use Study.best_trials instead."
            )
        best = self._storage.get_best_trial(self._study_id)
        if is_feasible(best.system_attrs):
            return best
        complete = self._storage.get_all_trials(
            self._study_id, deepcopy=False, states=(TrialState.COMPLETE,)
        )
        feasible = [t for t in complete if is_feasible(t.system_attrs)]
        if not feasible:
            raise ValueError("No feasible trials are completed yet.")
        pick = max if self._directions[0] == StudyDirection.MAXIMIZE else min
        return pick(feasible, key=lambda t: t.values[0])  # type: ignore[index]

    @property
    def best_trials(self) -> list[FrozenTrial]:
        """The Pareto-optimal COMPLETE trials (feasible ones only under constraints)."""
        from skipjack.study._multi_objective import _get_pareto_front_trials

        return copy.deepcopy(_get_pareto_front_trials(self, consider_constraint=True))

    # ---- description ---------------------------------------------------------------------
    @property
    def direction(self) -> StudyDirection:
        """The direction of a single-objective study."""
        if len(self._directions) > 1:
            raise RuntimeError(
                "A single direction cannot be retrieved from a multi-objective study; "
                "use Study.directions instead."
            )
        return self._directions[0]

    @property
    def directions(self) -> list[StudyDirection]:
        """One direction per objective."""
        return list(self._directions)

    @property
    def trials(self) -> list[FrozenTrial]:
        """All trials, deep-copied, ordered by number."""
        return self.get_trials(deepcopy=True)

    def get_trials(
        self, deepcopy: bool = True, states: Container[TrialState] | None = None
    ) -> list[FrozenTrial]:
        """Return the study's trials ordered by number.

        Args:
            deepcopy: Copy the trials so the caller may modify them. With ``False`` (faster)
                the caller must not modify them.
            states: Only trials in these states; all when ``None``.
        """
        return self._storage.get_all_trials(self._study_id, deepcopy=deepcopy, states=states)

    def _get_trials(
        self,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
        use_cache: bool = False,
    ) -> list[FrozenTrial]:
        # Optuna's private spelling, kept because third-party samplers call it; ``use_cache`` is
        # accepted and ignored (storages here keep their own caches).
        return self.get_trials(deepcopy=deepcopy, states=states)

    @property
    def user_attrs(self) -> dict[str, Any]:
        """The study's user attributes (a copy)."""
        return copy.deepcopy(self._storage.get_study_user_attrs(self._study_id))

    @property
    def system_attrs(self) -> dict[str, Any]:
        """The study's system attributes (a copy); deprecated in Optuna."""
        return copy.deepcopy(self._storage.get_study_system_attrs(self._study_id))

    def set_user_attr(self, key: str, value: Any) -> None:
        """Store a JSON-serializable ``value`` under ``key`` with the study."""
        self._storage.set_study_user_attr(self._study_id, key, value)

    def set_system_attr(self, key: str, value: Any) -> None:
        """Store a study system attribute (deprecated in Optuna)."""
        self._storage.set_study_system_attr(self._study_id, key, value)

    @property
    def metric_names(self) -> list[str] | None:
        """Names of the objectives set with :meth:`set_metric_names`, or ``None``."""
        return self._storage.get_study_system_attrs(self._study_id).get(_METRIC_NAMES_KEY)

    def set_metric_names(self, metric_names: list[str]) -> None:
        """Name the objectives (one name per direction)."""
        if len(metric_names) != len(self._directions):
            raise ValueError(
                f"set_metric_names: got {len(metric_names)} names for "
                f"{len(self._directions)} objectives; give one name per objective."
            )
        self._storage.set_study_system_attr(self._study_id, _METRIC_NAMES_KEY, list(metric_names))

    def _is_multi_objective(self) -> bool:
        return len(self._directions) > 1

    # ---- running ---------------------------------------------------------------------------
    def optimize(
        self,
        func: ObjectiveFuncType,
        n_trials: int | None = None,
        timeout: float | None = None,
        n_jobs: int = 1,
        catch: Iterable[type[Exception]] | type[Exception] = (),
        callbacks: Iterable[Callable[[Study, FrozenTrial], None]] | None = None,
        gc_after_trial: bool = False,
        show_progress_bar: bool = False,
    ) -> None:
        """Run trials of ``func`` until ``n_trials`` or ``timeout`` is reached or
        :meth:`stop` is called (or forever when neither is given).

        Args:
            func: The objective: takes a :class:`Trial`, returns a float (or one per objective).
            n_trials: Trials to run in this call; ``None`` for no limit.
            timeout: Seconds after which no new trial starts; ``None`` for no limit.
            n_jobs: Threads evaluating trials at once; ``-1`` for one per CPU.
            catch: Exception types that fail the trial without stopping the study.
            callbacks: Called with ``(study, frozen_trial)`` after each trial.
            gc_after_trial: Run the garbage collector after each trial.
            show_progress_bar: Show a tqdm progress bar.
        """
        from skipjack.study._optimize import optimize

        optimize(
            self,
            func,
            n_trials=n_trials,
            timeout=timeout,
            n_jobs=n_jobs,
            catch=catch,
            callbacks=callbacks,
            gc_after_trial=gc_after_trial,
            show_progress_bar=show_progress_bar,
        )

    def ask(self, fixed_distributions: dict[str, BaseDistribution] | None = None) -> Trial:
        """Start a new trial (or take an enqueued one) and return it.

        Args:
            fixed_distributions: Parameters to suggest right away, by name.
        """
        fixed = {
            name: _convert_old_distribution_to_new_distribution(dist)
            for name, dist in (fixed_distributions or {}).items()
        }
        trial_id = self._pop_waiting_trial_id()
        if trial_id is None:
            trial_id = self._storage.create_new_trial(self._study_id)
        self._start_heartbeat(trial_id)
        trial = Trial(self, trial_id)
        for name, dist in fixed.items():
            trial._suggest(name, dist)
        return trial

    def tell(
        self,
        trial: Trial | FrozenTrial | int,
        values: float | Sequence[float] | None = None,
        state: TrialState | None = None,
        skip_if_finished: bool = False,
    ) -> FrozenTrial:
        """Finish a trial started with :meth:`ask`.

        Args:
            trial: The trial, its FrozenTrial, or its number.
            values: The objective value(s); required unless ``state`` is PRUNED or FAIL.
            state: COMPLETE, PRUNED or FAIL; inferred from ``values`` when ``None`` (an invalid
                value then FAILs the trial with a warning).
            skip_if_finished: Return quietly when the trial is already finished.

        Returns:
            The finished trial.
        """
        from skipjack.study._tell import tell_with_warning

        frozen, _ = tell_with_warning(
            self, trial, values, state, skip_if_finished=skip_if_finished, suppress_warning=False
        )
        return copy.deepcopy(frozen)

    def stop(self) -> None:
        """Make the running :meth:`optimize` call return after its current trials."""
        if not getattr(self._thread_local, "in_optimize_loop", False):
            raise RuntimeError(
                "`Study.stop` is supposed to be invoked inside an objective function or a "
                "callback."
            )
        self._stop_flag = True

    # ---- adding trials ---------------------------------------------------------------------
    def enqueue_trial(
        self,
        params: dict[str, Any],
        user_attrs: dict[str, Any] | None = None,
        skip_if_exists: bool = False,
    ) -> None:
        """Queue a trial that will be evaluated with ``params`` before new ones are sampled.

        Parameters not in ``params`` are sampled as usual.

        Args:
            params: Parameter values by name, in external form.
            user_attrs: User attributes of the queued trial.
            skip_if_exists: Do nothing when a trial with the same params already exists.
        """
        if not isinstance(params, dict):
            raise TypeError(f"enqueue_trial: params must be a dict, got {type(params).__name__}.")
        if skip_if_exists and self._params_exist(params):
            _logger.info(f"Trial with params {params} already exists. Skipping enqueue.")
            return
        self.add_trial(
            create_trial(
                state=TrialState.WAITING,
                system_attrs={"fixed_params": params},
                user_attrs=user_attrs,
            )
        )

    def add_trial(self, trial: FrozenTrial) -> None:
        """Add a finished (or WAITING) trial, e.g. one made with :func:`create_trial`."""
        trial._validate()
        if trial.values is not None and len(trial.values) != len(self._directions):
            raise ValueError(
                f"add_trial: the trial has {len(trial.values)} values but the study has "
                f"{len(self._directions)} objectives."
            )
        self._storage.create_new_trial(self._study_id, template_trial=trial)

    def add_trials(self, trials: Iterable[FrozenTrial]) -> None:
        """Add several trials; see :meth:`add_trial`."""
        for trial in trials:
            self.add_trial(trial)

    def trials_dataframe(
        self,
        attrs: tuple[str, ...] = (
            "number",
            "value",
            "datetime_start",
            "datetime_complete",
            "duration",
            "params",
            "user_attrs",
            "system_attrs",
            "state",
        ),
        multi_index: bool = False,
    ) -> pd.DataFrame:
        """Return the trials as a pandas DataFrame with Optuna's column names."""
        from skipjack.study._dataframe import trials_dataframe

        return trials_dataframe(self, attrs=attrs, multi_index=multi_index)

    # ---- internals -------------------------------------------------------------------------
    def _pop_waiting_trial_id(self) -> int | None:
        waiting = self._storage.get_all_trials(
            self._study_id, deepcopy=False, states=(TrialState.WAITING,)
        )
        for t in waiting:
            try:
                if self._storage.set_trial_state_values(t._trial_id, state=TrialState.RUNNING):
                    _logger.debug(f"Trial {t.number} popped from the trial queue.")
                    return t._trial_id
            except UpdateFinishedTrialError:
                continue
        return None

    def _params_exist(self, params: Mapping[str, Any]) -> bool:
        for t in self._storage.get_all_trials(self._study_id, deepcopy=False):
            existing = t.system_attrs.get("fixed_params", t.params)
            if existing.keys() != params.keys():
                continue
            if all(_same_value(params[k], existing[k]) for k in params):
                return True
        return False

    def _start_heartbeat(self, trial_id: int) -> None:
        if not is_heartbeat_enabled(self._storage):
            return
        beat = HeartbeatThread(trial_id, self)
        beat.__enter__()
        with self._heartbeats_lock:
            self._heartbeats[trial_id] = beat

    def _stop_heartbeat(self, trial_id: int) -> None:
        with self._heartbeats_lock:
            beat = self._heartbeats.pop(trial_id, None)
        if beat is not None:
            beat.__exit__(None, None, None)

    def _log_completed_trial(self, values: Sequence[float], number: int, params: dict) -> None:
        if not _logger.isEnabledFor(_logging.INFO):
            return
        names = self.metric_names
        if len(values) > 1:
            shown: Any = dict(zip(names, values)) if names else list(values)
            _logger.info(f"Trial {number} finished with values: {shown} and parameters: {params}.")
            return
        shown = {names[0]: values[0]} if names else values[0]
        message = f"Trial {number} finished with value: {shown} and parameters: {params}."
        try:
            best = self._get_best_trial()
            message += f" Best is trial {best.number} with value: {best.value}."
        except ValueError:
            pass
        _logger.info(message)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        if isinstance(a, bool) != isinstance(b, bool):
            return False
        fa, fb = float(a), float(b)
        return fa == fb or (fa != fa and fb != fb)
    return type(a) is type(b) and a == b


def _default_sampler(directions: Sequence[StudyDirection]) -> BaseSampler:
    # TPE for one objective and for several, as in Optuna 5.0.
    from skipjack.samplers._tpe._sampler import TPESampler

    return TPESampler()


def _default_pruner() -> BasePruner:
    from skipjack.pruners._median import MedianPruner

    return MedianPruner()



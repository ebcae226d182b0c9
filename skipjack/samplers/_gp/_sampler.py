"""GPSampler: Bayesian optimisation with a Gaussian process, on NumPy and SciPy.

Each trial after the startup ones fits a GP (Matérn-5/2 ARD, see ``_gpr``) to the completed
trials' standardised objective values, then proposes the point maximising log expected
improvement (``_acqf``), found by ``_optim``. Trials still running elsewhere enter the fit with a
pessimistic *constant liar* value (Ginsbourger et al. 2010) so parallel workers spread out;
their proposed points are shared through the trial system attribute
``skipjack:gp:relative_params`` (JSON). Constraints, from ``constraints_func`` or
``Trial.set_constraint``, get one GP each and weight the acquisition by the probability of
feasibility. Two objectives use log expected hypervolume improvement (``_ehvi``); three or more,
or several objectives with constraints, are scalarised by a random augmented Chebyshev
weighting per trial (ParEGO, Knowles 2006) where Optuna uses log EHVI.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
import contextlib
import json
from typing import TYPE_CHECKING
from typing import Any
import warnings

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.exceptions import ExperimentalWarning
from skipjack.logging import get_logger
from skipjack.samplers._base import BaseSampler
from skipjack.samplers._base import _ForwardsTrialHooks
from skipjack.samplers._base import _process_constraints_after_trial
from skipjack.samplers._base import _warn_independent_sampling
from skipjack.samplers._lazy_random_state import LazyRandomState
from skipjack.samplers._random import RandomSampler
from skipjack.search_space import IntersectionSearchSpace
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["GPSampler"]

_logger = get_logger(__name__)
_RELATIVE_PARAMS_KEY = "skipjack:gp:relative_params"


class GPSampler(_ForwardsTrialHooks, BaseSampler):
    """Sample with Gaussian-process Bayesian optimisation (log expected improvement).

    All parameters of the search space (the finished trials' common parameters) are proposed
    jointly: floats and integers as continuous coordinates (rounded onto their grid),
    categoricals compared by equality in the kernel. Parameters outside that space are drawn by
    ``independent_sampler``. The cost per trial grows with the cube of the number of completed
    trials, so the sampler suits budgets of a few hundred trials.

    Args:
        seed: Seed of the sampler's random numbers and of the default independent sampler.
        independent_sampler: Sampler for the startup trials and for parameters outside the
            search space; a :class:`~skipjack.samplers.RandomSampler` with ``seed`` when ``None``.
        n_startup_trials: Completed trials sampled by ``independent_sampler`` before the GP
            takes over.
        deterministic_objective: The objective has no noise: fix the GP's noise at a tiny
            value instead of fitting it.
        constraints_func: Deprecated (as in Optuna 5.0; use ``Trial.set_constraint``). Maps a
            finished trial to constraint values, feasible when all are at most 0.
        warn_independent_sampling: Log a warning when a parameter falls back to
            ``independent_sampler`` after the startup trials.
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        independent_sampler: BaseSampler | None = None,
        n_startup_trials: int = 10,
        deterministic_objective: bool = False,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        warn_independent_sampling: bool = True,
    ) -> None:
        if constraints_func is not None:
            warnings.warn(
                "`constraints_func` has been deprecated in v5.0.0. This feature will be removed "
                "in v7.0.0. See https://github.com/optuna/optuna/releases/tag/v5.0.0. "
                "Use `optuna.trial.Trial.set_constraint` instead.",
                FutureWarning,
                stacklevel=2,
            )
        if deterministic_objective:
            warnings.warn(
                "Argument ``deterministic_objective`` is an experimental feature. The interface "
                "can change in the future.",
                ExperimentalWarning,
                stacklevel=2,
            )
        self._seed = seed
        self._independent_sampler = independent_sampler or RandomSampler(seed=seed)
        self._n_startup_trials = n_startup_trials
        self._deterministic_objective = deterministic_objective
        self._constraints_func = constraints_func
        self._warn_independent_sampling = warn_independent_sampling
        self._rng = LazyRandomState(seed)
        self._search_space = IntersectionSearchSpace()
        # Last fitted hyperparameters per model (objective, constraint 0, ...): warm starts.
        self._theta_cache: dict[int, np.ndarray] = {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(seed={self._seed!r}, "
            f"n_startup_trials={self._n_startup_trials!r}, "
            f"deterministic_objective={self._deterministic_objective!r})"
        )

    def reseed_rng(self) -> None:
        """Reseed the sampler's and the independent sampler's generators."""
        self._rng.rng.seed()
        self._independent_sampler.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """The finished trials' common parameters with more than one possible value."""
        return {
            name: dist
            for name, dist in self._search_space.calculate(study).items()
            if not dist.single()
        }

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Propose the point of ``search_space`` that maximises the acquisition function."""
        if not search_space:
            return {}
        trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING))
        completed = [t for t in trials if t.state == TrialState.COMPLETE]
        if len(completed) < self._n_startup_trials:
            return {}
        running = []
        for t in trials:
            if t.state == TrialState.RUNNING and t._trial_id != trial._trial_id:
                params = _running_params(t)
                if all(_holds(dist, params.get(name)) for name, dist in search_space.items()):
                    running.append(params)

        from skipjack.samplers._gp._propose import propose

        with _single_threaded_blas():
            params = propose(
                search_space,
                completed,
                running,
                list(study.directions),
                self._rng.rng,
                self._theta_cache,
                self._deterministic_objective,
            )
        study._storage.set_trial_system_attr(
            trial._trial_id, _RELATIVE_PARAMS_KEY, json.dumps(params)
        )
        return params

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Draw ``param_name`` with the independent sampler, warning after the startup trials."""
        if self._warn_independent_sampling:
            # A count, not a list of every trial: this runs on every independent suggestion.
            n_complete = study._storage.get_n_trials(study._study_id, TrialState.COMPLETE)
            if n_complete >= self._n_startup_trials:
                _warn_independent_sampling(
                    _logger,
                    self,
                    self._independent_sampler,
                    trial,
                    param_name,
                    "dynamic search space is not supported by GPSampler",
                )
        return self._independent_sampler.sample_independent(
            study, trial, param_name, param_distribution
        )

    def _hook_sampler(self) -> BaseSampler:
        return self._independent_sampler

    def _finish_trial(self, study: Study, trial: FrozenTrial, state: TrialState) -> None:
        """Store ``constraints_func``'s values for the finished trial."""
        if self._constraints_func is not None:
            _process_constraints_after_trial(self._constraints_func, study, trial, state)


_BLAS_CONTROLLER: list[Any] = []


@contextlib.contextmanager
def _single_threaded_blas() -> Iterator[None]:
    """Run BLAS single-threaded, when ``threadpoolctl`` is installed.

    The GP works on matrices of a few hundred rows in many small calls; a multi-threaded BLAS
    spends more time waking threads than computing (5x slower on a loaded 2-core machine).
    """
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        yield
        return
    if not _BLAS_CONTROLLER:
        _BLAS_CONTROLLER.append(ThreadpoolController())
    with _BLAS_CONTROLLER[0].limit(limits=1, user_api="blas"):
        yield


def _running_params(trial: FrozenTrial) -> dict[str, Any]:
    """A running trial's parameters: those proposed for it, updated by those already set."""
    text = trial.system_attrs.get(_RELATIVE_PARAMS_KEY)
    params = dict(json.loads(text)) if isinstance(text, str) else {}
    params.update(trial.params)
    return params


def _holds(dist: BaseDistribution, value: Any) -> bool:
    """Whether ``value`` (external) is a valid value of ``dist``."""
    if value is None:
        return False
    try:
        return bool(dist._contains(dist.to_internal_repr(value)))
    except (ValueError, TypeError):
        return False

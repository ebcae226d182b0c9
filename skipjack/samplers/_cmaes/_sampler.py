"""CmaEsSampler: CMA-ES (Hansen 2016, "The CMA Evolution Strategy: A Tutorial") via ``cmaes``.

How a generation works across workers and processes
----------------------------------------------------
Every trial sampled by CMA-ES records the optimizer generation it belongs to (trial system
attribute ``skipjack:<variant>:generation``). When a worker finds at least ``popsize`` finished
trials of the current generation (read incrementally, see ``_history``), it tells the optimizer
the first ``popsize`` of them (by number) and stores the updated state as JSON chunks in its own
trial's system attributes (``skipjack:<variant>:optimizer:<i>``). Any worker, in any process,
rebuilds the optimizer from the finished trial holding the most advanced state (as Optuna does),
so the storage is the only thing workers share. Two workers that tell the same generation at once
compute the same update from the same trials.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING
from typing import Any
import warnings

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.exceptions import ExperimentalWarning
from skipjack.logging import get_logger
from skipjack.samplers._base import BaseSampler
from skipjack.samplers._base import _ForwardsTrialHooks
from skipjack.samplers._base import _warn_independent_sampling
from skipjack.samplers._cmaes._history import CmaHistory
from skipjack.samplers._cmaes._state import CmaClass
from skipjack.samplers._cmaes._state import decode_optimizer
from skipjack.samplers._cmaes._state import encode_optimizer
from skipjack.samplers._cmaes._state import join_chunks
from skipjack.samplers._cmaes._state import split_chunks
from skipjack.samplers._cmaes._transform import UnitTransform
from skipjack.samplers._lazy_random_state import LazyRandomState
from skipjack.samplers._random import RandomSampler
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["CmaEsSampler"]

_logger = get_logger(__name__)
_EPS = 1e-10


def _future(name: str, since: str, extra: str = "") -> None:
    warnings.warn(
        f"{name} has been deprecated in v{since}. This feature will be removed in v6.0.0. "
        f"See https://github.com/optuna/optuna/releases/tag/v{since}.{extra}",
        FutureWarning,
        stacklevel=3,
    )


def _experimental(name: str) -> None:
    warnings.warn(
        f"Argument ``{name}`` is an experimental feature. The interface can change in the future.",
        ExperimentalWarning,
        stacklevel=3,
    )


class CmaEsSampler(_ForwardsTrialHooks, BaseSampler):
    """Sample numeric parameters with the covariance matrix adaptation evolution strategy.

    The search space is the intersection of the finished trials' numeric parameters;
    categorical parameters, single-value ranges and parameters outside that space are drawn by
    ``independent_sampler``. Integer and grid parameters are searched as continuous values and
    rounded, or, with ``with_margin=True``, handled by CMA-ES with Margin. The optimizer state is
    kept in the storage as JSON (never a pickle), so workers in several processes share one
    optimizer. Single-objective studies only.

    Args:
        x0: Initial mean (external values by parameter name); the centre of the space when
            ``None``. Deprecated in Optuna 4.9, kept with its FutureWarning.
        sigma0: Initial step size in the unit cube; ``1/6`` of it when ``None``. Deprecated as
            ``x0``.
        n_startup_trials: Finished trials sampled by ``independent_sampler`` before CMA-ES
            starts.
        independent_sampler: Sampler for everything CMA-ES does not cover; a
            :class:`~skipjack.samplers.RandomSampler` with ``seed`` when ``None``.
        warn_independent_sampling: Log a warning when a parameter falls back to
            ``independent_sampler`` after the startup trials.
        seed: Seed of the optimizer's random numbers and of the default independent sampler.
        consider_pruned_trials: Use PRUNED trials too, with their last intermediate value.
        restart_strategy: Accepted for compatibility; only ``None`` behaviour exists (as in
            Optuna since 4.4), with a FutureWarning when set.
        popsize: Population size; the ``cmaes`` default ``4 + floor(3 ln d)`` when ``None``.
        inc_popsize: Accepted with ``restart_strategy``; has no effect.
        use_separable_cma: Use separable CMA-ES (diagonal covariance).
        with_margin: Use CMA-ES with Margin for integer and grid parameters.
        lr_adapt: Use learning-rate adaptation (Nomura et al. 2023), for noisy or multimodal
            problems.
        source_trials: Finished trials of a similar task to warm-start from (WS-CMA-ES).
    """

    def __init__(
        self,
        *,
        x0: dict[str, Any] | None = None,
        sigma0: float | None = None,
        n_startup_trials: int = 1,
        independent_sampler: BaseSampler | None = None,
        warn_independent_sampling: bool = True,
        seed: int | None = None,
        consider_pruned_trials: bool = False,
        restart_strategy: str | None = None,
        popsize: int | None = None,
        inc_popsize: int = -1,
        use_separable_cma: bool = False,
        with_margin: bool = False,
        lr_adapt: bool = False,
        source_trials: list[FrozenTrial] | None = None,
    ) -> None:
        if restart_strategy is not None or inc_popsize != -1:
            _future(
                "`restart_strategy`",
                "4.4.0",
                " From v4.4.0 onward, `restart_strategy` automatically falls back to `None`.",
            )
        if x0 is not None:
            _future("`x0`", "4.9.0")
        if sigma0 is not None:
            _future("`sigma0`", "4.9.0")
        for flag, name in (
            (consider_pruned_trials, "consider_pruned_trials"),
            (use_separable_cma, "use_separable_cma"),
            (source_trials is not None, "source_trials"),
            (with_margin, "with_margin"),
            (lr_adapt, "lr_adapt"),
        ):
            if flag:
                _experimental(name)
        if source_trials is not None and (x0 is not None or sigma0 is not None):
            raise ValueError(
                "It is prohibited to pass `source_trials` argument when x0 or sigma0 is specified."
            )
        if source_trials is not None and use_separable_cma:
            raise ValueError(
                "It is prohibited to pass `source_trials` argument when using separable CMA-ES."
            )
        if lr_adapt and (use_separable_cma or with_margin):
            raise ValueError(
                "It is prohibited to pass `use_separable_cma` or `with_margin` argument when "
                "using `lr_adapt`."
            )
        if use_separable_cma and with_margin:
            raise ValueError(
                "Currently, we do not support `use_separable_cma=True` and `with_margin=True`."
            )
        if popsize is not None and popsize < 2:
            raise ValueError(f"`popsize` must be at least 2, got {popsize}.")

        self._x0 = x0
        self._sigma0 = sigma0
        self._n_startup_trials = n_startup_trials
        self._independent_sampler = independent_sampler or RandomSampler(seed=seed)
        self._warn_independent_sampling = warn_independent_sampling
        self._seed = seed
        self._consider_pruned_trials = consider_pruned_trials
        self._restart_strategy = restart_strategy
        self._popsize = popsize
        self._inc_popsize = inc_popsize
        self._use_separable_cma = use_separable_cma
        self._with_margin = with_margin
        self._lr_adapt = lr_adapt
        self._source_trials = source_trials

        self._cma_rng = LazyRandomState(seed)
        variant = "sepcma" if use_separable_cma else "cmawm" if with_margin else "cma"
        self._key_generation = f"skipjack:{variant}:generation"
        self._key_optimizer = f"skipjack:{variant}:optimizer"
        self._key_x_for_tell = f"skipjack:{variant}:x_for_tell"
        self._lock = threading.Lock()
        self._cached: tuple[tuple[Any, ...], CmaClass] | None = None
        self._transform: tuple[dict[str, BaseDistribution], UnitTransform] | None = None
        self._history = CmaHistory(
            self._key_generation, f"{self._key_optimizer}:0", consider_pruned_trials
        )
        # The relative search space by the history's space version, and the trial for which
        # the history was last refreshed (sample_relative follows infer_relative_search_space).
        self._space: tuple[int, dict[str, BaseDistribution]] = (-1, {})
        self._refreshed_for: int | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_startup_trials={self._n_startup_trials!r}, "
            f"seed={self._seed!r}, popsize={self._popsize!r}, "
            f"use_separable_cma={self._use_separable_cma!r}, with_margin={self._with_margin!r}, "
            f"lr_adapt={self._lr_adapt!r})"
        )

    def reseed_rng(self) -> None:
        """Reseed the independent sampler; the optimizer is reseeded on every trial anyway."""
        self._independent_sampler.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """The finished trials' common numeric parameters with more than one value."""
        self._history.refresh(study)
        self._refreshed_for = trial._trial_id
        version, space = self._space
        if version != self._history.space_version:
            version = self._history.space_version
            space = {
                name: dist
                for name, dist in self._history.intersection().items()
                if isinstance(dist, (FloatDistribution, IntDistribution)) and not dist.single()
            }
            self._space = (version, space)
        return dict(space)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Ask the optimizer for this trial's point, first telling it a completed generation."""
        self._raise_error_if_multi_objective(study)
        if not search_space:
            return {}
        if self._refreshed_for != trial._trial_id:  # else infer_relative_search_space just did
            self._history.refresh(study)
        if self._history.n_usable < self._n_startup_trials:
            return {}

        with self._lock:
            if self._transform is None or self._transform[0] != search_space:
                trans = UnitTransform(search_space, widen_steps=not self._with_margin)
                self._transform = (dict(search_space), trans)
            return self._ask(study, trial, self._transform[1])

    def _ask(self, study: Study, trial: FrozenTrial, trans: UnitTransform) -> dict[str, Any]:
        import cmaes  # imports SciPy: not at ``import skipjack`` time

        key, optimizer = self._restore_optimizer(study)
        if optimizer is None:
            optimizer = self._init_optimizer(trans, study.direction)
        self._cached = (key, optimizer)
        if optimizer.dim != len(trans.names):
            if self._warn_independent_sampling:
                _logger.warning(
                    "`CmaEsSampler` does not support dynamic search space. "
                    f"`{type(self._independent_sampler).__name__}` is used instead of "
                    "`CmaEsSampler`."
                )
                self._warn_independent_sampling = False
            return {}

        storage = study._storage
        if self._history.count(optimizer.generation) >= optimizer.population_size:
            members = self._history.members(optimizer.generation)
            sign = 1.0 if study.direction == StudyDirection.MINIMIZE else -1.0
            solutions = []
            for t in members[: optimizer.population_size]:
                if isinstance(optimizer, cmaes.CMAwM):
                    x = np.asarray(t.system_attrs[self._key_x_for_tell], dtype=float)
                else:
                    x = trans.transform(t.params)
                solutions.append((x, sign * float(t.value)))  # type: ignore[arg-type]
            optimizer.tell(solutions)
            chunks = split_chunks(encode_optimizer(optimizer), self._key_optimizer)
            for name, chunk in chunks.items():
                storage.set_trial_system_attr(trial._trial_id, name, chunk)
            # Once this trial finishes it holds the newest state: keep the object for it.
            self._cached = ((*key[:2], trial._trial_id), optimizer)

        # A fresh seed per trial: workers restoring the same state must not ask the same point.
        optimizer._rng.seed(int(self._cma_rng.rng.randint(1, 2**16)) + trial.number)
        if isinstance(optimizer, cmaes.CMAwM):
            x, x_for_tell = optimizer.ask()
            storage.set_trial_system_attr(
                trial._trial_id, self._key_x_for_tell, x_for_tell.tolist()
            )
        else:
            x = optimizer.ask()
        storage.set_trial_system_attr(trial._trial_id, self._key_generation, optimizer.generation)
        return trans.untransform(x)

    def _restore_optimizer(self, study: Study) -> tuple[tuple[Any, ...], CmaClass | None]:
        """The most advanced optimizer state stored by a finished trial, and its cache key.

        ``ask`` changes nothing but the optimizer's random generator and its cached eigen
        decomposition, so the object last used here is reused while no newer state exists:
        no JSON decoding and no eigen decomposition per trial.
        """
        holder = self._history.state_holder()
        key = (id(study._storage), study._study_id, None if holder is None else holder[1]._trial_id)
        if holder is None:
            # Generation 0: a fresh optimizer per trial, drawing its seed as Optuna does, so a
            # seeded study starts exactly as Optuna's.
            return key, None
        if self._cached is not None and self._cached[0] == key:
            return key, self._cached[1]
        text = join_chunks(holder[1].system_attrs, self._key_optimizer)
        return key, (decode_optimizer(text) if text is not None else None)

    def _init_optimizer(self, trans: UnitTransform, direction: StudyDirection) -> CmaClass:
        import cmaes

        dim = len(trans.names)
        cov = None
        if self._source_trials is not None:
            sign = 1.0 if direction == StudyDirection.MINIMIZE else -1.0
            states = [TrialState.COMPLETE]
            if self._consider_pruned_trials:
                states.append(TrialState.PRUNED)
            names = set(trans.names)
            source = [
                (trans.transform(t.params), sign * float(t.value))  # type: ignore[arg-type]
                for t in self._source_trials
                if t.state in states and t.value is not None and set(t.distributions) == names
            ]
            if not source:
                raise ValueError("No compatible source_trials")
            mean, sigma0, cov = cmaes.get_warm_start_mgd(source)
        else:
            mean = np.full(dim, 0.5) if self._x0 is None else trans.transform(self._x0)
            sigma0 = 1.0 / 6.0 if self._sigma0 is None else self._sigma0
        sigma0 = max(float(sigma0), _EPS)
        seed = int(self._cma_rng.rng.randint(1, 2**31 - 2))
        common = {
            "mean": mean,
            "sigma": sigma0,
            "bounds": trans.bounds,
            "seed": seed,
            "n_max_resampling": 10 * dim,
            "population_size": self._popsize,
        }
        if self._use_separable_cma:
            if dim > 1:
                return cmaes.SepCMA(**common)
            warnings.warn(
                "Separable CMA-ES does not operate meaningfully on single-dimensional search "
                "spaces. The setting `use_separable_cma=True` will be ignored.",
                UserWarning,
                stacklevel=3,
            )
        if self._with_margin:
            return cmaes.CMAwM(steps=trans.unit_steps(), cov=cov, **common)
        return cmaes.CMA(cov=cov, lr_adapt=self._lr_adapt, **common)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Draw ``param_name`` with the independent sampler, warning after the startup trials."""
        self._raise_error_if_multi_objective(study)
        if self._warn_independent_sampling:
            self._history.refresh(study)
            if self._history.n_usable >= self._n_startup_trials:
                _warn_independent_sampling(
                    _logger,
                    self,
                    self._independent_sampler,
                    trial,
                    param_name,
                    (
                        "dynamic search space and `CategoricalDistribution` are not "
                        "supported by `CmaEsSampler`"
                    ),
                )
        return self._independent_sampler.sample_independent(
            study, trial, param_name, param_distribution
        )

    def _hook_sampler(self) -> BaseSampler:
        return self._independent_sampler

    def _finish_trial(self, study: Study, trial: FrozenTrial, state: TrialState) -> None:
        """Warn that constraints are ignored."""
        if trial.constraints:
            warnings.warn(
                "Constraints have been set, but CmaEsSampler will not use them for optimization.",
                UserWarning,
                stacklevel=3,  # the caller of after_trial, as before this step moved here
            )

"""QMCSampler: low-discrepancy (Sobol' or Halton) sequences over the search space.

The search space is fixed by the first finished trial (by number); every later trial takes the
next point of one shared sequence, whose position is a counter in the study's system attributes
(Optuna's key, so either library continues the other's sequence). Each coordinate in ``[0, 1)``
maps linearly onto the parameter's range: in the log domain for ``log=True``, widened by half a
step for a grid so that the end points get full cells, and onto ``[0, n_choices)`` for a
categorical, whose integer part is the choice.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from typing import TYPE_CHECKING
from typing import Any
import warnings

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.exceptions import ExperimentalWarning
from skipjack.logging import get_logger
from skipjack.samplers._base import BaseSampler
from skipjack.samplers._base import _ForwardsTrialHooks
from skipjack.samplers._base import _warn_independent_sampling
from skipjack.samplers._random import RandomSampler
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["QMCSampler"]

_logger = get_logger(__name__)
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
# SciPy's Sobol' engine initialises shared direction numbers lazily; not thread-safe.
_ENGINE_LOCK = threading.Lock()


class QMCSampler(_ForwardsTrialHooks, BaseSampler):
    """Sample the search space with a quasi-Monte Carlo sequence (``scipy.stats.qmc``).

    The first trial is sampled by ``independent_sampler`` and fixes the search space; later
    trials take successive points of the sequence for it. Parameters outside that space (a
    conditional search space) fall back to ``independent_sampler``.

    Experimental, as in Optuna: constructing it emits an
    :class:`~skipjack.exceptions.ExperimentalWarning`.

    Args:
        qmc_type: ``"sobol"`` or ``"halton"``.
        scramble: Randomize the sequence (with ``seed``).
        seed: Seed of the scrambling and of the default independent sampler. Without it a
            random seed is drawn, and workers in several processes would follow different
            sequences when ``scramble`` is on.
        independent_sampler: Sampler for parameters outside the search space; a
            :class:`~skipjack.samplers.RandomSampler` with ``seed`` when ``None``.
        warn_asynchronous_seeding: Log a warning when ``scramble`` is on and no seed is given.
        warn_independent_sampling: Log a warning when a parameter falls back to the
            independent sampler after the first trial.

    Example:
        >>> import skipjack as optuna
        >>> sampler = optuna.samplers.QMCSampler(qmc_type="halton", seed=0)
        >>> study = optuna.create_study(sampler=sampler)
        >>> study.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=8)
    """

    def __init__(
        self,
        *,
        qmc_type: str = "sobol",
        scramble: bool = False,
        seed: int | None = None,
        independent_sampler: BaseSampler | None = None,
        warn_asynchronous_seeding: bool = True,
        warn_independent_sampling: bool = True,
    ) -> None:
        warnings.warn(
            "QMCSampler is experimental (supported from v3.0.0). "
            "The interface can change in the future.",
            ExperimentalWarning,
            stacklevel=2,
        )
        if qmc_type not in ("halton", "sobol"):
            raise ValueError(f"The `{qmc_type=}` is invalid. Choose either `halton` or `sobol`.")
        self._qmc_type = qmc_type
        self._scramble = scramble
        self._seed = (
            int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0])
            if seed is None
            else seed
        )
        self._independent_sampler = independent_sampler or RandomSampler(seed=seed)
        self._warn_independent_sampling = warn_independent_sampling
        if seed is None and scramble and warn_asynchronous_seeding:
            _logger.warning(
                "No seed is provided for `QMCSampler` and the seed is set randomly. If you are "
                "running multiple `QMCSampler`s in parallel and/or distributed environment, the "
                "same seed must be used in all samplers to ensure that resulting samples are "
                "taken from the same QMC sequence."
            )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(qmc_type={self._qmc_type!r}, scramble={self._scramble!r}, "
            f"seed={self._seed!r})"
        )

    def reseed_rng(self) -> None:
        """Reseed the independent sampler (the sequence itself is deterministic)."""
        self._independent_sampler.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """The distributions of the first finished trial; before any trial has finished, the
        union of the RUNNING trials' distributions."""
        finished = study.get_trials(deepcopy=False, states=_FINISHED)
        if finished:
            return dict(finished[0].distributions)  # trials come in number order
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        union: dict[str, BaseDistribution] = {}
        common: set[str] | None = None
        for other in running:
            union.update(other.distributions)
            if common is None:
                common = set(other.distributions)
            elif other.distributions:
                common &= set(other.distributions)
        if common is not None and common != set(union):
            _logger.warning(
                "`QMCSampler` assumes that the search space does not include any conditions. "
                "Please make sure the provided search space is non-conditional."
            )
        return union

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Map the next point of the sequence onto ``search_space``."""
        if not search_space:
            return {}
        point = self._next_point(study, search_space)
        return {name: _from_unit(u, dist) for u, (name, dist) in zip(point, search_space.items())}

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Delegate to the independent sampler (warning after the first trial)."""
        if self._warn_independent_sampling and _any_finished(study):
            _warn_independent_sampling(
                _logger,
                self,
                self._independent_sampler,
                trial,
                param_name,
                "dynamic search space is not supported by `QMCSampler`",
            )
        return self._independent_sampler.sample_independent(
            study, trial, param_name, param_distribution
        )

    def _hook_sampler(self) -> BaseSampler:
        return self._independent_sampler

    def _next_point(self, study: Study, search_space: dict[str, BaseDistribution]) -> np.ndarray:
        from scipy.stats import qmc

        index = self._claim_index(study, search_space)
        with _ENGINE_LOCK:
            if self._qmc_type == "sobol":
                engine: Any = qmc.Sobol(len(search_space), scramble=self._scramble, seed=self._seed)
            else:
                engine = qmc.Halton(len(search_space), scramble=self._scramble, seed=self._seed)
        if index > 0:
            engine.fast_forward(index)
        return engine.random(1)[0]

    def _claim_index(self, study: Study, search_space: dict[str, BaseDistribution]) -> int:
        """Take the next position of this sequence from the study's counter (Optuna's key)."""
        described = {name: str(dist) for name, dist in sorted(search_space.items())}
        key_fields: dict[str, Any] = {"qmc_type": self._qmc_type, "search_space": described}
        if self._scramble:
            key_fields.update(scramble=True, seed=self._seed)
        else:
            key_fields.update(scramble=False)
        key = "qmc:" + hashlib.sha256(json.dumps(key_fields).encode()).hexdigest()
        index = study._storage.get_study_system_attrs(study._study_id).get(key, -1) + 1
        study._storage.set_study_system_attr(study._study_id, key, index)
        return int(index)


def _from_unit(u: float, dist: BaseDistribution) -> Any:
    """Map ``u`` in [0, 1) onto ``dist`` (external value)."""
    if isinstance(dist, CategoricalDistribution):
        index = min(int(u * len(dist.choices)), len(dist.choices) - 1)
        return dist.to_external_repr(index)
    if isinstance(dist, IntDistribution):
        if dist.log:
            lo, hi = math.log(dist.low - 0.5), math.log(dist.high + 0.5)
            value = round(math.exp(lo + u * (hi - lo)))
        else:
            lo, hi = dist.low - 0.5 * dist.step, dist.high + 0.5 * dist.step
            value = math.floor((lo + u * (hi - lo) - dist.low) / dist.step + 0.5)
            value = value * dist.step + dist.low
        return int(min(max(value, dist.low), dist.high))
    if isinstance(dist, FloatDistribution):
        if dist.single():
            return dist.low
        below_high = math.nextafter(dist.high, -math.inf)
        if dist.log:
            lo, hi = math.log(dist.low), math.log(dist.high)
            return min(max(math.exp(lo + u * (hi - lo)), dist.low), below_high)
        if dist.step is not None:
            lo, hi = dist.low - 0.5 * dist.step, dist.high + 0.5 * dist.step
            k = round((lo + u * (hi - lo) - dist.low) / dist.step)
            return float(min(max(k * dist.step + dist.low, dist.low), dist.high))
        return min(dist.low + u * (dist.high - dist.low), below_high)
    raise TypeError(f"QMCSampler cannot sample {dist!r}.")


def _any_finished(study: Study) -> bool:
    """Whether the study has a finished trial (counted, not listed: runs on every suggestion)."""
    return study._storage.get_n_trials(study._study_id, _FINISHED) > 0

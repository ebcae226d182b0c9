"""A sampler wrapper that pins some parameters to given values."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any
import warnings

from skipjack.exceptions import ExperimentalWarning
from skipjack.samplers._base import BaseSampler
from skipjack.samplers._base import _ForwardsTrialHooks

if TYPE_CHECKING:
    from skipjack.distributions import BaseDistribution
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["PartialFixedSampler"]


class PartialFixedSampler(_ForwardsTrialHooks, BaseSampler):
    """Return fixed values for some parameters and let another sampler choose the rest.

    A typical use is to freeze the best value of one parameter found so far and keep tuning the
    others with the same sampler::

        fixed = {"y": study.best_params["y"]}
        study.sampler = optuna.samplers.PartialFixedSampler(fixed, study.sampler)
        study.optimize(objective, n_trials=10)

    Fixed parameters are removed from the base sampler's relative search space. A fixed value
    outside the distribution the objective asks for is still returned, with a warning.

    Args:
        fixed_params: Parameter values by name, in the form the objective receives.
        base_sampler: The sampler that chooses every parameter not in ``fixed_params``.

    Like Optuna's, this class is experimental: constructing it emits an
    :class:`~skipjack.exceptions.ExperimentalWarning`.
    """

    def __init__(self, fixed_params: dict[str, Any], base_sampler: BaseSampler) -> None:
        warnings.warn(
            "PartialFixedSampler is experimental (supported from v2.4.0). "
            "The interface can change in the future.",
            ExperimentalWarning,
            stacklevel=2,
        )
        self._fixed_params = fixed_params
        self._base_sampler = base_sampler

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(fixed_params={self._fixed_params!r}, "
            f"base_sampler={self._base_sampler!r})"
        )

    def reseed_rng(self) -> None:
        """Reseed the base sampler."""
        self._base_sampler.reseed_rng()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """Return the base sampler's relative search space without the fixed parameters."""
        space = self._base_sampler.infer_relative_search_space(study, trial)
        return {name: d for name, d in space.items() if name not in self._fixed_params}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Delegate to the base sampler (the space holds no fixed parameter)."""
        return self._base_sampler.sample_relative(study, trial, search_space)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Return the fixed value of ``param_name``, or delegate to the base sampler."""
        if param_name not in self._fixed_params:
            return self._base_sampler.sample_independent(
                study, trial, param_name, param_distribution
            )
        value = self._fixed_params[param_name]
        internal = param_distribution.to_internal_repr(value)
        if not param_distribution._contains(internal):
            warnings.warn(
                f"Fixed parameter '{param_name}' with value {value} is out of range "
                f"for distribution {param_distribution}.",
                UserWarning,
                stacklevel=2,
            )
        return value

    def _hook_sampler(self) -> BaseSampler:
        return self._base_sampler

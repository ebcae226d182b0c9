"""The sampler contract: how a study asks for parameter values.

A sampler chooses parameter values in two ways. *Relative* sampling picks several parameters at
once, so an algorithm can exploit how they interact; the parameters it covers are the *relative
search space*, fixed at the start of each trial. *Independent* sampling picks one parameter at a
time, for every parameter outside that space (for instance one that was never seen before).

Per trial the study calls, in this order: :meth:`BaseSampler.before_trial`,
:meth:`BaseSampler.infer_relative_search_space`, then :meth:`BaseSampler.sample_relative` once
(when the objective first suggests a parameter of the relative space),
:meth:`BaseSampler.sample_independent` for each other parameter, and finally
:meth:`BaseSampler.after_trial` just before the result is stored.

The framework only ever calls these methods, so any object providing them works as a sampler;
subclassing :class:`BaseSampler` is the convenient way to get the optional ones for free.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from collections.abc import Sequence
import logging
import math
from typing import TYPE_CHECKING
from typing import Any
import warnings

from skipjack.trial._constraints import CONSTRAINTS_KEY
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.distributions import BaseDistribution
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["BaseSampler"]

# Shared by samplers that fall back to an independent sampler for some parameters. The
# placeholders are the contract: param_name, trial_number, independent_sampler_name,
# sampler_name and fallback_reason.
_INDEPENDENT_SAMPLING_WARNING_TEMPLATE = (
    "The parameter `{param_name}` in Trial#{trial_number} is sampled independently "
    "by `{independent_sampler_name}` instead of `{sampler_name}`, which may make the "
    "optimization less effective. The fallback happened because {fallback_reason}. "
    "Pass `warn_independent_sampling=False` to `{sampler_name}` to silence this warning "
    "when independent sampling is what you want."
)


def _warn_independent_sampling(
    logger: logging.Logger,
    sampler: object,
    independent_sampler: object,
    trial: FrozenTrial,
    param_name: str,
    fallback_reason: str,
) -> None:
    """Log that ``param_name`` fell back to ``independent_sampler``, in Optuna's wording."""
    logger.warning(
        _INDEPENDENT_SAMPLING_WARNING_TEMPLATE.format(
            param_name=param_name,
            trial_number=trial.number,
            independent_sampler_name=type(independent_sampler).__name__,
            sampler_name=type(sampler).__name__,
            fallback_reason=fallback_reason,
        )
    )


class BaseSampler(abc.ABC):
    """Abstract base class of samplers.

    Subclasses implement :meth:`infer_relative_search_space`, :meth:`sample_relative` and
    :meth:`sample_independent`; :meth:`before_trial`, :meth:`after_trial` and
    :meth:`reseed_rng` do nothing unless overridden. ``str(sampler)`` is the class name.
    """

    def __str__(self) -> str:
        return type(self).__name__

    @abc.abstractmethod
    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """Return the parameters (name to distribution) to sample jointly in ``trial``.

        Called once per trial, after :meth:`before_trial`. Parameters not in the returned
        dictionary are later sampled by :meth:`sample_independent`. ``trial`` belongs to the
        caller: copy it before changing it.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Return values (in external form) for the parameters of ``search_space``.

        ``search_space`` is what :meth:`infer_relative_search_space` returned for this trial.
        Parameters left out of the result are sampled independently instead. Built-in samplers
        ignore FAIL trials when they learn from the history.
        """
        raise NotImplementedError

    @abc.abstractmethod
    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Return one value (in external form) of ``param_name`` drawn from
        ``param_distribution``, for a parameter outside the relative search space."""
        raise NotImplementedError

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:  # noqa: B027
        """Hook run when ``trial`` starts, before :meth:`infer_relative_search_space`.

        Does nothing by default.
        """

    def after_trial(  # noqa: B027
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """Hook run when the objective has finished, just before the outcome is stored.

        ``state`` is the state the trial is about to get and ``values`` its objective values
        (never ``None`` for a COMPLETE trial). Does nothing by default.
        """

    def reseed_rng(self) -> None:  # noqa: B027
        """Give the sampler's random generator a fresh seed from the operating system.

        The study calls it in each worker thread when ``n_jobs > 1`` so that copies of one
        sampler do not propose the same values. Does nothing by default.
        """

    def _raise_error_if_multi_objective(self, study: Study) -> None:
        """Raise ValueError when ``study`` has more than one objective."""
        if len(study.directions) > 1:
            raise ValueError(
                f"{type(self).__name__} supports single-objective studies only, but the study "
                f"has {len(study.directions)} objectives."
            )


def _process_constraints_after_trial(
    constraints_func: Callable[[FrozenTrial], Sequence[float]],
    study: Study,
    trial: FrozenTrial,
    state: TrialState,
) -> None:
    """Evaluate ``constraints_func`` on a COMPLETE or PRUNED trial and store the result.

    The values go under the system attribute Optuna uses for them (a list, Optuna's format),
    so constraint-aware samplers of either library read them. If the function raises or
    returns NaN, ``None`` is stored and the error propagates.
    """
    if state not in (TrialState.COMPLETE, TrialState.PRUNED):
        return
    constraints: tuple[float, ...] | None = None
    try:
        raw = constraints_func(trial)
        if any(math.isnan(float(c)) for c in raw):
            raise ValueError("Constraint values cannot be NaN.")
        if not isinstance(raw, (tuple, list)):
            warnings.warn(
                f"Constraints should be a sequence of floats but got {type(raw).__name__}.",
                UserWarning,
                stacklevel=2,
            )
        constraints = tuple(raw)
    finally:
        study._storage.set_trial_system_attr(trial._trial_id, CONSTRAINTS_KEY, constraints)


class _IndependentOnly:
    """Mixin for samplers that draw every parameter independently: no relative search space."""

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """Return ``{}``: every parameter is sampled independently."""
        return {}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Return ``{}``: there is no relative search space."""
        return {}


class _ForwardsTrialHooks:
    """Mixin for samplers that leave some parameters to another sampler (their independent or
    start-up sampler): ``before_trial`` and ``after_trial`` are forwarded to it, ``after_trial``
    after this sampler's own :meth:`_finish_trial` step."""

    def _hook_sampler(self) -> BaseSampler:
        """The sampler the hooks are forwarded to."""
        raise NotImplementedError

    def _finish_trial(self, study: Study, trial: FrozenTrial, state: TrialState) -> None:
        """This sampler's own work when a trial finishes (none by default)."""

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        """Forward to the sampler that draws the independent parameters."""
        self._hook_sampler().before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """Run this sampler's own finishing step, then forward to the independent sampler."""
        self._finish_trial(study, trial, state)
        self._hook_sampler().after_trial(study, trial, state, values)

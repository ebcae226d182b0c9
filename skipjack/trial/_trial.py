"""Trial: the live object an objective function receives from ``Study.optimize`` or ``ask``."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import copy
import datetime
from typing import TYPE_CHECKING
from typing import Any
import warnings

from skipjack import distributions as _dists
from skipjack import logging as _logging
from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalChoiceType
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.trial._base import BaseTrial
from skipjack.trial._constraints import constraints_from_system_attrs
from skipjack.trial._constraints import new_constraint_attr
from skipjack.trial._frozen import FrozenTrial

if TYPE_CHECKING:
    from skipjack.study.study import Study

__all__ = ["Trial"]

_logger = _logging.get_logger(__name__)


def _make_distribution(
    method: str, name: str, factory: Callable[..., BaseDistribution], **kwargs: Any
) -> BaseDistribution:
    """Build a distribution, naming the parameter in any error about its arguments."""
    if not isinstance(name, str):
        raise TypeError(f"{method}: the parameter name must be a str, got {name!r}.")
    try:
        return factory(**kwargs)
    except (ValueError, TypeError) as e:
        raise type(e)(f"{method}({name!r}): {e}") from None


# Validated distributions by their exact arguments, with their ``single()`` answer. An
# objective asks for the same handful of distributions in every trial; building and validating
# them again is most of a suggest call's cost. Keys hold only plain ints/floats/bools/strs (so
# True is never confused with 1) and the cache is cleared when it grows past a bound.
_CACHE_LIMIT = 4096
_dist_cache: dict[tuple[Any, ...], tuple[BaseDistribution, bool]] = {}
_FLOAT_BOUND_TYPES = (int, float)


def _cache_put(key: tuple[Any, ...], dist: BaseDistribution) -> tuple[BaseDistribution, bool]:
    if len(_dist_cache) >= _CACHE_LIMIT:
        _dist_cache.clear()
    entry = (dist, dist.single())
    _dist_cache[key] = entry
    return entry


def _float_distribution(
    method: str, name: str, low: Any, high: Any, step: Any, log: Any
) -> tuple[BaseDistribution, bool]:
    cacheable = (
        type(low) in _FLOAT_BOUND_TYPES
        and type(high) in _FLOAT_BOUND_TYPES
        and (step is None or type(step) in _FLOAT_BOUND_TYPES)
        and type(log) is bool
    )
    if not cacheable:
        dist = _make_distribution(
            method, name, FloatDistribution, low=low, high=high, log=log, step=step
        )
        return dist, dist.single()
    key = ("f", low, high, step, log)
    entry = _dist_cache.get(key)
    if entry is None:
        dist = _make_distribution(
            method, name, FloatDistribution, low=low, high=high, log=log, step=step
        )
        entry = _cache_put(key, dist)
    return entry


def _int_distribution(
    name: str, low: Any, high: Any, step: Any, log: Any
) -> tuple[BaseDistribution, bool]:
    cacheable = type(low) is int and type(high) is int and type(step) is int and type(log) is bool
    if not cacheable:
        dist = _make_distribution(
            "suggest_int", name, IntDistribution, low=low, high=high, log=log, step=step
        )
        return dist, dist.single()
    key = ("i", low, high, step, log)
    entry = _dist_cache.get(key)
    if entry is None:
        dist = _make_distribution(
            "suggest_int", name, IntDistribution, low=low, high=high, log=log, step=step
        )
        entry = _cache_put(key, dist)
    return entry


def _categorical_distribution(name: str, choices: Any) -> tuple[BaseDistribution, bool]:
    key: tuple[Any, ...]
    try:
        values = tuple(choices)
        key = ("c", values, tuple(map(type, values)))
        entry = _dist_cache.get(key)
    except TypeError:  # unhashable choices: let the constructor explain
        key, entry = (), None
    if entry is None:
        dist = _make_distribution(
            "suggest_categorical", name, CategoricalDistribution, choices=choices
        )
        if not key:
            return dist, dist.single()
        entry = _cache_put(key, dist)
    return entry


class Trial(BaseTrial):
    """A trial being evaluated: suggests parameters, records reports, asks the pruner.

    Created by :meth:`Study.ask` (and so by :meth:`Study.optimize`); do not construct it directly.

    Args:
        study: The study the trial belongs to.
        trial_id: The storage id of the trial.
    """

    def __init__(self, study: Study, trial_id: int) -> None:
        self.study = study
        self._trial_id = trial_id
        self.storage = study._storage
        # A private copy: suggestions update it in place while the storage keeps its own.
        self._cached_frozen_trial: FrozenTrial = _private_copy(self.storage.get_trial(trial_id))
        self._fixed_params: dict[str, Any] = self._cached_frozen_trial.system_attrs.get(
            "fixed_params", {}
        )
        self._relative_params: dict[str, Any] | None = None
        sampler = study.sampler
        sampler_study = _sampler_study(study, self._cached_frozen_trial)
        sampler.before_trial(sampler_study, self._cached_frozen_trial)
        self.relative_search_space: dict[str, BaseDistribution] = (
            sampler.infer_relative_search_space(sampler_study, self._cached_frozen_trial)
        )

    # ---- suggest API ---------------------------------------------------------------------
    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """Suggest a float in ``[low, high]``.

        Args:
            name: The parameter's name; suggesting it again in this trial returns the same value.
            low: Lower bound, included.
            high: Upper bound, included.
            step: Grid spacing; values are ``low + k * step``. Not combinable with ``log``.
            log: Sample on a log scale (``low`` must be > 0).
        """
        dist, single = _float_distribution("suggest_float", name, low, high, step, log)
        return float(self._suggest(name, dist, single))

    def suggest_uniform(self, name: str, low: float, high: float) -> float:
        """Deprecated: use ``suggest_float(name, low, high)``."""
        _deprecated("suggest_uniform", "suggest_float(name, low, high)")
        return self.suggest_float(name, low, high)

    def suggest_loguniform(self, name: str, low: float, high: float) -> float:
        """Deprecated: use ``suggest_float(name, low, high, log=True)``."""
        _deprecated("suggest_loguniform", "suggest_float(name, low, high, log=True)")
        return self.suggest_float(name, low, high, log=True)

    def suggest_discrete_uniform(self, name: str, low: float, high: float, q: float) -> float:
        """Deprecated: use ``suggest_float(name, low, high, step=q)``."""
        _deprecated("suggest_discrete_uniform", "suggest_float(name, low, high, step=q)")
        return self.suggest_float(name, low, high, step=q)

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        """Suggest an integer in ``[low, high]`` on the grid ``low + k * step``, or on a log
        scale with ``log=True`` (then ``step`` must be 1)."""
        dist, single = _int_distribution(name, low, high, step, log)
        return int(self._suggest(name, dist, single))

    def suggest_categorical(  # type: ignore[override]
        self, name: str, choices: Sequence[CategoricalChoiceType]
    ) -> CategoricalChoiceType:
        """Suggest one of ``choices`` (a sequence of None, bool, int, float or str)."""
        dist, single = _categorical_distribution(name, choices)
        return self._suggest(name, dist, single)

    def _suggest(
        self, name: str, distribution: BaseDistribution, single: bool | None = None
    ) -> Any:
        cached = self._cached_frozen_trial
        if name in cached.distributions:
            _dists.check_distribution_compatibility(cached.distributions[name], distribution)
            return cached.params[name]
        if name in self._fixed_params:
            value = self._fixed_params[name]
            internal = distribution.to_internal_repr(value)
            if not distribution._contains(internal):
                warnings.warn(
                    f"Fixed parameter {name!r} with value {value!r} is out of range for "
                    f"distribution {distribution}.",
                    UserWarning,
                    stacklevel=3,
                )
        elif single if single is not None else distribution.single():
            value = distribution.to_external_repr(_single_internal_value(distribution))
        elif self._is_relative_param(name, distribution):
            value = self.relative_params[name]
        else:
            study = _sampler_study(self.study, cached)
            value = self.study.sampler.sample_independent(study, cached, name, distribution)
        internal = distribution.to_internal_repr(value)
        self.storage.set_trial_param(self._trial_id, name, internal, distribution)
        value = distribution.to_external_repr(internal)
        cached.distributions[name] = distribution
        cached.params[name] = value
        return value

    def _is_relative_param(self, name: str, distribution: BaseDistribution) -> bool:
        if name not in self.relative_search_space:
            return False
        if name not in self.relative_params:
            return False
        expected = self.relative_search_space[name]
        _dists.check_distribution_compatibility(expected, distribution)
        internal = distribution.to_internal_repr(self.relative_params[name])
        return distribution._contains(internal)

    @property
    def relative_params(self) -> dict[str, Any]:
        """Parameters the sampler chose jointly for this trial (sampled on first use)."""
        if self._relative_params is None:
            if self.relative_search_space:
                self._relative_params = self.study.sampler.sample_relative(
                    _sampler_study(self.study, self._cached_frozen_trial),
                    self._cached_frozen_trial,
                    self.relative_search_space,
                )
            else:
                self._relative_params = {}
        return self._relative_params

    # ---- reporting and pruning -----------------------------------------------------------
    def report(self, value: float, step: int) -> None:
        """Report an intermediate objective value at ``step`` (a non-negative int).

        A step reported twice keeps its first value (with a warning). Not available in
        multi-objective studies.
        """
        if len(self.study.directions) > 1:
            raise NotImplementedError(
                "Trial.report is not supported for multi-objective optimization; "
                "intermediate values and pruning work in single-objective studies only."
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"report: value must be a float, got {value!r} ({type(value).__name__})."
            ) from None
        if isinstance(step, bool) or not isinstance(step, int):
            try:
                as_int = int(step)
            except (TypeError, ValueError):
                raise TypeError(f"report: step must be an int, got {step!r}.") from None
            if as_int != step:
                raise TypeError(f"report: step must be an int, got {step!r}.")
            step = as_int
        if step < 0:
            raise ValueError(f"report: step must be >= 0, got {step}.")
        if step in self._cached_frozen_trial.intermediate_values:
            warnings.warn(
                f"The reported value is ignored because step {step} is already reported.",
                UserWarning,
                stacklevel=2,
            )
            return
        self.storage.set_trial_intermediate_value(self._trial_id, step, number)
        self._cached_frozen_trial.intermediate_values[step] = number

    def should_prune(self) -> bool:
        """Ask the study's pruner whether to stop this trial now (after ``report``)."""
        if len(self.study.directions) > 1:
            raise NotImplementedError(
                "Trial.should_prune is not supported for multi-objective optimization; "
                "pruning works in single-objective studies only."
            )
        return bool(self.study.pruner.prune(self.study, _private_copy(self._cached_frozen_trial)))

    # ---- attributes ----------------------------------------------------------------------
    def set_user_attr(self, key: str, value: Any) -> None:
        """Store a JSON-serializable ``value`` under ``key`` with the trial."""
        self.storage.set_trial_user_attr(self._trial_id, key, value)
        self._cached_frozen_trial.user_attrs[key] = value

    def set_system_attr(self, key: str, value: Any) -> None:
        """Deprecated: system attributes are for skipjack's own bookkeeping."""
        _deprecated("set_system_attr", "set_user_attr")
        self._set_system_attr(key, value)

    def _set_system_attr(self, key: str, value: Any) -> None:
        self.storage.set_trial_system_attr(self._trial_id, key, value)
        self._cached_frozen_trial.system_attrs[key] = value

    def set_constraint(self, key: str, value: float) -> None:
        """Record a constraint value; the trial is feasible when every one is zero or less.

        A second value for the same ``key`` is ignored with a warning.
        """
        new = new_constraint_attr(self._cached_frozen_trial.system_attrs, key, value)
        if new is not None:
            self._set_system_attr(*new)

    @property
    def params(self) -> dict[str, Any]:
        """The parameters suggested so far (a copy)."""
        return dict(self._cached_frozen_trial.params)

    @property
    def distributions(self) -> dict[str, BaseDistribution]:
        """The distributions of the parameters suggested so far (a copy)."""
        return dict(self._cached_frozen_trial.distributions)

    @property
    def user_attrs(self) -> dict[str, Any]:
        """The user attributes (a copy)."""
        return copy.deepcopy(self._cached_frozen_trial.user_attrs)

    @property
    def system_attrs(self) -> dict[str, Any]:
        """The system attributes (a copy)."""
        return copy.deepcopy(self._cached_frozen_trial.system_attrs)

    @property
    def datetime_start(self) -> datetime.datetime | None:
        """When the trial started."""
        return self._cached_frozen_trial.datetime_start

    @property
    def number(self) -> int:
        """The trial's number within its study."""
        return self._cached_frozen_trial.number

    @property
    def constraints(self) -> dict[str, float]:
        """The constraint values set so far."""
        return constraints_from_system_attrs(self._cached_frozen_trial.system_attrs)


_filter_study: Callable[[Study, FrozenTrial], Study] | None = None


def _sampler_study(study: Study, trial: FrozenTrial) -> Study:
    """The study samplers see for ``trial``: only its bracket under a HyperbandPruner."""
    global _filter_study
    if _filter_study is None:  # imported on first use: the pruners package imports this module
        from skipjack.pruners._filter import _filter_study as filter_study

        _filter_study = filter_study
    return _filter_study(study, trial)


def _private_copy(trial: FrozenTrial) -> FrozenTrial:
    """A copy whose containers can be updated without touching the storage's snapshot."""
    new = copy.copy(trial)
    new._params = dict(trial._params)
    new._distributions = dict(trial._distributions)
    new.intermediate_values = dict(trial.intermediate_values)
    new._user_attrs = dict(trial._user_attrs)
    new._system_attrs = dict(trial._system_attrs)
    return new


def _single_internal_value(distribution: BaseDistribution) -> float:
    if isinstance(distribution, (FloatDistribution, IntDistribution)):
        return float(distribution.low)
    return 0.0


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"Trial.{old} is deprecated (since Optuna 3.0); use Trial.{new} instead.",
        FutureWarning,
        stacklevel=3,
    )



"""FixedTrial: a trial whose parameters are given up front, for testing objective functions."""

from __future__ import annotations

from collections.abc import Sequence
import datetime
from typing import Any
import warnings

from skipjack import distributions as _dists
from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalChoiceType
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.trial._base import BaseTrial
from skipjack.trial._constraints import constraints_from_system_attrs
from skipjack.trial._constraints import new_constraint_attr
from skipjack.trial._trial import _make_distribution

__all__ = ["FixedTrial"]


class FixedTrial(BaseTrial):
    """A trial that answers every ``suggest_*`` call from a fixed dictionary.

    Use it to unit-test an objective: ``objective(FixedTrial({"x": 1.0, "y": 0}))``. Asking for a
    parameter missing from ``params`` raises ValueError; a value outside the requested range
    is returned with a warning.

    Args:
        params: Parameter values by name, in external form.
        number: The trial number the objective sees.
    """

    def __init__(self, params: dict[str, Any], number: int = 0) -> None:
        self._params = params
        self._suggested_params: dict[str, Any] = {}
        self._distributions: dict[str, BaseDistribution] = {}
        self._user_attrs: dict[str, Any] = {}
        self._system_attrs: dict[str, Any] = {}
        self._datetime_start = datetime.datetime.now()
        self._number = number

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """Return ``params[name]`` as a float."""
        dist = _make_distribution(
            "suggest_float", name, FloatDistribution, low=low, high=high, log=log, step=step
        )
        return float(self._suggest(name, dist))

    def suggest_uniform(self, name: str, low: float, high: float) -> float:
        """Deprecated form of ``suggest_float(name, low, high)``."""
        return self.suggest_float(name, low, high)

    def suggest_loguniform(self, name: str, low: float, high: float) -> float:
        """Deprecated form of ``suggest_float(name, low, high, log=True)``."""
        return self.suggest_float(name, low, high, log=True)

    def suggest_discrete_uniform(self, name: str, low: float, high: float, q: float) -> float:
        """Deprecated form of ``suggest_float(name, low, high, step=q)``."""
        return self.suggest_float(name, low, high, step=q)

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        """Return ``params[name]`` as an int."""
        dist = _make_distribution(
            "suggest_int", name, IntDistribution, low=low, high=high, log=log, step=step
        )
        return int(self._suggest(name, dist))

    def suggest_categorical(  # type: ignore[override]
        self, name: str, choices: Sequence[CategoricalChoiceType]
    ) -> CategoricalChoiceType:
        """Return ``params[name]``, which should be one of ``choices``."""
        dist = _make_distribution(
            "suggest_categorical", name, CategoricalDistribution, choices=choices
        )
        return self._suggest(name, dist)

    def _suggest(self, name: str, distribution: BaseDistribution) -> Any:
        if name not in self._params:
            raise ValueError(
                f"The value of the parameter {name!r} is not found. Please set it at the "
                f"construction of the FixedTrial object (given: {sorted(self._params)})."
            )
        value = self._params[name]
        try:
            contained = distribution._contains(distribution.to_internal_repr(value))
        except (ValueError, TypeError):
            contained = False
        if not contained:
            warnings.warn(
                f"The value {value!r} of the parameter {name!r} is out of the range of the "
                f"distribution {distribution}.",
                UserWarning,
                stacklevel=3,
            )
        if name in self._distributions:
            _dists.check_distribution_compatibility(self._distributions[name], distribution)
        self._suggested_params[name] = value
        self._distributions[name] = distribution
        return value

    def report(self, value: float, step: int) -> None:
        """Does nothing: a fixed trial has no study to report to."""

    def should_prune(self) -> bool:
        """Always ``False``."""
        return False

    def set_user_attr(self, key: str, value: Any) -> None:
        """Store a user attribute on this object."""
        self._user_attrs[key] = value

    def set_system_attr(self, key: str, value: Any) -> None:
        """Store a system attribute on this object (deprecated in Optuna)."""
        self._system_attrs[key] = value

    def set_constraint(self, key: str, value: float) -> None:
        """Record a constraint value; a second value for ``key`` is ignored with a warning."""
        new = new_constraint_attr(self._system_attrs, key, value)
        if new is not None:
            self._system_attrs[new[0]] = new[1]

    @property
    def params(self) -> dict[str, Any]:
        """The parameters suggested so far."""
        return self._suggested_params

    @property
    def distributions(self) -> dict[str, BaseDistribution]:
        """The distributions of the parameters suggested so far."""
        return self._distributions

    @property
    def user_attrs(self) -> dict[str, Any]:
        """The user attributes set so far."""
        return self._user_attrs

    @property
    def system_attrs(self) -> dict[str, Any]:
        """The system attributes set so far."""
        return self._system_attrs

    @property
    def datetime_start(self) -> datetime.datetime | None:
        """When this object was created."""
        return self._datetime_start

    @property
    def number(self) -> int:
        """The number given at construction."""
        return self._number

    @property
    def constraints(self) -> dict[str, float]:
        """The constraint values set so far."""
        return constraints_from_system_attrs(self._system_attrs)

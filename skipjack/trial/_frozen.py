"""FrozenTrial: a snapshot of one trial's state, parameters, values and attributes."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
import copy
import datetime
import math
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
from skipjack.trial._state import TrialState

__all__ = ["FrozenTrial", "create_trial"]

_FIELDS = (
    "_number",
    "state",
    "_values",
    "_datetime_start",
    "datetime_complete",
    "_params",
    "_distributions",
    "_user_attrs",
    "_system_attrs",
    "intermediate_values",
    "_trial_id",
)


class FrozenTrial(BaseTrial):
    """A trial's recorded state: what ``study.trials`` and callbacks receive.

    It also implements the suggest API, returning the recorded parameter values, so an objective
    can be re-evaluated on a finished trial (e.g. ``objective(study.best_trial)``).

    Args:
        number: The trial's number within its study (0-based).
        state: A :class:`TrialState`.
        value: The objective value of a single-objective trial; give ``value`` or ``values``.
        datetime_start: When the trial started, ``None`` while WAITING.
        datetime_complete: When it finished, ``None`` while unfinished.
        params: Parameter values by name, in external form.
        distributions: The distribution of each parameter.
        user_attrs: User attributes.
        system_attrs: System attributes (constraints, retry bookkeeping, sampler state).
        intermediate_values: Reported values by step.
        trial_id: The storage-wide id.
        values: The objective values, one per objective.
    """

    def __init__(
        self,
        number: int,
        state: TrialState,
        value: float | None,
        datetime_start: datetime.datetime | None,
        datetime_complete: datetime.datetime | None,
        params: dict[str, Any],
        distributions: dict[str, BaseDistribution],
        user_attrs: dict[str, Any],
        system_attrs: dict[str, Any],
        intermediate_values: dict[int, float],
        trial_id: int,
        *,
        values: Sequence[float] | None = None,
    ) -> None:
        if value is not None and values is not None:
            raise ValueError("Specify only one of `value` and `values`, not both.")
        self._number = number
        self.state = state
        self._values: list[float] | None
        if value is not None:
            self._values = [value]
        elif values is not None:
            self._values = list(values)
        else:
            self._values = None
        self._datetime_start = datetime_start
        self.datetime_complete = datetime_complete
        self._params = params
        self._distributions = distributions
        self._user_attrs = user_attrs
        self._system_attrs = system_attrs
        self.intermediate_values = intermediate_values
        self._trial_id = trial_id

    # Comparison: equal when every field is equal; ordered by number.
    def _key(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in _FIELDS)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FrozenTrial):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, FrozenTrial):
            return NotImplemented
        return self.number < other.number

    def __le__(self, other: object) -> bool:
        if not isinstance(other, FrozenTrial):
            return NotImplemented
        return self.number <= other.number

    def __hash__(self) -> int:
        return hash((self._number, self._trial_id, self.state))

    def __copy__(self) -> FrozenTrial:
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenTrial:
        # Hot path (``study.trials``, callbacks, ``tell``): params hold scalars and
        # distributions are treated as immutable, so only containers need copying; attributes
        # are deep-copied only when they hold containers.
        new = object.__new__(type(self))
        memo[id(self)] = new
        state = self.__dict__.copy()
        state["_values"] = None if self._values is None else list(self._values)
        state["_params"] = dict(self._params)
        state["_distributions"] = dict(self._distributions)
        state["_user_attrs"] = _copy_attrs(self._user_attrs, memo)
        state["_system_attrs"] = _copy_attrs(self._system_attrs, memo)
        state["intermediate_values"] = dict(self.intermediate_values)
        new.__dict__.update(state)
        return new

    def __repr__(self) -> str:
        fields = {
            "number": self._number,
            "state": self.state,
            "values": self._values,
            "datetime_start": self._datetime_start,
            "datetime_complete": self.datetime_complete,
            "params": self._params,
            "user_attrs": self._user_attrs,
            "system_attrs": self._system_attrs,
            "intermediate_values": self.intermediate_values,
            "distributions": self._distributions,
            "trial_id": self._trial_id,
        }
        inner = ", ".join(f"{k}={v!r}" for k, v in fields.items())
        return f"FrozenTrial({inner})"

    # The suggest API replays the recorded values.
    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """Return the recorded value of ``name`` after checking it lies in ``[low, high]``."""
        return self._suggest(name, FloatDistribution(low, high, log=log, step=step))

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
        """Return the recorded integer value of ``name``."""
        return int(self._suggest(name, IntDistribution(low, high, log=log, step=step)))

    def suggest_categorical(  # type: ignore[override]
        self, name: str, choices: Sequence[CategoricalChoiceType]
    ) -> CategoricalChoiceType:
        """Return the recorded choice of ``name``."""
        return self._suggest(name, CategoricalDistribution(choices=choices))

    def report(self, value: float, step: int) -> None:
        """Does nothing: a frozen trial's intermediate values cannot change."""

    def should_prune(self) -> bool:
        """Always ``False``: a frozen trial is never pruned."""
        return False

    def set_user_attr(self, key: str, value: Any) -> None:
        """Set a user attribute on this snapshot (not written to any storage)."""
        self._user_attrs[key] = value

    def set_constraint(self, key: str, value: float) -> None:
        """Record a constraint value on this snapshot; a second value for ``key`` is ignored."""
        new = new_constraint_attr(self._system_attrs, key, value)
        if new is not None:
            self._system_attrs[new[0]] = new[1]

    def _suggest(self, name: str, distribution: BaseDistribution) -> Any:
        if name not in self._params:
            raise ValueError(
                f"The parameter {name!r} was not suggested in trial {self._number}; "
                f"recorded parameters: {sorted(self._params)}."
            )
        value = self._params[name]
        if not distribution._contains(distribution.to_internal_repr(value)):
            warnings.warn(
                f"The recorded value {value!r} of {name!r} is outside {distribution}.",
                UserWarning,
                stacklevel=3,
            )
        if name in self._distributions:
            _dists.check_distribution_compatibility(self._distributions[name], distribution)
        self._distributions[name] = distribution
        return value

    def _validate(self) -> None:
        """Raise ValueError when the fields contradict each other (used by ``create_trial``)."""
        if self.state != TrialState.WAITING and self._datetime_start is None:
            raise ValueError(f"datetime_start must be set for a trial in state {self.state}.")
        if self.state.is_finished() and self.datetime_complete is None:
            raise ValueError(f"datetime_complete must be set for a trial in state {self.state}.")
        if not self.state.is_finished() and self.datetime_complete is not None:
            raise ValueError(f"datetime_complete must be None for a trial in state {self.state}.")
        if self.state == TrialState.FAIL and self._values is not None:
            raise ValueError(f"A FAIL trial has no values, got {self._values}.")
        if self.state == TrialState.COMPLETE:
            if self._values is None:
                raise ValueError("A COMPLETE trial needs `value` or `values`.")
            if any(math.isnan(v) for v in self._values):
                raise ValueError(f"Values of a COMPLETE trial must not be NaN, got {self._values}.")
        if set(self._params) != set(self._distributions):
            raise ValueError(
                f"params and distributions name different parameters: {sorted(self._params)} "
                f"vs {sorted(self._distributions)}."
            )
        for name, value in self._params.items():
            dist = self._distributions[name]
            if not dist._contains(dist.to_internal_repr(value)):
                raise ValueError(f"The value {value!r} of parameter {name!r} is outside {dist}.")

    @property
    def number(self) -> int:
        """The trial's number within its study."""
        return self._number

    @number.setter
    def number(self, value: int) -> None:
        self._number = value

    @property
    def value(self) -> float | None:
        """The objective value; raises RuntimeError for a multi-objective trial."""
        if self._values is None:
            return None
        if len(self._values) > 1:
            raise RuntimeError(
                "This trial has several objective values; use `values` instead of `value`."
            )
        return self._values[0]

    @value.setter
    def value(self, v: float | None) -> None:
        if self._values is not None and len(self._values) > 1:
            raise RuntimeError("This trial has several objective values; set `values` instead.")
        self._values = None if v is None else [v]

    @property
    def values(self) -> list[float] | None:
        """The objective values, one per objective, or ``None`` when unset."""
        return self._values

    @values.setter
    def values(self, v: Sequence[float] | None) -> None:
        self._values = None if v is None else list(v)

    @property
    def datetime_start(self) -> datetime.datetime | None:
        """When the trial started; ``None`` while WAITING."""
        return self._datetime_start

    @datetime_start.setter
    def datetime_start(self, value: datetime.datetime | None) -> None:
        self._datetime_start = value

    @property
    def params(self) -> dict[str, Any]:
        """Parameter values by name, in external form."""
        return self._params

    @params.setter
    def params(self, params: dict[str, Any]) -> None:
        self._params = params

    @property
    def distributions(self) -> dict[str, BaseDistribution]:
        """The distribution of each parameter."""
        return self._distributions

    @distributions.setter
    def distributions(self, value: dict[str, BaseDistribution]) -> None:
        self._distributions = value

    @property
    def user_attrs(self) -> dict[str, Any]:
        """User attributes."""
        return self._user_attrs

    @user_attrs.setter
    def user_attrs(self, value: dict[str, Any]) -> None:
        self._user_attrs = value

    @property
    def system_attrs(self) -> dict[str, Any]:
        """System attributes."""
        return self._system_attrs

    @system_attrs.setter
    def system_attrs(self, value: Mapping[str, Any]) -> None:
        self._system_attrs = dict(value)

    @property
    def last_step(self) -> int | None:
        """The largest step with a reported intermediate value, or ``None``."""
        return max(self.intermediate_values) if self.intermediate_values else None

    @property
    def duration(self) -> datetime.timedelta | None:
        """``datetime_complete - datetime_start`` when both are set."""
        if self._datetime_start and self.datetime_complete:
            return self.datetime_complete - self._datetime_start
        return None

    @property
    def constraints(self) -> dict[str, float]:
        """Constraint values by name; feasible when all are zero or less."""
        return constraints_from_system_attrs(self._system_attrs)


_IMMUTABLE_SCALARS = (type(None), bool, int, float, str)


def _copy_attrs(attrs: dict[str, Any], memo: dict[int, Any]) -> dict[str, Any]:
    for value in attrs.values():
        if type(value) not in _IMMUTABLE_SCALARS:
            return copy.deepcopy(attrs, memo)
    return dict(attrs)


def create_trial(
    *,
    state: TrialState = TrialState.COMPLETE,
    value: float | None = None,
    values: Sequence[float] | None = None,
    params: dict[str, Any] | None = None,
    distributions: dict[str, BaseDistribution] | None = None,
    user_attrs: dict[str, Any] | None = None,
    system_attrs: dict[str, Any] | None = None,
    intermediate_values: dict[int, float] | None = None,
    constraints: dict[str, float] | None = None,
) -> FrozenTrial:
    """Build a :class:`FrozenTrial` to add to a study with ``study.add_trial``.

    A COMPLETE trial (the default) needs ``params``, ``distributions`` and ``value`` or
    ``values``. Start and completion times are set to now as the state requires. Raises
    ValueError when the arguments contradict each other.
    """
    if not isinstance(state, TrialState):
        raise TypeError(f"state must be a TrialState, got {state!r}.")
    dists = {
        name: _dists._convert_old_distribution_to_new_distribution(d)
        for name, d in (distributions or {}).items()
    }
    now = datetime.datetime.now()
    start = None if state == TrialState.WAITING else now
    complete = start if state.is_finished() else None
    trial = FrozenTrial(
        number=-1,
        state=state,
        value=value,
        values=values,
        datetime_start=start,
        datetime_complete=complete,
        params=dict(params or {}),
        distributions=dists,
        user_attrs=dict(user_attrs or {}),
        system_attrs=dict(system_attrs or {}),
        intermediate_values=dict(intermediate_values or {}),
        trial_id=-1,
    )
    for key, c in (constraints or {}).items():
        trial.set_constraint(key, c)
    trial._validate()
    return trial

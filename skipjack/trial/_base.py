"""The interface every trial object offers to an objective function."""

from __future__ import annotations

import abc
from collections.abc import Sequence
import datetime
from typing import Any
from typing import overload

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalChoiceType

__all__ = ["BaseTrial"]


class BaseTrial(abc.ABC):
    """What an objective function may call on its ``trial`` argument.

    Implemented by :class:`~skipjack.trial.Trial` (a live trial of a study),
    :class:`~skipjack.trial.FixedTrial` (fixed values, for testing objectives) and
    :class:`~skipjack.trial.FrozenTrial` (a finished trial replayed).
    """

    @abc.abstractmethod
    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """Suggest a float in ``[low, high]``, optionally on a ``step`` grid or a log scale."""

    @abc.abstractmethod
    def suggest_uniform(self, name: str, low: float, high: float) -> float:
        """Deprecated: use ``suggest_float(name, low, high)``."""

    @abc.abstractmethod
    def suggest_loguniform(self, name: str, low: float, high: float) -> float:
        """Deprecated: use ``suggest_float(name, low, high, log=True)``."""

    @abc.abstractmethod
    def suggest_discrete_uniform(self, name: str, low: float, high: float, q: float) -> float:
        """Deprecated: use ``suggest_float(name, low, high, step=q)``."""

    @abc.abstractmethod
    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        """Suggest an integer in ``[low, high]``, optionally on a ``step`` grid or a log scale."""

    @overload
    def suggest_categorical(self, name: str, choices: Sequence[None]) -> None: ...

    @overload
    def suggest_categorical(self, name: str, choices: Sequence[bool]) -> bool: ...

    @overload
    def suggest_categorical(self, name: str, choices: Sequence[int]) -> int: ...

    @overload
    def suggest_categorical(self, name: str, choices: Sequence[float]) -> float: ...

    @overload
    def suggest_categorical(self, name: str, choices: Sequence[str]) -> str: ...

    @overload
    def suggest_categorical(
        self, name: str, choices: Sequence[CategoricalChoiceType]
    ) -> CategoricalChoiceType: ...

    @abc.abstractmethod
    def suggest_categorical(
        self, name: str, choices: Sequence[CategoricalChoiceType]
    ) -> CategoricalChoiceType:
        """Suggest one of ``choices`` (None, bool, int, float or str values)."""

    @abc.abstractmethod
    def report(self, value: float, step: int) -> None:
        """Report an intermediate objective value at ``step`` (used by pruners)."""

    @abc.abstractmethod
    def should_prune(self) -> bool:
        """Return whether the study's pruner says this trial should stop now."""

    @abc.abstractmethod
    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON-serializable value to the trial under ``key``."""

    @abc.abstractmethod
    def set_constraint(self, key: str, value: float) -> None:
        """Record a constraint value; the trial is feasible when all are zero or less."""

    @property
    @abc.abstractmethod
    def params(self) -> dict[str, Any]:
        """The parameters suggested so far, by name, in their external form."""

    @property
    @abc.abstractmethod
    def distributions(self) -> dict[str, BaseDistribution]:
        """The distribution of every suggested parameter, by name."""

    @property
    @abc.abstractmethod
    def user_attrs(self) -> dict[str, Any]:
        """The user attributes set so far."""

    @property
    @abc.abstractmethod
    def datetime_start(self) -> datetime.datetime | None:
        """When the trial started."""

    @property
    def number(self) -> int:
        """The trial's number: 0 for the study's first trial, counting up."""
        raise NotImplementedError

    @property
    def constraints(self) -> dict[str, float]:
        """The constraint values recorded so far, by name."""
        raise NotImplementedError

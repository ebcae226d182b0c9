"""Optuna 2.x distribution classes (still readable from old storages) and conversions."""

from __future__ import annotations

from typing import Any
import warnings

from skipjack.distributions._base import BaseDistribution
from skipjack.distributions._base import CategoricalChoiceType
from skipjack.distributions._base import CategoricalDistribution
from skipjack.distributions._base import FloatDistribution
from skipjack.distributions._base import IntDistribution

# ---------------------------------------------------------------------------------------------
# Deprecated 2.x classes, still readable from old storages
# ---------------------------------------------------------------------------------------------


def _warn_deprecated_class(name: str, replacement: str) -> None:
    warnings.warn(
        f"{name} has been deprecated in v3.0.0. This feature will be removed in v6.0.0. "
        f"Use {replacement} instead.",
        FutureWarning,
        stacklevel=3,
    )


class UniformDistribution(FloatDistribution):
    """Deprecated: a linear float range. Use ``FloatDistribution(low, high)`` instead."""

    def __init__(self, low: float, high: float) -> None:
        _warn_deprecated_class(type(self).__name__, "FloatDistribution")
        super().__init__(low=low, high=high, log=False, step=None)

    def _asdict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}


class LogUniformDistribution(FloatDistribution):
    """Deprecated: a log-scaled float range. Use ``FloatDistribution(low, high, log=True)``."""

    def __init__(self, low: float, high: float) -> None:
        _warn_deprecated_class(type(self).__name__, "FloatDistribution")
        super().__init__(low=low, high=high, log=True, step=None)

    def _asdict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high}


class DiscreteUniformDistribution(FloatDistribution):
    """Deprecated: a float grid with spacing ``q``. Use ``FloatDistribution(low, high, step=q)``.

    ``q`` is an alias of the ``step`` attribute.
    """

    def __init__(self, low: float, high: float, q: float) -> None:
        _warn_deprecated_class(type(self).__name__, "FloatDistribution")
        super().__init__(low=low, high=high, step=q)

    @property
    def q(self) -> float:
        """The grid spacing (same as ``step``)."""
        assert self.step is not None
        return self.step

    @q.setter
    def q(self, value: float) -> None:
        self.step = value

    def _asdict(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "q": self.step}


class IntUniformDistribution(IntDistribution):
    """Deprecated: a linear integer range. Use ``IntDistribution(low, high, step=step)``."""

    def __init__(self, low: int, high: int, step: int = 1) -> None:
        _warn_deprecated_class(type(self).__name__, "IntDistribution")
        super().__init__(low=low, high=high, log=False, step=step)

    def _asdict(self) -> dict[str, Any]:
        return {"step": self.step, "low": self.low, "high": self.high}


class IntLogUniformDistribution(IntDistribution):
    """Deprecated: a log-scaled integer range. Use ``IntDistribution(low, high, log=True)``."""

    def __init__(self, low: int, high: int, step: int = 1) -> None:
        _warn_deprecated_class(type(self).__name__, "IntDistribution")
        super().__init__(low=low, high=high, log=True, step=step)

    def _asdict(self) -> dict[str, Any]:
        return {"step": self.step, "low": self.low, "high": self.high}


def check_distribution_compatibility(
    dist_old: BaseDistribution, dist_new: BaseDistribution
) -> None:
    """Check that ``dist_new`` may replace ``dist_old`` for the same parameter name.

    Float and integer ranges may change bounds and step but not class or ``log``; categorical
    distributions must keep exactly the same choices.

    Raises:
        ValueError: if the two distributions are incompatible.
    """
    if dist_old is dist_new:
        return
    if type(dist_old) is not type(dist_new):
        raise ValueError(
            "Cannot set different distribution kind to the same parameter name "
            f"(recorded {type(dist_old).__name__}, new {type(dist_new).__name__})."
        )
    if isinstance(dist_old, (FloatDistribution, IntDistribution)):
        assert isinstance(dist_new, (FloatDistribution, IntDistribution))
        if dist_old.log != dist_new.log:
            raise ValueError(
                "Cannot set different log configuration to the same parameter name "
                f"(recorded log={dist_old.log}, new log={dist_new.log})."
            )
    if isinstance(dist_old, CategoricalDistribution) and dist_old != dist_new:
        assert isinstance(dist_new, CategoricalDistribution)
        raise ValueError(
            "CategoricalDistribution does not support dynamic value space "
            f"(recorded choices {dist_old.choices!r}, new choices {dist_new.choices!r})."
        )


def _is_distribution_log(dist: BaseDistribution) -> bool:
    """Return whether ``dist`` is a float or integer range sampled in the log domain."""
    if isinstance(dist, (FloatDistribution, IntDistribution)):
        return bool(dist.log)
    return False


def _get_single_value(dist: BaseDistribution) -> CategoricalChoiceType:
    """Return the only value of a distribution for which ``single()`` is true."""
    if not dist.single():
        raise ValueError(f"{dist} holds more than one value.")
    if isinstance(dist, (FloatDistribution, IntDistribution)):
        return dist.low
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[0]
    raise TypeError(f"Unsupported distribution {dist!r}.")


def _convert_old_distribution_to_new_distribution(
    dist: BaseDistribution, suppress_warning: bool = False
) -> BaseDistribution:
    """Return the current-class equivalent of a deprecated distribution.

    Current distributions are returned unchanged. A conversion emits a ``FutureWarning`` unless
    ``suppress_warning`` is true.
    """
    converted: BaseDistribution
    if isinstance(dist, (UniformDistribution, LogUniformDistribution)):
        converted = FloatDistribution(dist.low, dist.high, log=dist.log)
    elif isinstance(dist, DiscreteUniformDistribution):
        # ``high`` is already on the grid; copying it avoids a second decimal adjustment.
        converted = FloatDistribution(dist.low, dist.low, step=dist.step)
        converted.high = dist.high
    elif isinstance(dist, (IntUniformDistribution, IntLogUniformDistribution)):
        converted = IntDistribution(dist.low, dist.high, log=dist.log, step=dist.step)
    else:
        return dist

    if not suppress_warning:
        warnings.warn(
            f"{dist} is deprecated and internally converted to {converted}. "
            "See https://github.com/optuna/optuna/issues/2941.",
            FutureWarning,
            stacklevel=2,
        )
    return converted

"""The distribution classes, their validation and their internal representation."""

from __future__ import annotations

import abc
from collections.abc import Sequence
import decimal
import math
import numbers
from typing import Any
import warnings

import numpy as np

__all__ = [
    "BaseDistribution",
    "CategoricalChoiceType",
    "CategoricalDistribution",
    "FloatDistribution",
    "IntDistribution",
]

CategoricalChoiceType = None | bool | int | float | str

_ALLOWED_CHOICE_TYPES = "None, bool, int, float, str"

# Optuna computes grid adjustments with the default decimal context (28 significant digits);
# pinning it keeps results identical to Optuna's whatever the caller did to the global context.
_DECIMAL_CONTEXT = decimal.Context(prec=28)


# ---------------------------------------------------------------------------------------------
# Argument checking
# ---------------------------------------------------------------------------------------------


def _describe(value: object) -> str:
    return f"{value!r} (of type {type(value).__name__})"


def _check_real(owner: str, name: str, value: object) -> float:
    """Return ``value`` as a float after checking it is a finite, non-boolean real number."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"`{name}` of {owner} must be a real number, but got the boolean {value!r}; "
            "booleans are not accepted as bounds or steps."
        )
    if not isinstance(value, (numbers.Real, decimal.Decimal)):
        raise TypeError(
            f"`{name}` of {owner} must be a real number (int or float), but got {_describe(value)}."
        )
    as_float = float(value)
    if not math.isfinite(as_float):
        raise ValueError(f"`{name}` of {owner} must be a finite number, but got {value!r}.")
    return as_float


def _check_integer(owner: str, name: str, value: object) -> int:
    """Return ``value`` as an int after checking it is a finite, integer-valued number."""
    as_float = _check_real(owner, name, value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if not as_float.is_integer():
        raise ValueError(
            f"`{name}` of {owner} must be an integer, but got the non-integer value {value!r}."
        )
    if isinstance(value, decimal.Decimal):
        # Convert the original so that large exact integers keep every digit.
        return int(value)
    return int(as_float)


def _check_log(owner: str, log: object) -> bool:
    if not isinstance(log, (bool, np.bool_)):
        raise TypeError(f"`log` of {owner} must be a bool, but got {_describe(log)}.")
    return bool(log)


def _to_decimal(value: float) -> decimal.Decimal:
    # The grid is defined on the shortest decimal spelling of each float ("0.3", not the exact
    # binary value 0.2999999999999999888...), as Optuna does; repr() gives that spelling.
    return decimal.Decimal(repr(float(value)))


def _warn_high_adjusted(low: object, old_high: object, step: object, new_high: object) -> None:
    # The wording follows Optuna's warning so that existing warning filters keep working.
    warnings.warn(
        f"The distribution is specified by [{low}, {old_high}] and step={step}, but the range "
        f"is not divisible by `step`. It will be replaced with [{low}, {new_high}].",
        UserWarning,
        stacklevel=3,
    )


def _float_grid_high(low: float, high: float, step: float) -> float:
    """Largest ``low + k * step`` not above ``high``, computed on decimal spellings."""
    d_low = _to_decimal(low)
    d_step = _to_decimal(step)
    d_range = _DECIMAL_CONTEXT.subtract(_to_decimal(high), d_low)
    try:
        if _DECIMAL_CONTEXT.remainder(d_range, d_step) == 0:
            return high
        n_steps = _DECIMAL_CONTEXT.divide_int(d_range, d_step)
    except decimal.InvalidOperation:
        # More than 28 digits of grid points between low and high (Optuna raises here). The
        # step is then far below the float resolution at ``high``, so keep ``high``.
        return high
    return float(_DECIMAL_CONTEXT.add(_DECIMAL_CONTEXT.multiply(n_steps, d_step), d_low))


def _on_float_grid(low: float, value: float, step: float) -> bool:
    """Whether ``value`` is a grid point ``low + k * step`` up to rounding.

    Like Optuna, a value within 1e-8 steps of a grid point counts. Unlike Optuna, so does a value
    within a few float spacings of one, because far from zero a fine grid cannot be represented
    exactly: ``131072.0 + 0.001`` is 0.99999999 steps above ``131072.0``.
    """
    nearest = low + round((value - low) / step) * step
    tolerance = max(1e-8 * step, 8 * math.ulp(max(abs(low), abs(value))))
    return abs(value - nearest) <= tolerance


def _int_grid_high(low: int, high: int, step: int) -> int:
    """Largest ``low + k * step`` not above ``high``."""
    return low + ((high - low) // step) * step


def _is_nan_choice(value: object) -> bool:
    return isinstance(value, numbers.Real) and math.isnan(float(value))


def _choices_equal(a: object, b: object) -> bool:
    """Choice equality in which NaN equals NaN."""
    return bool(a == b) or (_is_nan_choice(a) and _is_nan_choice(b))


def _normalize_choice(index: int, choice: object) -> CategoricalChoiceType:
    # NumPy scalars are stored as plain Python values so that they serialize to JSON
    # (np.float64 is a float subclass but would still show as np.float64 in reprs).
    if isinstance(choice, np.bool_):
        return bool(choice)
    if isinstance(choice, np.integer):
        return int(choice)
    if isinstance(choice, np.floating):
        return float(choice)
    if choice is None or isinstance(choice, (bool, int, float, str)):
        return choice
    raise TypeError(
        f"CategoricalDistribution choice at index {index} is {_describe(choice)}; "
        f"allowed types are {_ALLOWED_CHOICE_TYPES}. Containers such as list, tuple, dict and "
        "set are refused because they cannot be stored and read back as the same value."
    )


# ---------------------------------------------------------------------------------------------
# Distribution classes
# ---------------------------------------------------------------------------------------------


class BaseDistribution(abc.ABC):
    """Abstract base of all distributions.

    Subclasses convert parameter values between the external form the objective sees and the
    internal float form storages keep, and tell whether a value belongs to the distribution.
    Two distributions are equal when they have the same class and the same attributes.
    Distributions are created by trials and read by samplers; users rarely build them directly.
    """

    def to_external_repr(self, param_value_in_internal_repr: float) -> Any:
        """Return the value the objective sees for a stored internal value."""
        return param_value_in_internal_repr

    @abc.abstractmethod
    def to_internal_repr(self, param_value_in_external_repr: Any) -> float:
        """Return the internal (stored) form of a value the objective sees."""
        raise NotImplementedError

    @abc.abstractmethod
    def single(self) -> bool:
        """Return whether exactly one value can be drawn from this distribution."""
        raise NotImplementedError

    @abc.abstractmethod
    def _contains(self, param_value_in_internal_repr: float) -> bool:
        """Return whether an internal value lies in this distribution's domain."""
        raise NotImplementedError

    def _asdict(self) -> dict[str, Any]:
        """Attributes as serialized to JSON and shown by ``repr``, in serialization order."""
        return dict(self.__dict__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseDistribution):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __hash__(self) -> int:
        return hash((type(self),) + tuple(sorted(self.__dict__.items())))

    def __repr__(self) -> str:
        attributes = sorted(self._asdict().items())
        arguments = ", ".join(f"{key}={value}" for key, value in attributes)
        return f"{type(self).__name__}({arguments})"


class FloatDistribution(BaseDistribution):
    """A range of floats ``[low, high]``, optionally log-scaled or restricted to a grid.

    Args:
        low: Lower bound, included. Must be positive when ``log`` is true.
        high: Upper bound, included. Must be at least ``low``. With a ``step``, it is moved down
            to the last grid point ``low + k * step`` that does not exceed it (with a warning).
        log: Sample in the log domain. Cannot be combined with ``step``.
        step: Spacing of the grid of allowed values, or ``None`` for a continuous range.

    ``low``, ``high`` and ``step`` are stored as floats.
    """

    step: float | None
    low: float
    high: float
    log: bool

    def __init__(
        self, low: float, high: float, log: bool = False, step: float | None = None
    ) -> None:
        owner = type(self).__name__
        low_f = _check_real(owner, "low", low)
        high_f = _check_real(owner, "high", high)
        log_b = _check_log(owner, log)
        step_f = None if step is None else _check_real(owner, "step", step)

        if log_b and step_f is not None:
            raise ValueError(
                f"{owner} cannot combine `log=True` with a `step` (got step={step!r}); "
                "use one or the other."
            )
        if low_f > high_f:
            raise ValueError(f"`low <= high` must hold, but got low={low!r} and high={high!r}.")
        if log_b and low_f <= 0.0:
            raise ValueError(
                f"`low > 0` must hold when `log=True`, but got low={low!r} (high={high!r})."
            )
        if step_f is not None and step_f <= 0.0:
            raise ValueError(f"`step > 0` must hold, but got step={step!r}.")

        # Attribute order is the JSON attribute order Optuna writes.
        self.step = step_f
        self.low = low_f
        self.high = high_f
        self.log = log_b
        if step_f is not None:
            self.high = _float_grid_high(low_f, high_f, step_f)
            if self.high != high_f:
                _warn_high_adjusted(low, high, step, self.high)

    def single(self) -> bool:
        """Return whether the range holds one value (``low == high`` or one grid point)."""
        if self.low == self.high:
            return True
        if self.step is None:
            return False
        span = _DECIMAL_CONTEXT.subtract(_to_decimal(self.high), _to_decimal(self.low))
        return span < _to_decimal(self.step)

    def _contains(self, param_value_in_internal_repr: float) -> bool:
        value = param_value_in_internal_repr
        if not self.low <= value <= self.high:
            return False
        return self.step is None or _on_float_grid(self.low, value, self.step)

    def to_internal_repr(self, param_value_in_external_repr: float) -> float:
        """Return the value as a float, rejecting NaN and (for log ranges) values <= 0."""
        return _numeric_internal_repr(self.log, param_value_in_external_repr)


class IntDistribution(BaseDistribution):
    """A range of integers ``[low, high]``, optionally log-scaled or with a step.

    Args:
        low: Lower bound, included. Must be at least 1 when ``log`` is true.
        high: Upper bound, included. Must be at least ``low``. It is moved down to the last
            value ``low + k * step`` that does not exceed it (with a warning).
        log: Sample in the log domain. Requires ``step == 1``.
        step: Spacing between allowed values, a positive integer.

    ``low``, ``high`` and ``step`` must be integer-valued and are stored as ints.
    """

    log: bool
    step: int
    low: int
    high: int

    def __init__(self, low: int, high: int, log: bool = False, step: int = 1) -> None:
        owner = type(self).__name__
        low_i = _check_integer(owner, "low", low)
        high_i = _check_integer(owner, "high", high)
        log_b = _check_log(owner, log)
        if step is None:
            raise TypeError(f"`step` of {owner} must be a positive integer, but got None.")
        step_i = _check_integer(owner, "step", step)

        if log_b and step_i != 1:
            raise ValueError(
                f"{owner} with `log=True` only supports step=1, but got step={step!r}."
            )
        if low_i > high_i:
            raise ValueError(f"`low <= high` must hold, but got low={low!r} and high={high!r}.")
        if log_b and low_i < 1:
            raise ValueError(
                f"`low >= 1` must hold when `log=True`, but got low={low!r} (high={high!r})."
            )
        if step_i <= 0:
            raise ValueError(f"`step > 0` must hold, but got step={step!r}.")

        # Attribute order is the JSON attribute order Optuna writes.
        self.log = log_b
        self.step = step_i
        self.low = low_i
        self.high = _int_grid_high(low_i, high_i, step_i)
        if self.high != high_i:
            _warn_high_adjusted(low, high, step, self.high)

    def to_external_repr(self, param_value_in_internal_repr: float) -> int:
        """Return the stored float as an int (truncating toward zero)."""
        return int(param_value_in_internal_repr)

    def to_internal_repr(self, param_value_in_external_repr: int) -> float:
        """Return the value as a float, rejecting NaN and (for log ranges) values <= 0."""
        return _numeric_internal_repr(self.log, param_value_in_external_repr)

    def single(self) -> bool:
        """Return whether the range holds exactly one integer."""
        if self.log:
            return self.low == self.high
        return self.high - self.low < self.step

    def _contains(self, param_value_in_internal_repr: float) -> bool:
        value = param_value_in_internal_repr
        return self.low <= value <= self.high and (value - self.low) % self.step == 0


def _numeric_internal_repr(log: bool, value: object) -> float:
    try:
        internal = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{value!r} is not a valid parameter value: a number (anything float() accepts) "
            "is expected."
        ) from error
    if math.isnan(internal):
        raise ValueError(f"{value!r} is not a valid parameter value: NaN is not allowed.")
    if log and internal <= 0.0:
        raise ValueError(
            f"{value!r} is not a valid parameter value for a log-scaled distribution: "
            "it must be > 0."
        )
    return internal


class CategoricalDistribution(BaseDistribution):
    """A fixed, ordered list of choices.

    Args:
        choices: At least one value; each must be ``None``, ``bool``, ``int``, ``float`` or
            ``str`` (NumPy bool, integer and float scalars are accepted and stored as the
            equivalent Python value). Stored as a tuple.

    The internal representation of a value is its index in ``choices``. Equal values cannot be
    told apart, so with choices ``(1, True)`` both ``1`` and ``True`` map to index 0.
    """

    choices: tuple[CategoricalChoiceType, ...]

    def __init__(self, choices: Sequence[CategoricalChoiceType]) -> None:
        try:
            values = tuple(choices)
        except TypeError:
            raise TypeError(
                "`choices` of CategoricalDistribution must be a sequence of values, "
                f"but got {_describe(choices)}."
            ) from None
        if len(values) == 0:
            raise ValueError("`choices` of CategoricalDistribution must not be empty.")
        self.choices = tuple(_normalize_choice(i, c) for i, c in enumerate(values))

    def to_external_repr(self, param_value_in_internal_repr: float) -> CategoricalChoiceType:
        """Return the choice at the stored index."""
        return self.choices[int(param_value_in_internal_repr)]

    def to_internal_repr(self, param_value_in_external_repr: CategoricalChoiceType) -> float:
        """Return the index of the first choice equal to the value (NaN matches NaN).

        Returned as an int, which the journal writes as a JSON integer, as Optuna does.
        """
        value = param_value_in_external_repr
        try:
            return self.choices.index(value)
        except ValueError:
            pass
        if _is_nan_choice(value):
            for index, choice in enumerate(self.choices):
                if _is_nan_choice(choice):
                    return index
        raise ValueError(f"{value!r} is not one of the choices {self.choices!r}.")

    def single(self) -> bool:
        """Return whether there is exactly one choice."""
        return len(self.choices) == 1

    def _contains(self, param_value_in_internal_repr: float) -> bool:
        value = param_value_in_internal_repr
        if not math.isfinite(value):
            return False
        return 0 <= int(value) < len(self.choices)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BaseDistribution):
            return NotImplemented
        if type(self) is not type(other) or self.__dict__.keys() != other.__dict__.keys():
            return False
        assert isinstance(other, CategoricalDistribution)
        if len(self.choices) != len(other.choices):
            return False
        return all(_choices_equal(a, b) for a, b in zip(self.choices, other.choices))

    def __hash__(self) -> int:
        # Every NaN hashes alike here, since __eq__ treats all NaN choices as equal.
        choices = tuple("<nan>" if _is_nan_choice(c) else c for c in self.choices)
        return hash((type(self), choices))

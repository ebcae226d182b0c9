"""Argument checks shared by the pruners: each error names the argument, the value and what is
allowed."""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_int", "check_real"]


def check_int(name: str, value: object, minimum: int, allowed: str) -> None:
    """Raise unless ``value`` is an int (not a bool) of at least ``minimum``.

    ``allowed`` describes the accepted values for the message, e.g. ``"an int >= 1"``.

    Raises:
        TypeError: if ``value`` is not an integer.
        ValueError: if it is below ``minimum``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be {allowed}, but got {value!r} ({type(value).__name__}).")
    if value < minimum:
        raise ValueError(f"`{name}` must be {allowed}, but got {value!r}.")


def check_real(name: str, value: object, allowed: str) -> float:
    """Return ``value`` as a float; raise unless it is a real number (not a bool nor NaN).

    Raises:
        TypeError: if ``value`` is not a real number.
        ValueError: if it is NaN.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be {allowed}, but got {value!r} ({type(value).__name__}).")
    number = float(value)
    if math.isnan(number):
        raise ValueError(f"`{name}` must be {allowed}, but got {value!r}.")
    return number

"""Patience: prune only once a trial has stopped improving for a while."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING
import warnings

import numpy as np

from skipjack.exceptions import ExperimentalWarning
from skipjack.pruners._base import BasePruner
from skipjack.pruners._checks import check_int
from skipjack.pruners._checks import check_real
from skipjack.study._study_direction import StudyDirection

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["PatientPruner"]


def _best(values: np.ndarray, direction: StudyDirection) -> float:
    """The best non-NaN value, or NaN when there is none."""
    values = values[~np.isnan(values)]
    if values.size == 0:
        return math.nan
    return float(values.max() if direction == StudyDirection.MAXIMIZE else values.min())


class PatientPruner(BasePruner):
    """Wrap a pruner so that it is asked only after ``patience`` steps without improvement.

    The trial's reports, in step order, are split into the last ``patience + 1`` and the ones
    before. When the best of the last ones is worse than the best before by more than
    ``min_delta`` (NaN reports ignored; equal is not worse), the trial has stalled: the wrapped
    pruner decides, or the trial is pruned if there is none. Otherwise it goes on. With
    ``patience + 1`` reports or fewer, it always goes on.

    Like Optuna's, this class is experimental: constructing it emits an
    :class:`~skipjack.exceptions.ExperimentalWarning`.

    Args:
        wrapped_pruner: The pruner consulted once the trial has stalled, or ``None`` to prune
            then.
        patience: An int of at least 0: steps without improvement tolerated.
        min_delta: A real number of at least 0: how much worse the recent best may be than
            the earlier best before the trial counts as stalled.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if ``patience`` or ``min_delta`` is negative (or ``min_delta`` NaN).

    Example:
        >>> import skipjack as optuna
        >>> pruner = optuna.pruners.PatientPruner(optuna.pruners.MedianPruner(), patience=3)
        >>> study = optuna.create_study(pruner=pruner)
    """

    def __init__(
        self, wrapped_pruner: BasePruner | None, patience: int, min_delta: float = 0.0
    ) -> None:
        warnings.warn(
            "PatientPruner is experimental (supported from v2.8.0). "
            "The interface can change in the future.",
            ExperimentalWarning,
            stacklevel=2,
        )
        if wrapped_pruner is not None and not callable(getattr(wrapped_pruner, "prune", None)):
            raise TypeError(
                f"`wrapped_pruner` must be a pruner (with a prune method) or None, but got "
                f"{wrapped_pruner!r}."
            )
        check_int("patience", patience, 0, "an int >= 0")
        delta = check_real("min_delta", min_delta, "a real number >= 0")
        if delta < 0:
            raise ValueError(f"`min_delta` must be a real number >= 0, but got {min_delta!r}.")
        self._wrapped_pruner = wrapped_pruner
        self._patience = patience
        self._min_delta = min_delta

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self._wrapped_pruner!r}, patience={self._patience!r}, "
            f"min_delta={self._min_delta!r})"
        )

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """Return the wrapped pruner's answer (or True) if the trial has stalled, else False.

        Raises:
            RuntimeError: from ``study.direction`` in a multi-objective study.
        """
        reports = trial.intermediate_values
        n_recent = self._patience + 1
        if len(reports) <= n_recent:
            return False
        steps = sorted(reports)
        values = np.array([reports[s] for s in steps], dtype=np.float64)
        direction = study.direction
        before = _best(values[:-n_recent], direction)
        recent = _best(values[-n_recent:], direction)
        # A NaN side makes both comparisons false: no stall is seen.
        if direction == StudyDirection.MAXIMIZE:
            stalled = before - self._min_delta > recent
        else:
            stalled = before + self._min_delta < recent
        if not stalled:
            return False
        if self._wrapped_pruner is None:
            return True
        return bool(self._wrapped_pruner.prune(study, trial))

"""Finishing a trial: validate what the objective returned and record it."""

from __future__ import annotations

from collections.abc import Sequence
import math
from typing import TYPE_CHECKING
from typing import Any
import warnings

from skipjack import logging as _logging
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState
from skipjack.trial._trial import Trial
from skipjack.trial._trial import _sampler_study

if TYPE_CHECKING:
    from skipjack.study.study import Study

_logger = _logging.get_logger(__name__)


def _resolve_trial(study: Study, trial: Trial | FrozenTrial | int) -> FrozenTrial:
    if isinstance(trial, (Trial, FrozenTrial)):
        trial_id = trial._trial_id
    elif isinstance(trial, int) and not isinstance(trial, bool):
        try:
            trial_id = study._storage.get_trial_id_from_study_id_trial_number(
                study._study_id, trial
            )
        except KeyError:
            raise ValueError(
                f"tell: there is no trial number {trial} in study {study.study_name!r}."
            ) from None
    else:
        raise TypeError(
            f"tell: trial must be a Trial, a FrozenTrial or a trial number, got {trial!r}."
        )
    return study._storage.get_trial(trial_id)


def _check_state_and_values(state: TrialState | None, values: Sequence[Any] | None) -> None:
    if state == TrialState.COMPLETE and values is None:
        raise ValueError("tell: values are required when state is TrialState.COMPLETE.")
    if state in (TrialState.PRUNED, TrialState.FAIL) and values is not None:
        raise ValueError(
            f"tell: values must be None when state is {state}; got {list(values)}."
        )
    if state is not None and state not in (
        TrialState.COMPLETE,
        TrialState.PRUNED,
        TrialState.FAIL,
    ):
        raise ValueError(
            f"tell: state must be COMPLETE, PRUNED or FAIL (or None), got {state!r}."
        )


def values_problem(n_objectives: int, values: Sequence[Any]) -> str | None:
    """Return why ``values`` cannot be a trial's objective values, or None when they can."""
    if n_objectives == 1 and len(values) == 1 and type(values[0]) is float:
        return None if values[0] == values[0] else f"The value {values[0]} is not acceptable"
    errors = []
    for v in values:
        try:
            number = float(v)
        except (TypeError, ValueError):
            errors.append(f"The value {v!r} could not be cast to float")
            continue
        if math.isnan(number):
            errors.append(f"The value {v} is not acceptable")
    if errors:
        return "; ".join(errors)
    if len(values) != n_objectives:
        return (
            f"The number of the values {len(values)} did not match the number of the "
            f"objectives {n_objectives}"
        )
    return None


def _as_sequence(value_or_values: Any) -> list[Any] | None:
    if value_or_values is None:
        return None
    if type(value_or_values) in (float, int):
        return [value_or_values]
    if isinstance(value_or_values, (str, bytes)):
        return [value_or_values]
    if isinstance(value_or_values, Sequence):
        return list(value_or_values)
    try:
        import numpy as np

        if isinstance(value_or_values, np.ndarray) and value_or_values.ndim == 1:
            return list(value_or_values)
    except ImportError:  # pragma: no cover - numpy is a core dependency
        pass
    return [value_or_values]


def tell_with_warning(
    study: Study,
    trial: Trial | FrozenTrial | int,
    value_or_values: Any,
    state: TrialState | None,
    *,
    skip_if_finished: bool = False,
    suppress_warning: bool = False,
) -> tuple[FrozenTrial, str | None]:
    """Record the outcome of a trial; return the stored trial and the reason it FAILed (if the
    values were invalid and ``state`` was None)."""
    frozen = _resolve_trial(study, trial)
    if frozen.state.is_finished() and skip_if_finished:
        _logger.info(
            f"Skipped telling trial {frozen.number} with values {value_or_values} and state "
            f"{state} since trial was already finished. Finished trial has values "
            f"{frozen.values} and state {frozen.state}."
        )
        return frozen, None
    if frozen.state != TrialState.RUNNING:
        raise ValueError(
            f"tell: trial {frozen.number} is {frozen.state.name}; only RUNNING trials can be "
            "told (pass skip_if_finished=True to ignore finished ones)."
        )

    values = _as_sequence(value_or_values)
    _check_state_and_values(state, values)
    problem = None
    if state == TrialState.COMPLETE:
        assert values is not None
        problem = values_problem(len(study.directions), values)
        if problem is not None:
            raise ValueError(f"tell: {problem}.")
    elif state == TrialState.PRUNED:
        last = frozen.last_step
        if last is not None and len(study.directions) == 1:
            v = frozen.intermediate_values[last]
            values = None if values_problem(1, [v]) is not None else [v]
    elif state is None:
        problem = (
            "The value None could not be cast to float"
            if values is None
            else values_problem(len(study.directions), values)
        )
        if problem is None:
            state = TrialState.COMPLETE
        else:
            state = TrialState.FAIL
            values = None
            if not suppress_warning:
                warnings.warn(problem, UserWarning, stacklevel=3)
    assert state is not None
    floats = None if values is None else [float(v) for v in values]

    try:
        study.sampler.after_trial(_sampler_study(study, frozen), frozen, state, floats)
    finally:
        study._storage.set_trial_state_values(frozen._trial_id, state, floats)
        study._stop_heartbeat(frozen._trial_id)
    return study._storage.get_trial(frozen._trial_id), problem

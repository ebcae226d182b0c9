"""The constant liar's view of other workers: a RUNNING trial's relative sample is stored with it
(Optuna's keys, so workers of either library read each other's), and the parameters of the
other RUNNING trials are read back, their stored relative sample included."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from typing import Any

from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["running_params", "store_relative_params"]

# A relative sample is JSON in chunks that fit RDB attributes, under these keys.
_RELATIVE_PARAMS_KEY = "tpe:relative_params"
_CHUNK = 2045


def store_relative_params(study: Study, trial: FrozenTrial, params: dict[str, Any]) -> None:
    """Store ``trial``'s relative sample ``params`` for the other workers' constant liar."""
    text = json.dumps(params)
    for i in range(0, len(text), _CHUNK):
        study._storage.set_trial_system_attr(
            trial._trial_id, f"{_RELATIVE_PARAMS_KEY}:{i // _CHUNK}", text[i : i + _CHUNK]
        )


def running_params(
    study: Study, trial: FrozenTrial, multivariate: bool
) -> list[tuple[int, dict[str, Any]]]:
    """``(number, params)`` of the RUNNING trials other than ``trial``, with (when
    ``multivariate``) their stored relative sample included."""
    out = []
    for other in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if other.number == trial.number:
            continue
        params = other.params
        if multivariate:
            chunks = []
            i = 0
            while (chunk := other.system_attrs.get(f"{_RELATIVE_PARAMS_KEY}:{i}")) is not None:
                chunks.append(chunk)
                i += 1
            if chunks:
                try:
                    params = {**json.loads("".join(chunks)), **params}
                except json.JSONDecodeError:  # another worker is still writing
                    pass
        out.append((other.number, params))
    return out

"""Replay snapshots: the state after the first N records, saved as JSON so a reader opening a
large journal replays only the records after N.

A snapshot is a cache, never the source of truth: backends keep it beside the log (Optuna never
reads it), check that it matches the log before it is used, and a snapshot that does not match
or cannot be read is ignored. It is JSON, not pickle: loading shared data must not run code.
"""

from __future__ import annotations

import abc
import datetime
import json

from skipjack.distributions import BaseDistribution
from skipjack.distributions import distribution_to_json
from skipjack.storages.journal._records import load_distribution
from skipjack.storages.journal._replay import JournalReplay
from skipjack.storages.journal._replay import StudyState
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

__all__ = ["SnapshotSupport", "dump_replay", "load_replay"]

FORMAT = 1

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_MICROSECOND = datetime.timedelta(microseconds=1)


def _to_microseconds(value: datetime.datetime) -> int:
    """Exact microseconds since the epoch; a naive value is local time, as everywhere."""
    return (value.astimezone(datetime.timezone.utc) - _EPOCH) // _MICROSECOND


def _from_microseconds(value: int) -> datetime.datetime:
    """Naive local time. A float of microseconds / 1e6 is within 0.3 us of the exact time
    for any date this millennium, and fromtimestamp rounds to the nearest microsecond."""
    return datetime.datetime.fromtimestamp(value / 1e6)


class SnapshotSupport(abc.ABC):
    """A backend that can keep one replay snapshot beside its log."""

    @abc.abstractmethod
    def load_replay_snapshot(self) -> tuple[int, bytes] | None:
        """Return ``(n_records, payload)`` of a snapshot matching the log, or None. On
        success the backend is ready to read from record ``n_records``."""

    @abc.abstractmethod
    def save_replay_snapshot(self, n_records: int, payload: bytes) -> None:
        """Keep ``payload`` as the snapshot of the first ``n_records`` records (best effort)."""


def dump_replay(replay: JournalReplay) -> bytes:
    """Serialize everything replay built (nothing that belongs to one worker)."""
    # Each distinct distribution is written once; trials refer to it by index.
    table: list[str] = []
    index_of_text: dict[str, int] = {}
    index_of_object: dict[int, int] = {}

    def to_index(dist: BaseDistribution) -> int:
        index = index_of_object.get(id(dist))
        if index is None:
            text = distribution_to_json(dist)
            index = index_of_text.setdefault(text, len(table))
            if index == len(table):
                table.append(text)
            index_of_object[id(dist)] = index
        return index

    studies = [
        [
            study_id,
            study.name,
            [int(d) for d in study.directions],
            study.user_attrs,
            study.system_attrs,
            study.claims,
            {name: to_index(d) for name, d in study.first_distributions.items()},
            study.trial_ids,
            study.finished,
            study.best_number,
        ]
        for study_id, study in replay.studies.items()
    ]
    trials = []
    for trial_id, trial in replay.trials.items():
        dists = trial.distributions
        start, complete = trial.datetime_start, trial.datetime_complete
        trials.append(
            [
                trial_id,
                int(trial.state),
                trial.values,
                None if start is None else _to_microseconds(start),
                None if complete is None else _to_microseconds(complete),
                {
                    name: [to_index(dists[name]), dists[name].to_internal_repr(value)]
                    for name, value in trial.params.items()
                },
                trial.user_attrs,
                trial.system_attrs,
                list(trial.intermediate_values.items()),
            ]
        )
    state = {
        "format": FORMAT,
        "next_study_id": replay.next_study_id,
        "next_trial_id": replay.next_trial_id,
        "distributions": table,
        "studies": studies,
        "trials": trials,
    }
    return json.dumps(state, separators=(",", ":")).encode()


def load_replay(payload: bytes) -> JournalReplay:
    """Rebuild a replay from :func:`dump_replay` output; ValueError if it is not one."""
    state = json.loads(payload)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError("Not a replay snapshot of a format this version reads.")
    replay = JournalReplay()
    replay.next_study_id = state["next_study_id"]
    replay.next_trial_id = state["next_trial_id"]
    table = [load_distribution(text) for text in state["distributions"]]
    trial_numbers: dict[int, tuple[int, int]] = {}
    for row in state["studies"]:
        study_id, name, directions, user_attrs, system_attrs, claims = row[:6]
        first, trial_ids, finished, best_number = row[6:]
        study = StudyState(name, [StudyDirection(d) for d in directions])
        study.user_attrs, study.system_attrs, study.claims = user_attrs, system_attrs, claims
        study.first_distributions = {k: table[v] for k, v in first.items()}
        study.trial_ids, study.finished, study.best_number = trial_ids, finished, best_number
        replay.studies[study_id] = study
        replay.study_ids_by_name[name] = study_id
        for number, trial_id in enumerate(trial_ids):
            trial_numbers[trial_id] = (study_id, number)
    now = replay.clock()
    for row in state["trials"]:
        trial_id, state_value, values, start, complete, params, user_attrs, system_attrs = row[:8]
        study_id, number = trial_numbers[trial_id]
        trial_state = TrialState(state_value)
        distributions = {name: table[p[0]] for name, p in params.items()}
        trial = FrozenTrial(
            number=number,
            state=trial_state,
            value=None,
            values=values,
            datetime_start=None if start is None else _from_microseconds(start),
            datetime_complete=None if complete is None else _from_microseconds(complete),
            params={name: distributions[name].to_external_repr(p[1]) for name, p in params.items()},
            distributions=distributions,
            user_attrs=user_attrs,
            system_attrs=system_attrs,
            intermediate_values={step: value for step, value in row[8]},
            trial_id=trial_id,
        )
        replay.trials[trial_id] = trial
        replay.trial_study[trial_id] = study_id
        replay.studies[study_id].by_state[trial_state].add(number)
        if not trial_state.is_finished():
            replay.fresh.add(trial_id)
            if trial_state == TrialState.RUNNING:
                replay.last_seen_alive[trial_id] = now
    return replay

"""The fixture and helpers every group of storage contract tests shares."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
import datetime
import threading
from typing import Any
from typing import ClassVar

import pytest

from skipjack.distributions import BaseDistribution
from skipjack.storages._base import BaseStorage
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

MINIMIZE = StudyDirection.MINIMIZE
MAXIMIZE = StudyDirection.MAXIMIZE
FINISHED_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
THREAD_TIMEOUT = 60.0

# Whole seconds survive every backend's datetime column.
START = datetime.datetime(2024, 5, 6, 7, 8, 9)
COMPLETE = datetime.datetime(2024, 5, 6, 7, 9, 10)


class StorageFixture:
    """Base of the contract tests: supplies the ``storage`` fixture and small helpers.

    Subclasses override :meth:`create_storage`; storages without atomic claims set
    ``supports_claims = False``.
    """

    #: Whether the storage implements ``claim``/``get_claims``. When False the suite checks
    #: that both raise NotImplementedError (the documented fallback) instead.
    supports_claims: ClassVar[bool] = True

    def create_storage(self) -> BaseStorage:
        """Return a new storage holding no studies. Called once per test."""
        raise NotImplementedError(
            f"{type(self).__name__} must override create_storage() to return a fresh storage."
        )

    def dispose_storage(self, storage: BaseStorage) -> None:
        """Release a storage after its test (default: ``remove_session()``)."""
        storage.remove_session()

    @pytest.fixture
    def storage(self) -> Iterator[BaseStorage]:
        """A fresh storage from :meth:`create_storage`, disposed after the test."""
        storage = self.create_storage()
        try:
            yield storage
        finally:
            self.dispose_storage(storage)


def new_study(storage: BaseStorage, *directions: StudyDirection) -> int:
    """Create an unnamed study (minimizing unless told otherwise) and return its id."""
    return storage.create_new_study(list(directions) or [MINIMIZE])


def finish(storage: BaseStorage, study_id: int, state: TrialState, value: float = 0.0) -> int:
    """Create a RUNNING trial and finish it in ``state``; return its id."""
    trial_id = storage.create_new_trial(study_id)
    values = None if state == TrialState.FAIL else [value]
    assert storage.set_trial_state_values(trial_id, state, values)
    return trial_id


def template(
    state: TrialState,
    values: Sequence[float] | None = None,
    params: dict[str, Any] | None = None,
    distributions: dict[str, BaseDistribution] | None = None,
    intermediate_values: dict[int, float] | None = None,
    user_attrs: dict[str, Any] | None = None,
    system_attrs: dict[str, Any] | None = None,
) -> FrozenTrial:
    """A FrozenTrial to pass as ``template_trial``, with datetimes consistent with ``state``."""
    return FrozenTrial(
        number=-1,
        state=state,
        value=None,
        values=values,
        datetime_start=None if state == TrialState.WAITING else START,
        datetime_complete=COMPLETE if state.is_finished() else None,
        params=dict(params or {}),
        distributions=dict(distributions or {}),
        user_attrs=dict(user_attrs or {}),
        system_attrs=dict(system_attrs or {}),
        intermediate_values=dict(intermediate_values or {}),
        trial_id=-1,
    )


def run_threads(n_threads: int, target: Callable[[int], None]) -> None:
    """Run ``target(i)`` for i in range(n_threads) in threads started together; re-raise the
    first error any of them hit."""
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait(timeout=THREAD_TIMEOUT)
            target(i)
        except BaseException as error:  # noqa: BLE001 - handed back to the test thread
            errors.append(error)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a storage call did not return (deadlock?)"
    if errors:
        raise errors[0]

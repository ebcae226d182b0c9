"""Contract tests for skipjack's additions: incremental reads and claims."""

from __future__ import annotations

import random
import threading

import pytest

from skipjack.storages._base import BaseStorage
from skipjack.testing._storage_base import StorageFixture
from skipjack.testing._storage_base import finish
from skipjack.testing._storage_base import new_study
from skipjack.testing._storage_base import run_threads
from skipjack.testing._storage_base import template
from skipjack.trial._state import TrialState


def _new_ids(storage: BaseStorage, study_id: int, watermark: int) -> tuple[list[int], int]:
    trials, watermark = storage.get_finished_trials_since(study_id, watermark)
    assert all(t.state.is_finished() for t in trials)
    return [t._trial_id for t in trials], watermark


class IncrementalReadContract(StorageFixture):
    """get_finished_trials_since hands back each finished trial exactly once."""

    def test_first_read_returns_every_finished_trial(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        expected = {
            finish(storage, study_id, TrialState.COMPLETE, 1.0),
            finish(storage, study_id, TrialState.PRUNED, 2.0),
            finish(storage, study_id, TrialState.FAIL),
            storage.create_new_trial(study_id, template(TrialState.COMPLETE, values=[3.0])),
        }
        storage.create_new_trial(study_id)
        storage.create_new_trial(study_id, template(TrialState.WAITING))
        trials, _ = storage.get_finished_trials_since(study_id, 0)
        assert {t._trial_id for t in trials} == expected
        assert len(trials) == len(expected)
        for trial in trials:
            assert trial == storage.get_trial(trial._trial_id)

    def test_later_reads_return_only_new_trials(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        finish(storage, study_id, TrialState.COMPLETE)
        running = storage.create_new_trial(study_id)
        _, watermark = _new_ids(storage, study_id, 0)

        new, watermark = _new_ids(storage, study_id, watermark)
        assert new == []
        storage.set_trial_state_values(running, TrialState.COMPLETE, [5.0])
        added = storage.create_new_trial(study_id, template(TrialState.PRUNED, values=[1.0]))
        new, watermark = _new_ids(storage, study_id, watermark)
        assert sorted(new) == sorted([running, added])
        new, watermark = _new_ids(storage, study_id, watermark)
        assert new == []

    def test_studies_are_read_separately(self, storage: BaseStorage) -> None:
        a, b = new_study(storage), new_study(storage)
        in_a = finish(storage, a, TrialState.COMPLETE)
        in_b = finish(storage, b, TrialState.COMPLETE)
        _, mark_a = _new_ids(storage, a, 0)
        assert _new_ids(storage, b, 0)[0] == [in_b]
        later_b = finish(storage, b, TrialState.FAIL)
        assert _new_ids(storage, a, mark_a)[0] == []
        assert sorted(_new_ids(storage, b, 0)[0]) == sorted([in_b, later_b])
        assert _new_ids(storage, a, 0)[0] == [in_a]

    def test_many_batches_lose_and_repeat_nothing(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        watermark = 0
        for size in [1, 0, 7, 30, 2, 60, 0, 1, 100]:
            batch = [finish(storage, study_id, TrialState.COMPLETE, float(k)) for k in range(size)]
            new, watermark = _new_ids(storage, study_id, watermark)
            assert sorted(new) == sorted(batch)

    def test_concurrent_finishing_loses_and_repeats_nothing(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        n_writers = 4
        finished: list[int] = []
        seen: list[int] = []
        writers_done = threading.Event()
        remaining = [n_writers]
        lock = threading.Lock()

        def work(i: int) -> None:
            if i < n_writers:
                for k in range(50):
                    state = TrialState.FAIL if k % 5 == 0 else TrialState.COMPLETE
                    finished.append(finish(storage, study_id, state, float(k)))
                with lock:
                    remaining[0] -= 1
                    if remaining[0] == 0:
                        writers_done.set()
                return
            watermark = 0
            while not writers_done.is_set():
                new, watermark = _new_ids(storage, study_id, watermark)
                seen.extend(new)
            new, watermark = _new_ids(storage, study_id, watermark)
            seen.extend(new)

        run_threads(n_writers + 1, work)
        assert len(seen) == len(set(seen))
        assert sorted(seen) == sorted(finished)


class ClaimContract(StorageFixture):
    """claim/get_claims: first writer wins, atomically."""

    def _claims_supported(self, storage: BaseStorage, study_id: int, trial_id: int) -> bool:
        """Return True if claims should be tested; otherwise check the documented fallback."""
        if self.supports_claims:
            return True
        with pytest.raises(NotImplementedError):
            storage.claim(study_id, "key", trial_id)
        with pytest.raises(NotImplementedError):
            storage.get_claims(study_id)
        return False

    def test_first_writer_wins(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        first, second = storage.create_new_trial(study_id), storage.create_new_trial(study_id)
        if not self._claims_supported(storage, study_id, first):
            return
        assert storage.get_claims(study_id) == {}
        assert storage.claim(study_id, "x=1", first) is True
        assert storage.claim(study_id, "x=1", second) is False
        assert storage.claim(study_id, "x=1", first) is True  # the owner may ask again
        assert storage.claim(study_id, "x=2", second) is True
        assert storage.get_claims(study_id) == {"x=1": first, "x=2": second}

    def test_finished_owner_keeps_its_claim(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        owner = storage.create_new_trial(study_id)
        if not self._claims_supported(storage, study_id, owner):
            return
        assert storage.claim(study_id, "k", owner)
        storage.set_trial_state_values(owner, TrialState.COMPLETE, [1.0])
        assert storage.claim(study_id, "k", storage.create_new_trial(study_id)) is False
        assert storage.get_claims(study_id) == {"k": owner}

    def test_claims_are_per_study(self, storage: BaseStorage) -> None:
        a, b = new_study(storage), new_study(storage)
        in_a, in_b = storage.create_new_trial(a), storage.create_new_trial(b)
        if not self._claims_supported(storage, a, in_a):
            return
        assert storage.claim(a, "same key", in_a)
        assert storage.claim(b, "same key", in_b)
        assert storage.get_claims(a) == {"same key": in_a}
        assert storage.get_claims(b) == {"same key": in_b}

    def test_unknown_study_raises_key_error(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        trial_id = storage.create_new_trial(study_id)
        if not self._claims_supported(storage, study_id, trial_id):
            return
        with pytest.raises(KeyError):
            storage.claim(study_id + 12345, "k", trial_id)
        with pytest.raises(KeyError):
            storage.get_claims(study_id + 12345)

    def test_deleting_a_study_drops_its_claims(self, storage: BaseStorage) -> None:
        doomed = new_study(storage)
        owner = storage.create_new_trial(doomed)
        if not self._claims_supported(storage, doomed, owner):
            return
        assert storage.claim(doomed, "k", owner)
        storage.delete_study(doomed)
        # A backend may reuse the id; whatever id the next study gets, it starts clean.
        fresh = new_study(storage)
        assert storage.get_claims(fresh) == {}
        assert storage.claim(fresh, "k", storage.create_new_trial(fresh)) is True

    def test_concurrent_claims_have_one_winner_per_key(self, storage: BaseStorage) -> None:
        study_id = new_study(storage)
        owners = [storage.create_new_trial(study_id) for _ in range(8)]
        if not self._claims_supported(storage, study_id, owners[0]):
            return
        keys = [f"grid-{k}" for k in range(20)]
        results: list[tuple[str, int, bool]] = []

        def contend(i: int) -> None:
            order = list(keys)
            random.Random(i).shuffle(order)
            for key in order:
                results.append((key, owners[i], storage.claim(study_id, key, owners[i])))

        run_threads(8, contend)
        claims = storage.get_claims(study_id)
        assert set(claims) == set(keys)
        for key in keys:
            winners = [owner for k, owner, won in results if k == key and won]
            assert winners == [claims[key]]

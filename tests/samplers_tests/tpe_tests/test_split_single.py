"""The single-objective good/bad split against a brute-force reference, call after call.

The split keeps the last answer of a history and extends it when rows are appended, so the
tests replay growing histories (ties, NaN and infinite values, pruned, infeasible and failed
rows, trials finishing out of number order, changing ``n_below``) and interleave histories.
"""

from __future__ import annotations

import math
import sys
import threading
from typing import Any

import numpy as np
import pytest

from skipjack.samplers._tpe import _split
from skipjack.samplers._tpe._rows import RowFacts
from skipjack.samplers._tpe._split import split_rows
from skipjack.study._history import HistorySnapshot
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState

COMPLETE = int(TrialState.COMPLETE)
PRUNED = int(TrialState.PRUNED)
FAIL = int(TrialState.FAIL)


class FakeHistory:
    """Rows of one study: fixed columns, of which the first ``n`` are shown to the split."""

    def __init__(
        self,
        values: np.ndarray,
        states: np.ndarray,
        numbers: np.ndarray,
        violation: np.ndarray,
        last_step: np.ndarray | None = None,
        last_value: np.ndarray | None = None,
    ) -> None:
        size = len(values)
        self.values = values.reshape(size, 1).astype(float)
        self.states = states.astype(np.int8)
        self.numbers = numbers.astype(np.int64)
        self.facts = RowFacts()
        self.facts.violation = violation.astype(float)
        self.facts.last_step = np.full(size, math.nan) if last_step is None else last_step
        self.facts.last_value = np.full(size, math.nan) if last_value is None else last_value
        self.trials: list[Any] = []  # grows like a history's list of trials

    def snapshot(self, n: int) -> HistorySnapshot:
        while len(self.trials) < n:
            self.trials.append(object())
        return HistorySnapshot(n, self.trials, self.numbers, self.states, self.values, {}, {})

    def split(self, n: int, direction: StudyDirection, n_below: int) -> tuple[list[int], list[int]]:
        below, above = split_rows(self.snapshot(n), self.facts, [direction], n_below)
        return below.tolist(), above.tolist()

    def reference(self, n: int, direction: StudyDirection, n_below: int) -> tuple[list, list]:
        """Good and bad rows by the documented preference order, from scratch."""
        sign = -1.0 if direction == StudyDirection.MAXIMIZE else 1.0
        number = self.numbers.tolist()
        violation = self.facts.violation.tolist()
        finished = [i for i in range(n) if self.states[i] in (COMPLETE, PRUNED)]

        def loss_key(i: int) -> tuple[bool, float, int]:
            loss = float(self.values[i, 0]) * sign
            return (math.isnan(loss), 0.0 if math.isnan(loss) else loss, number[i])

        def pruned_key(i: int) -> tuple[float, float, int]:
            step = float(self.facts.last_step[i])
            if math.isnan(step):
                return (1.0, 0.0, number[i])
            value = float(self.facts.last_value[i]) * sign
            return (-step, math.inf if math.isnan(value) else value, number[i])

        feasible = [i for i in finished if violation[i] <= 0]
        ranked = sorted((i for i in feasible if self.states[i] == COMPLETE), key=loss_key)
        ranked += sorted((i for i in feasible if self.states[i] == PRUNED), key=pruned_key)
        ranked += sorted(
            (i for i in finished if violation[i] > 0), key=lambda i: (violation[i], number[i])
        )
        good = set(ranked[: max(n_below, 0)])
        by_number = sorted(finished, key=lambda i: number[i])
        return [i for i in by_number if i in good], [i for i in by_number if i not in good]


def default_gamma(n: int) -> int:
    return min(int(np.ceil(0.1 * n)), 25)


def late_order(rng: np.random.RandomState, size: int) -> np.ndarray:
    """Trial numbers of rows in finishing order: mostly increasing, some trials finishing late."""
    numbers = np.arange(size)
    for _ in range(size // 6):
        i = rng.randint(0, size - 4)
        numbers[i : i + 4] = numbers[i : i + 4][rng.permutation(4)]
    return numbers


def mixed_history(rng: np.random.RandomState, size: int, levels: int, odd: float) -> FakeHistory:
    """Values on a grid of ``levels`` (ties), a share ``odd`` of rows NaN, infinite, pruned,
    infeasible or failed."""
    values = rng.randint(0, levels, size).astype(float)
    states = np.full(size, COMPLETE)
    violation = np.zeros(size)
    last_step = np.full(size, math.nan)
    last_value = np.full(size, math.nan)
    for row in np.flatnonzero(rng.uniform(size=size) < odd):
        kind = rng.randint(6)
        if kind == 0:
            values[row] = math.nan
        elif kind == 1:
            values[row] = rng.choice([math.inf, -math.inf])
        elif kind == 2:
            states[row] = PRUNED
            values[row] = math.nan
            if rng.uniform() < 0.7:
                last_step[row] = rng.randint(3)
                last_value[row] = rng.randint(levels)
        elif kind == 3:
            violation[row] = rng.randint(1, 4)
        elif kind == 4:
            states[row] = FAIL
            values[row] = math.nan
        else:
            violation[row] = -1.0  # satisfied constraints count as feasible
    return FakeHistory(values, states, late_order(rng, size), violation, last_step, last_value)


def replay(
    history: FakeHistory,
    direction: StudyDirection,
    sizes: list[int],
    gamma: Any = default_gamma,
) -> list[tuple[int, list[int], list[int]]]:
    answers = []
    for n in sizes:
        n_below = gamma(n)
        got = history.split(n, direction, n_below)
        assert got == history.reference(n, direction, n_below), f"n={n}, n_below={n_below}"
        answers.append((n, *got))
    return answers


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("levels", [3, 20, 10_000])
@pytest.mark.parametrize("direction", [StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE])
def test_plain_history_grown_one_row_at_a_time(
    seed: int, levels: int, direction: StudyDirection
) -> None:
    _split._last_single = None
    rng = np.random.RandomState(seed)
    history = mixed_history(rng, 400, levels, odd=0.0)
    replay(history, direction, list(range(1, 401)))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("odd", [0.02, 0.3, 0.9])
@pytest.mark.parametrize("direction", [StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE])
def test_nan_pruned_infeasible_and_failed_rows(
    seed: int, odd: float, direction: StudyDirection
) -> None:
    _split._last_single = None
    rng = np.random.RandomState(seed)
    history = mixed_history(rng, 300, 6, odd)
    replay(history, direction, list(range(1, 301)))


@pytest.mark.parametrize("seed", range(4))
def test_rows_arriving_in_batches_and_gamma_changes(seed: int) -> None:
    _split._last_single = None
    rng = np.random.RandomState(seed)
    history = mixed_history(rng, 600, 8, odd=0.1)
    sizes = np.cumsum(rng.choice([0, 1, 1, 2, 5, 16, 17, 40], size=60)) + 1
    sizes = sizes[sizes <= 600].tolist()

    def gamma(n: int) -> int:  # jumps, constant stretches, zero and more than every row
        return [0, 1, 3, 3, 3, 3, 7, n, n + 5][n * 7 % 9]

    replay(history, StudyDirection.MINIMIZE, sizes, gamma)
    replay(history, StudyDirection.MINIMIZE, sizes, default_gamma)


def test_interleaved_histories_and_older_snapshots() -> None:
    _split._last_single = None
    rng = np.random.RandomState(11)
    first = mixed_history(rng, 200, 5, odd=0.05)
    second = mixed_history(rng, 200, 5, odd=0.05)
    # A third history with the very same rows as the first: answers agree, state is not shared.
    twin = FakeHistory(
        first.values[:, 0], first.states, first.numbers, first.facts.violation,
        first.facts.last_step, first.facts.last_value,
    )  # fmt: skip
    twin.values[150:] = -twin.values[150:]  # ... until they part
    for n in range(1, 201):
        for history in (first, second, twin, first):
            replay(history, StudyDirection.MINIMIZE, [n])
        if n % 10 == 0:
            replay(first, StudyDirection.MINIMIZE, [n - 7, n])  # a stale snapshot, then back
            replay(second, StudyDirection.MAXIMIZE, [n])  # other direction, same rows


def test_published_answers_never_change() -> None:
    _split._last_single = None
    rng = np.random.RandomState(3)
    history = mixed_history(rng, 300, 4, odd=0.05)
    arrays = []
    expected = []
    for n in range(1, 301):
        below, above = split_rows(
            history.snapshot(n), history.facts, [StudyDirection.MINIMIZE], default_gamma(n)
        )
        arrays.append((below, above))
        expected.append((below.tolist(), above.tolist()))
    assert [(b.tolist(), a.tolist()) for b, a in arrays] == expected


def test_appended_rows_do_not_redo_the_full_split(monkeypatch: pytest.MonkeyPatch) -> None:
    _split._last_single = None
    rng = np.random.RandomState(5)
    history = mixed_history(rng, 500, 50, odd=0.0)
    history.split(300, StudyDirection.MINIMIZE, 25)

    def fail(*args: Any) -> Any:
        raise AssertionError("full split run")

    monkeypatch.setattr(_split, "_best_complete", fail)
    for n in range(301, 501):
        got = history.split(n, StudyDirection.MINIMIZE, 25)
        assert got == history.reference(n, StudyDirection.MINIMIZE, 25)
    with pytest.raises(AssertionError, match="full split run"):
        history.split(500, StudyDirection.MINIMIZE, 24)  # another n_below: from scratch


def test_threads_sharing_a_history_get_reference_answers() -> None:
    _split._last_single = None
    rng = np.random.RandomState(9)
    history = mixed_history(rng, 400, 30, odd=0.02)
    expected = {n: history.reference(n, StudyDirection.MINIMIZE, 25) for n in range(250, 401)}
    for n in range(1, 401):  # every trial's list entry exists before the threads start
        history.snapshot(n)
    answers: list[tuple[int, np.ndarray, np.ndarray]] = []

    def work(seed: int) -> None:
        order = np.random.RandomState(seed)
        for n in np.sort(order.randint(250, 401, size=150)):
            below, above = split_rows(
                history.snapshot(int(n)), history.facts, [StudyDirection.MINIMIZE], 25
            )
            answers.append((int(n), below, above))

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, inside the split too
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert len(answers) == 600
    for n, below, above in answers:
        assert (below.tolist(), above.tolist()) == expected[n], f"n={n}"

"""Reading a search space's observations with other trials' running values merged in, lazily
(``merged_with_running``) against the eager reader (``observations``)."""

from __future__ import annotations

import numpy as np

import skipjack
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe._observed import merged_with_running
from skipjack.samplers._tpe._observed import observations
from skipjack.samplers._tpe._rows import RowFacts
from skipjack.study._history import TrialHistory
from skipjack.study._history import history_of

SPACE = {
    "x": FloatDistribution(-1.0, 1.0),
    "n": IntDistribution(1, 9),
    "c": CategoricalDistribution(["a", "b", "c"]),
}


def _history(n_trials: int) -> TrialHistory:
    study = skipjack.create_study(sampler=skipjack.samplers.RandomSampler(seed=0))
    study.optimize(
        lambda t: (
            t.suggest_float("x", -1, 1)
            + t.suggest_int("n", 1, 9)
            + len(t.suggest_categorical("c", ["a", "b", "c"]))
        ),
        n_trials=n_trials,
    )
    return history_of(study)


def test_merged_reader_gives_what_the_eager_reader_gives() -> None:
    history = _history(60)
    history.refresh()
    snapshot = history.snapshot()
    facts = RowFacts()
    facts.update(snapshot)
    rng = np.random.default_rng(0)
    numbers = snapshot.numbers
    for _ in range(50):
        rows = np.sort(rng.choice(len(snapshot), size=int(rng.integers(1, 40)), replace=False))
        rows = rows[np.argsort(numbers[rows], kind="stable")]
        # Running trials: numbers among and after the rows', some without every parameter.
        taken = set(numbers.tolist())
        running = []
        for number in rng.choice(200, size=int(rng.integers(0, 6)), replace=False).tolist():
            if number in taken:
                continue
            params = {"x": float(rng.uniform(-1, 1)), "n": int(rng.integers(1, 10)), "c": "b"}
            if rng.random() < 0.3:
                del params["n"]
            running.append((number, params))
        columns, _, expected_numbers = observations(snapshot, facts, rows, SPACE, running)
        merged, read = merged_with_running(snapshot, rows, SPACE, running)
        if expected_numbers is None:  # no running trial: the rows' own numbers
            expected_numbers = numbers[rows]
        np.testing.assert_array_equal(merged, expected_numbers)
        positions = rng.permutation(len(merged))[: max(1, len(merged) // 2)]
        got = read(positions)
        for name in SPACE:
            np.testing.assert_array_equal(got[name], columns[name][positions])

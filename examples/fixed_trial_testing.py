"""Testing an objective function with FixedTrial (the FAQ's recipe).

``FixedTrial`` answers every ``suggest_*`` call from a dictionary instead of a sampler, so an
objective can be unit-tested with chosen parameter values and no study at all.
"""

from __future__ import annotations

import skipjack as optuna
from skipjack.trial import FixedTrial


def objective(trial: optuna.trial.BaseTrial) -> float:
    """The FAQ's objective: x + y over x in [-1, 1] and integer y in [-5, 5]."""
    x = trial.suggest_float("x", -1.0, 1.0)
    y = trial.suggest_int("y", -5, 5)
    return x + y


def test_objective() -> None:
    """A pytest-style test of ``objective`` using fixed parameter values."""
    assert objective(FixedTrial({"x": 1.0, "y": 0})) == 1.0
    assert objective(FixedTrial({"x": 0.0, "y": -1})) == -1.0
    assert objective(FixedTrial({"x": -1.0, "y": 1})) == 0.0


def main() -> None:
    """Evaluate the objective at a few fixed points, then run the test above."""
    for params in ({"x": 1.0, "y": -1}, {"x": -1.0, "y": -4}):
        print(f"objective(FixedTrial({params})) = {objective(FixedTrial(params))}")
    test_objective()
    print("test_objective passed")


if __name__ == "__main__":
    main()

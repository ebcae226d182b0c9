"""Save an in-memory study to a file and resume it later (the FAQ's recipe).

An in-memory study is an ordinary Python object: dump it with joblib (or pickle, when joblib is
not installed), load it back, inspect the best trial and keep optimizing. The file is written into
a temporary directory that is removed at the end.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from typing import Any

import skipjack as optuna

try:
    import joblib
except ImportError:  # joblib is optional; pickle does the same job here
    joblib = None


def dump(obj: Any, path: str) -> None:
    """Write ``obj`` to ``path`` with joblib if available, else pickle."""
    if joblib is not None:
        joblib.dump(obj, path)
        return
    with open(path, "wb") as f:
        pickle.dump(obj, f)


def load(path: str) -> Any:
    """Read back an object written by :func:`dump`."""
    if joblib is not None:
        return joblib.load(path)
    with open(path, "rb") as f:
        return pickle.load(f)


def objective(trial: optuna.Trial) -> float:
    """A two-parameter quadratic bowl with its minimum at x=2, y=-1."""
    x = trial.suggest_float("x", -10, 10)
    y = trial.suggest_int("y", -5, 5)
    return (x - 2) ** 2 + (y + 1) ** 2


def main() -> None:
    """Optimise, save, load, print the best trial, then resume for more trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "study.pkl")

        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
        study.optimize(objective, n_trials=20)
        dump(study, path)
        how = "joblib" if joblib is not None else "pickle"
        print(f"Saved a study with {len(study.trials)} trials using {how}")

        study = load(path)
        print("Best trial until now:")
        print(" Value: ", study.best_trial.value)
        print(" Params: ")
        for key, value in study.best_trial.params.items():
            print(f"    {key}: {value}")

        study.optimize(objective, n_trials=10)
        print(f"Trials after resuming: {len(study.trials)}")


if __name__ == "__main__":
    main()

"""Objectives that take their own arguments (the FAQ's recipes).

Three equivalent ways to pass extra arguments to an objective: a callable class, a lambda, and
``functools.partial``.
"""

from __future__ import annotations

import functools

import skipjack as optuna


class Objective:
    """A callable objective that keeps its search bounds as fields."""

    def __init__(self, min_x: float, max_x: float) -> None:
        self.min_x = min_x
        self.max_x = max_x

    def __call__(self, trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", self.min_x, self.max_x)
        return (x - 2) ** 2


def objective(trial: optuna.Trial, min_x: float, max_x: float) -> float:
    """An objective with two extra arguments, to be wrapped by a lambda or a partial."""
    x = trial.suggest_float("x", min_x, max_x)
    return (x - 2) ** 2


def main() -> None:
    """Run each variant for 100 trials and print its best x."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    min_x, max_x = -100, 100

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(Objective(min_x, max_x), n_trials=100)
    print(f"Callable class: {len(study.trials)} trials, best x = {study.best_params['x']:.4f}")

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda trial: objective(trial, min_x, max_x), n_trials=100)
    print(f"Lambda: {len(study.trials)} trials, best x = {study.best_params['x']:.4f}")

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(functools.partial(objective, min_x=min_x, max_x=max_x), n_trials=100)
    print(f"functools.partial: {len(study.trials)} trials, best x = {study.best_params['x']:.4f}")


if __name__ == "__main__":
    main()

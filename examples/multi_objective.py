"""Multi-objective optimisation: trade off two objectives and read the Pareto front.

The Binh and Korn test problem (without its constraints): minimise both
f1 = 4x^2 + 4y^2 and f2 = (x - 5)^2 + (y - 5)^2 over x in [0, 5], y in [0, 3]. No single trial is
best, so ``study.best_trials`` returns the trials no other trial beats in both objectives.
"""

from __future__ import annotations

import skipjack as optuna


def objective(trial: optuna.Trial) -> tuple[float, float]:
    """Return the two Binh and Korn objective values."""
    x = trial.suggest_float("x", 0, 5)
    y = trial.suggest_float("y", 0, 3)
    v0 = 4 * x**2 + 4 * y**2
    v1 = (x - 5) ** 2 + (y - 5) ** 2
    return v0, v1


def main() -> None:
    """Run 80 trials and print the Pareto front sorted by the first objective."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        directions=["minimize", "minimize"],
        sampler=optuna.samplers.RandomSampler(seed=5),
    )
    study.optimize(objective, n_trials=80)

    print(f"Number of finished trials: {len(study.trials)}")
    front = sorted(study.best_trials, key=lambda t: t.values or [])
    print(f"Pareto front: {len(front)} trials")
    for trial in front:
        print(f"  Trial#{trial.number} Values={trial.values} Params={trial.params}")


if __name__ == "__main__":
    main()

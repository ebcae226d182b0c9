"""Pruning: stop unpromising trials early with ``report``/``should_prune`` and MedianPruner.

Each trial "trains" for ten epochs on a synthetic learning curve whose final accuracy and speed
depend on the suggested hyperparameters. After every epoch the trial reports its accuracy; the
median pruner stops a trial whose accuracy is below the median of earlier trials at that epoch.
"""

from __future__ import annotations

import math
import random

import skipjack as optuna

N_EPOCHS = 10


def accuracy_after(epoch: int, n_layers: int, learning_rate: float, noise: random.Random) -> float:
    """Synthetic validation accuracy after ``epoch`` epochs (best near lr=1e-3, 3 layers)."""
    ceiling = 0.95 - 0.04 * abs(n_layers - 3) - 0.05 * abs(math.log10(learning_rate) + 3.0)
    speed = 0.25 + 0.1 * n_layers
    return ceiling * (1.0 - math.exp(-speed * (epoch + 1))) + noise.gauss(0.0, 0.005)


def objective_with_pruning(trial: optuna.Trial) -> float:
    """Train for ``N_EPOCHS`` epochs, reporting accuracy and honouring the pruner."""
    n_layers = trial.suggest_int("n_layers", 1, 5)
    learning_rate = trial.suggest_float("learning_rate", 1e-5, 1e-2, log=True)
    noise = random.Random(trial.number)  # seed per trial number, as the recipe advises

    accuracy = 0.0
    for epoch in range(N_EPOCHS):
        accuracy = accuracy_after(epoch, n_layers, learning_rate, noise)
        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise optuna.exceptions.TrialPruned()
    return accuracy


def main() -> None:
    """Run 50 trials with a median pruner and count how many were stopped early."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.RandomSampler(seed=7),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2),
    )
    study.optimize(objective_with_pruning, n_trials=50)

    states = optuna.trial.TrialState
    pruned = study.get_trials(deepcopy=False, states=(states.PRUNED,))
    complete = study.get_trials(deepcopy=False, states=(states.COMPLETE,))
    print(f"Finished trials: {len(study.trials)}")
    print(f"Pruned trials: {len(pruned)}")
    print(f"Complete trials: {len(complete)}")
    print(f"Best trial: {study.best_trial.value}")
    print(f"Best params: {study.best_trial.params}")


if __name__ == "__main__":
    main()

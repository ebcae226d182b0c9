"""Basic ablation study: try every optimizer, learning rate and schedule exactly once.

BruteForceSampler enumerates the 3 x 10 x 2 = 60 combinations and stops the study by itself when
all are done; the ablation report then shows, for each factor, the mean, best and count of the
score at each level (averaging over the other factors) and how much the factor matters.
"""

from __future__ import annotations

import skipjack as optuna
from skipjack.ablation import ablation_report

MOCK_SCORES = {"Adam": 0.9, "SGD": 0.85, "RMSprop": 0.88}


def objective(trial: optuna.Trial) -> float:
    """A mock training run: replace the score with your real metric."""
    optimizer = str(trial.suggest_categorical("optimizer", ["Adam", "SGD", "RMSprop"]))
    lr = trial.suggest_float("lr", 0.001, 0.01, step=0.001)
    lr_schedule = trial.suggest_categorical("lr_schedule", ["constant", "cosine"])
    return MOCK_SCORES[optimizer] + lr * 10 + (0.01 if lr_schedule == "cosine" else 0.0)


def main() -> None:
    """Run the exhaustive study and print its ablation report."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="basic-ablation",
        direction="maximize",
        sampler=optuna.samplers.BruteForceSampler(seed=0),
    )
    study.optimize(objective)  # no n_trials: the sampler stops after the last combination
    print(f"Total trials: {len(study.trials)}")
    print(f"Distinct combinations: {len({tuple(sorted(t.params.items())) for t in study.trials})}")
    print(ablation_report(study))


if __name__ == "__main__":
    main()

"""Conditional ablation study: Adam has beta1/beta2, SGD has momentum/nesterov.

The define-by-run objective only asks for the parameters of the chosen optimizer, and
BruteForceSampler walks every branch: (2 x 2 + 3 x 2) x 10 learning rates = 100 trials. In the
report, a conditional factor such as ``momentum`` is summarised over the trials that have it.
"""

from __future__ import annotations

import zlib

import skipjack as optuna
from skipjack.ablation import ablation_report


def objective(trial: optuna.Trial) -> float:
    """A mock score that depends on the whole configuration (deterministic across runs)."""
    optimizer = trial.suggest_categorical("optimizer", ["Adam", "SGD"])
    if optimizer == "Adam":
        beta1 = trial.suggest_categorical("beta1", [0.9, 0.95])
        beta2 = trial.suggest_categorical("beta2", [0.999, 0.9999])
        config = f"Adam(beta1={beta1}, beta2={beta2})"
    else:
        momentum = trial.suggest_categorical("momentum", [0.0, 0.9, 0.99])
        nesterov = trial.suggest_categorical("nesterov", [True, False])
        config = f"SGD(momentum={momentum}, nesterov={nesterov})"
    lr = trial.suggest_float("lr", 0.001, 0.01, step=0.001)
    return zlib.crc32(config.encode()) % 100 / 100 + lr


def main() -> None:
    """Run the exhaustive conditional study and print its ablation report."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="conditional-ablation",
        direction="maximize",
        sampler=optuna.samplers.BruteForceSampler(seed=0),
    )
    study.optimize(objective)
    adam = sum(1 for t in study.trials if t.params["optimizer"] == "Adam")
    print(f"Total trials: {len(study.trials)}")
    print(f"Adam trials: {adam}")
    print(f"SGD trials: {len(study.trials) - adam}")
    print(f"Distinct combinations: {len({tuple(sorted(t.params.items())) for t in study.trials})}")
    print(ablation_report(study))


if __name__ == "__main__":
    main()

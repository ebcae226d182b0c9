"""Callbacks: log only when the best value improves, and stop after N completed trials.

``logging_callback`` is the FAQ's recipe: it silences the library's per-trial log lines and
prints a line only when a trial improves on the best value, remembering the previous best in a
study user attribute. ``MaxTrialsCallback`` stops the study once enough trials have completed.
"""

from __future__ import annotations

import skipjack as optuna
from skipjack.study import MaxTrialsCallback
from skipjack.trial import TrialState


def objective(trial: optuna.Trial) -> float:
    """Minimise x ** 2 over [0, 1]."""
    x = trial.suggest_float("x", 0, 1)
    return x**2


def logging_callback(study: optuna.Study, frozen_trial: optuna.trial.FrozenTrial) -> None:
    """Print a line only when the study's best value changed with this trial."""
    previous_best_value = study.user_attrs.get("previous_best_value", None)
    if previous_best_value != study.best_value:
        study.set_user_attr("previous_best_value", study.best_value)
        print(
            f"Trial {frozen_trial.number} finished with best value: {frozen_trial.value} "
            f"and parameters: {frozen_trial.params}. "
        )


def main() -> None:
    """Run both callbacks on one study."""
    # Turn off the library's per-trial log lines.
    optuna.logging.set_verbosity(optuna.logging.WARN)

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    study.optimize(objective, n_trials=100, callbacks=[logging_callback])
    print(f"Trials after the first run: {len(study.trials)}")

    # Ask for 1000 more trials, but stop once 120 trials in total have completed.
    stop_at_120 = MaxTrialsCallback(120, states=(TrialState.COMPLETE,))
    study.optimize(objective, n_trials=1000, callbacks=[logging_callback, stop_at_120])
    print(f"Trials after MaxTrialsCallback stopped the study: {len(study.trials)}")


if __name__ == "__main__":
    main()

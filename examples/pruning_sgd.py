"""Pruning a scikit-learn SGD classifier epoch by epoch with SuccessiveHalvingPruner.

Each trial trains ``SGDClassifier`` on the handwritten digits that ship with scikit-learn, one
pass over the training set per epoch (``partial_fit``), and reports the validation accuracy
after every epoch. The successive-halving pruner stops trials that fall behind at its rungs, so
most of the budget goes to promising settings. Needs scikit-learn (``pip install scikit-learn``).
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

import skipjack as optuna

N_EPOCHS = 20


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scaled train/validation split of the digits data set, and the class labels."""
    x, y = load_digits(return_X_y=True)
    x_train, x_valid, y_train, y_valid = train_test_split(
        x, y, test_size=0.3, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(x_train)
    return scaler.transform(x_train), scaler.transform(x_valid), y_train, y_valid, np.unique(y)


X_TRAIN, X_VALID, Y_TRAIN, Y_VALID, CLASSES = load_data()


def objective(trial: optuna.Trial) -> float:
    """Validation accuracy after training; pruned trials stop at a rung."""
    alpha = trial.suggest_float("alpha", 1e-7, 1e-1, log=True)
    loss = trial.suggest_categorical("loss", ["hinge", "log_loss", "modified_huber"])
    eta0 = trial.suggest_float("eta0", 1e-4, 1.0, log=True)
    model = SGDClassifier(
        alpha=alpha, loss=loss, learning_rate="constant", eta0=eta0, random_state=trial.number
    )
    accuracy = 0.0
    for epoch in range(N_EPOCHS):
        model.partial_fit(X_TRAIN, Y_TRAIN, classes=CLASSES)
        accuracy = float(model.score(X_VALID, Y_VALID))
        trial.report(accuracy, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return accuracy


def main() -> None:
    """Run 40 trials and print how many were pruned and the best setting."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.SuccessiveHalvingPruner(),
    )
    study.optimize(objective, n_trials=40)
    pruned = study.get_trials(states=(optuna.trial.TrialState.PRUNED,))
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    epochs = sum(len(t.intermediate_values) for t in study.trials)
    print(f"Finished trials: {len(study.trials)}")
    print(f"Pruned trials: {len(pruned)}")
    print(f"Complete trials: {len(complete)}")
    print(f"Epochs trained: {epochs} of {len(study.trials) * N_EPOCHS}")
    print(f"Best accuracy: {study.best_value:.4f}")
    print(f"Best params: {study.best_params}")


if __name__ == "__main__":
    main()

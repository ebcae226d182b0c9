"""Quick start: tune a small regression model with a conditional search space.

The objective picks a model family first and only then asks for the parameters that family
needs (define-by-run), fits it on a synthetic noisy sine curve with plain NumPy, and returns the
validation error, with the default TPE sampler and the study stored in a SQLite file. Run it
with ``make example`` or ``python examples/quickstart.py``.
"""

from __future__ import annotations

import numpy as np

import skipjack as optuna

RNG = np.random.default_rng(0)
X_TRAIN = RNG.uniform(-3.0, 3.0, size=120)
Y_TRAIN = np.sin(X_TRAIN) + RNG.normal(0.0, 0.2, size=X_TRAIN.size)
X_VALID = RNG.uniform(-3.0, 3.0, size=60)
Y_VALID = np.sin(X_VALID) + RNG.normal(0.0, 0.2, size=X_VALID.size)


def ridge_predict(degree: int, alpha: float, x: np.ndarray) -> np.ndarray:
    """Fit polynomial ridge regression on the training set and predict at ``x``."""
    features = np.vander(X_TRAIN / 3.0, degree + 1)
    gram = features.T @ features + alpha * np.eye(degree + 1)
    coef = np.linalg.solve(gram, features.T @ Y_TRAIN)
    return np.vander(x / 3.0, degree + 1) @ coef


def knn_predict(n_neighbors: int, weighted: bool, x: np.ndarray) -> np.ndarray:
    """Predict with k nearest neighbours, optionally weighting by inverse distance."""
    distances = np.abs(x[:, None] - X_TRAIN[None, :])
    nearest = np.argsort(distances, axis=1)[:, :n_neighbors]
    targets = Y_TRAIN[nearest]
    if not weighted:
        return targets.mean(axis=1)
    weights = 1.0 / (np.take_along_axis(distances, nearest, axis=1) + 1e-9)
    return (weights * targets).sum(axis=1) / weights.sum(axis=1)


def objective(trial: optuna.Trial) -> float:
    """Return the validation mean squared error of the model the trial describes."""
    model = trial.suggest_categorical("model", ["ridge", "knn"])
    if model == "ridge":
        degree = trial.suggest_int("degree", 1, 12)
        alpha = trial.suggest_float("alpha", 1e-6, 1e2, log=True)
        prediction = ridge_predict(degree, alpha, X_VALID)
    else:
        n_neighbors = trial.suggest_int("n_neighbors", 1, 40)
        weighted = bool(trial.suggest_categorical("weighted", [False, True]))
        prediction = knn_predict(n_neighbors, weighted, X_VALID)
    return float(np.mean((prediction - Y_VALID) ** 2))


def main() -> None:
    """Run 60 trials on a study kept in ``quickstart.db`` and print the best trial so far."""
    # SQLite, the embedded default database: the study survives the process, and running the
    # script again resumes it (load_if_exists=True) with 60 more trials.
    study = optuna.create_study(
        study_name="quickstart",
        storage="sqlite:///quickstart.db",
        load_if_exists=True,
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=42),
    )
    study.optimize(objective, n_trials=60)

    print(f"Finished trials: {len(study.trials)}")
    print(f"Best trial: #{study.best_trial.number}")
    print(f"Best value: {study.best_value:.5f}")
    print(f"Best params: {study.best_params}")


if __name__ == "__main__":
    main()

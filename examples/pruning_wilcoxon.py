"""Wilcoxon pruning: stop a trial that is clearly worse than the best one, problem by problem.

The objective tunes a heuristic on a benchmark of problem instances and returns its average
cost. Each instance is evaluated in turn (in a shuffled order) and its cost reported with the
instance's id as the step. After each report, ``WilcoxonPruner`` pairs the trial's costs with
the best trial's costs on the same instances and runs a one-sided Wilcoxon signed-rank test; a
trial that is significantly worse stops early, having spent only part of the benchmark.

SciPy (a skipjack dependency) runs the test.
"""

from __future__ import annotations

import math
import random
import warnings

import skipjack as optuna

N_INSTANCES = 30


def make_instances(seed: int) -> list[tuple[float, float, float]]:
    """Synthetic problem instances: the best settings and the difficulty differ per instance."""
    rng = random.Random(seed)
    return [
        (rng.gauss(0.3, 0.1), rng.gauss(2.0, 0.5), rng.uniform(0.5, 2.0))
        for _ in range(N_INSTANCES)
    ]


INSTANCES = make_instances(0)


def solve(instance: tuple[float, float, float], cooling: float, restarts: int) -> float:
    """The cost the heuristic reaches on one instance (lower is better)."""
    best_cooling, best_log_restarts, difficulty = instance
    gap = (cooling - best_cooling) ** 2 + 0.05 * (math.log(restarts) - best_log_restarts) ** 2
    return difficulty * (1.0 + gap)


def objective(trial: optuna.Trial) -> float:
    """Average cost over the instances, reporting each one; pruned when clearly worse."""
    cooling = trial.suggest_float("cooling", 0.0, 1.0)
    restarts = trial.suggest_int("restarts", 1, 100, log=True)
    order = list(range(N_INSTANCES))
    random.Random(trial.number).shuffle(order)  # a different order per trial, as advised

    costs = []
    for instance_id in order:
        costs.append(solve(INSTANCES[instance_id], cooling, restarts))
        trial.report(costs[-1], instance_id)
        if trial.should_prune():
            trial.set_user_attr("instances_evaluated", len(costs))
            raise optuna.TrialPruned()
    trial.set_user_attr("instances_evaluated", len(costs))
    return sum(costs) / len(costs)


def main() -> None:
    """Run 60 trials and show how much of the benchmark the pruned ones skipped."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        pruner = optuna.pruners.WilcoxonPruner(p_threshold=0.1, n_startup_steps=5)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3), pruner=pruner)
    study.optimize(objective, n_trials=60)

    states = optuna.trial.TrialState
    pruned = study.get_trials(deepcopy=False, states=(states.PRUNED,))
    complete = study.get_trials(deepcopy=False, states=(states.COMPLETE,))
    evaluated = [t.user_attrs["instances_evaluated"] for t in pruned]
    print(f"Finished trials: {len(study.trials)}")
    print(f"Pruned trials: {len(pruned)}")
    print(f"Complete trials: {len(complete)}")
    if evaluated:
        mean = sum(evaluated) / len(evaluated)
        print(f"Instances evaluated per pruned trial: {mean:.1f} of {N_INSTANCES}")
    print(f"Best value: {study.best_value}")
    print(f"Best params: {study.best_params}")


if __name__ == "__main__":
    main()

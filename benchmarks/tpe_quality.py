"""TPE optimization quality: skipjack's TPESampler vs Optuna 5.0's, on problems neither wrote.

Problems:

- BBOB noiseless functions from COCO (``pip install coco-experiment``, module ``cocoex``),
  instance 1, box [-5, 5]^d, one ``suggest_float`` per coordinate. The figure is the final
  *regret*: the best value found minus the problem's optimal value f_opt (see ``_bbob.py`` for
  how f_opt is obtained and verified).
- Hyperparameter tuning of scikit-learn classifiers on datasets shipped with scikit-learn, in a
  conditional, mixed space (SVC / random forest / logistic regression, each with its own
  parameters). The figure is the best ``1 - mean 3-fold CV accuracy`` found (CV folds and model
  seeds are fixed, so the objective is deterministic).

Both libraries run every problem with the same seeds, ``TPESampler(seed=s)`` with all other
arguments at their defaults, logging silenced. Per problem: the median final figure of each
library over the seeds, a two-sided Mann-Whitney U test, and a verdict for skipjack: ``tie`` when
p >= alpha, else ``win`` when skipjack's median is lower and ``loss`` otherwise.

Usage::

    python benchmarks/tpe_quality.py                       # the defaults: about 7 CPU-min
    python benchmarks/tpe_quality.py --dimensions 2 5 10 --budgets 100 200 --seeds 10
    python benchmarks/tpe_quality.py --no-sklearn --jobs 2
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
import importlib
import importlib.metadata
import statistics
import sys
import time
from typing import Any
import warnings

from _common import format_table

LIBRARIES = ("skipjack", "optuna")
BBOB_FUNCTIONS = (1, 2, 8, 15, 16, 20, 21, 24)
DATASETS = ("digits", "breast_cancer", "wine")


@dataclass(frozen=True)
class Task:
    """One optimization run: a library, a problem, a budget and a seed."""

    library: str
    kind: str  # "bbob" or "sklearn"
    key: tuple[Any, ...]  # (function, dimension) or (dataset,)
    budget: int
    seed: int


def _quiet_library(name: str) -> Any:
    warnings.simplefilter("ignore")
    module = importlib.import_module(name)
    module.logging.set_verbosity(module.logging.WARNING)
    return module


def _bbob_objective(function: int, dimension: int) -> Callable[[Any], float]:
    from _bbob import evaluator

    f = evaluator(function, dimension)

    def objective(trial: Any) -> float:
        x = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(dimension)]
        return float(f(x))

    return objective


_DATA: dict[str, Any] = {}


def _dataset(name: str, max_samples: int) -> Any:
    """Features and labels of a scikit-learn toy dataset, stratified-subsampled if large."""
    if name not in _DATA:
        from sklearn import datasets
        from sklearn.model_selection import train_test_split

        x, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        if len(y) > max_samples:
            x, _, y, _ = train_test_split(x, y, train_size=max_samples, stratify=y, random_state=0)
        _DATA[name] = (x, y)
    return _DATA[name]


def _sklearn_objective(dataset: str, max_samples: int) -> Callable[[Any], float]:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    x, y = _dataset(dataset, max_samples)
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)

    def objective(trial: Any) -> float:
        kind = trial.suggest_categorical("classifier", ["svc", "forest", "logistic"])
        model: Any
        if kind == "svc":
            c = trial.suggest_float("svc_c", 1e-3, 1e3, log=True)
            gamma = trial.suggest_float("svc_gamma", 1e-5, 1e1, log=True)
            model = make_pipeline(StandardScaler(), SVC(C=c, gamma=gamma))
        elif kind == "forest":
            model = RandomForestClassifier(
                n_estimators=trial.suggest_int("rf_n_estimators", 10, 100, step=10),
                max_depth=trial.suggest_int("rf_max_depth", 2, 32, log=True),
                min_samples_leaf=trial.suggest_int("rf_min_samples_leaf", 1, 10),
                max_features=trial.suggest_categorical("rf_max_features", ["sqrt", "log2"]),
                random_state=0,
                n_jobs=1,
            )
        else:
            c = trial.suggest_float("lr_c", 1e-4, 1e2, log=True)
            model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=300))
        accuracy = cross_val_score(model, x, y, cv=folds, n_jobs=1).mean()
        return 1.0 - float(accuracy)

    return objective


def run_task(task: Task, max_samples: int) -> tuple[Task, float, float]:
    """Optimize one problem; return the task, the best value found and the wall time."""
    module = _quiet_library(task.library)
    if task.kind == "bbob":
        objective = _bbob_objective(*task.key)
    else:
        objective = _sklearn_objective(task.key[0], max_samples)
    sampler = module.samplers.TPESampler(seed=task.seed)
    study = module.create_study(sampler=sampler, direction="minimize")
    start = time.perf_counter()
    study.optimize(objective, n_trials=task.budget)
    return task, float(study.best_value), time.perf_counter() - start


def verdict(ours: list[float], theirs: list[float], alpha: float) -> tuple[float, str]:
    """Two-sided Mann-Whitney U p-value and skipjack's win/tie/loss (lower is better)."""
    from scipy.stats import mannwhitneyu

    if len(set(ours) | set(theirs)) == 1:  # all identical: the test is undefined
        return 1.0, "tie"
    p = float(mannwhitneyu(ours, theirs, alternative="two-sided").pvalue)
    if not p < alpha:
        return p, "tie"
    return p, "win" if statistics.median(ours) < statistics.median(theirs) else "loss"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, nargs="+", default=list(BBOB_FUNCTIONS))
    parser.add_argument("--dimensions", type=int, nargs="+", default=[2, 5])
    parser.add_argument("--budgets", type=int, nargs="+", default=[100])
    parser.add_argument("--seeds", type=int, default=5, help="N seeds, from --seed-start (BBOB)")
    parser.add_argument(
        "--seed-start", type=int, default=0, help="first seed of every problem (default 0)"
    )
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--sklearn-budget", type=int, default=50)
    parser.add_argument("--sklearn-seeds", type=int, default=5)
    parser.add_argument("--max-samples", type=int, default=500, help="subsample larger datasets")
    parser.add_argument("--no-bbob", action="store_true")
    parser.add_argument("--no-sklearn", action="store_true")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    args = parser.parse_args()

    problems: list[tuple[str, tuple[Any, ...], int, int, str, float]] = []
    if not args.no_bbob:
        from _bbob import load_problem

        for function in args.functions:
            for dimension in args.dimensions:
                f_opt = load_problem(function, dimension).f_opt
                for budget in args.budgets:
                    label = f"bbob f{function} d{dimension}"
                    problems.append(
                        ("bbob", (function, dimension), budget, args.seeds, label, f_opt)
                    )
    if not args.no_sklearn:
        for dataset in args.datasets:
            label = f"sklearn {dataset}"
            problems.append(
                ("sklearn", (dataset,), args.sklearn_budget, args.sklearn_seeds, label, 0.0)
            )

    tasks = [
        Task(library, kind, key, budget, seed)
        for kind, key, budget, n_seeds, _, _ in problems
        for seed in range(args.seed_start, args.seed_start + n_seeds)
        for library in LIBRARIES
    ]
    print(f"{len(tasks)} runs on {args.jobs} process(es) ...", file=sys.stderr)
    best: dict[Task, float] = {}
    seconds: dict[str, float] = dict.fromkeys(LIBRARIES, 0.0)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(run_task, task, args.max_samples) for task in tasks]
        for done, future in enumerate(futures, 1):
            task, value, elapsed = future.result()
            best[task] = value
            seconds[task.library] += elapsed
            if done % 20 == 0 or done == len(tasks):
                print(f"  {done}/{len(tasks)} runs done", file=sys.stderr)
    wall = time.perf_counter() - started

    header = ["problem", "budget", "seeds", "skipjack median", "Optuna median", "p", "verdict"]
    rows = []
    counts = {"win": 0, "tie": 0, "loss": 0}
    for kind, key, budget, n_seeds, label, f_opt in problems:
        runs: dict[str, list[float]] = {}
        for library in LIBRARIES:
            runs[library] = [
                best[Task(library, kind, key, budget, s)] - f_opt
                for s in range(args.seed_start, args.seed_start + n_seeds)
            ]
        p, outcome = verdict(runs["skipjack"], runs["optuna"], args.alpha)
        counts[outcome] += 1
        rows.append(
            [
                label,
                str(budget),
                str(n_seeds),
                f"{statistics.median(runs['skipjack']):.4g}",
                f"{statistics.median(runs['optuna']):.4g}",
                f"{p:.3f}",
                outcome,
            ]
        )
    versions = ", ".join(f"{lib} {importlib.metadata.version(lib)}" for lib in LIBRARIES)
    print(f"TPESampler(seed=s) defaults; {versions}")
    print("figure: BBOB = final regret f_best - f_opt; sklearn = best 1 - 3-fold CV accuracy\n")
    print(format_table(header, rows))
    print(
        f"\nskipjack: {counts['win']} win, {counts['tie']} tie, {counts['loss']} loss "
        f"(Mann-Whitney U two-sided, alpha={args.alpha})"
    )
    met = counts["loss"] == 0 and counts["win"] > 0
    print(f"target (no significant loss, a win on some): {'MET' if met else 'NOT MET'}")
    print(
        f"time inside optimize: skipjack {seconds['skipjack']:.1f} s, "
        f"optuna {seconds['optuna']:.1f} s; wall {wall:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""NSGA-II time and hypervolume: skipjack vs Optuna 5.0 at 1,000 trials, same problems, same seeds.

Problems (all objectives minimized):

- ``zdt1``: ZDT1 with 10 parameters in [0, 1]; hypervolume up to (1.1, 7.0).
- ``binh_korn``: the constrained Binh and Korn problem of Optuna's FAQ, with ``constraints_func``;
  hypervolume of the *feasible* trials up to (140, 50).
- ``mixed``: a float, a log float, an int with a step and a categorical; up to (60, 60).

Each (library, problem, seed) runs ``NSGAIISampler(seed=seed)`` at its defaults (population 50,
uniform crossover) in a fresh interpreter with in-memory storage. Hypervolumes are all computed
here by one function, from the values each worker returns.

Usage::

    python benchmarks/nsga.py                       # 1,000 trials, seeds 0-2
    python benchmarks/nsga.py --trials 2000 --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import math
from pathlib import Path
import sys
import time
from typing import Any

from _common import format_table
from _common import run_worker

LIBRARIES = ("skipjack", "optuna")
PROBLEMS: dict[str, tuple[float, float]] = {
    "zdt1": (1.1, 7.0),
    "binh_korn": (140.0, 50.0),
    "mixed": (60.0, 60.0),
}


def zdt1(trial: Any) -> tuple[float, float]:
    """ZDT1, 10 parameters; the front is f2 = 1 - sqrt(f1)."""
    x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(10)]
    g = 1.0 + 9.0 * sum(x[1:]) / 9.0
    return x[0], g * (1.0 - math.sqrt(x[0] / g))


def binh_korn(trial: Any) -> tuple[float, float]:
    """Binh and Korn with the FAQ's two constraints stored as a user attribute."""
    x = trial.suggest_float("x", -15, 30)
    y = trial.suggest_float("y", -15, 30)
    c0 = (x - 5) ** 2 + y**2 - 25
    c1 = -((x - 8) ** 2) - (y + 3) ** 2 + 7.7
    trial.set_user_attr("constraint", (c0, c1))
    return 4 * x**2 + 4 * y**2, (x - 5) ** 2 + (y - 5) ** 2


def mixed(trial: Any) -> tuple[float, float]:
    """Mixed parameter types, two conflicting objectives."""
    x = trial.suggest_float("x", -5.0, 5.0)
    lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
    n = trial.suggest_int("n", 0, 20, step=2)
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    bonus = {"a": 0.0, "b": 1.0, "c": 2.0}[kind]
    return x**2 + n + bonus + lr, (x - 2) ** 2 + (20 - n) + (2.0 - bonus) + 1.0 / lr / 100


def worker(library: str, problem: str, n_trials: int, seed: int) -> dict[str, Any]:
    """One run in this (fresh) interpreter: time and final objective values."""
    import warnings

    warnings.simplefilter("ignore")  # experimental / deprecation notices are not the workload
    module: Any = importlib.import_module(library)
    module.logging.set_verbosity(module.logging.WARNING)
    nsga: Any = getattr(module.samplers, "NSGAIISampler", None)
    if nsga is None and library == "skipjack":  # before the package exports it
        nsga = importlib.import_module("skipjack.samplers.nsgaii._sampler").NSGAIISampler
    kwargs: dict[str, Any] = {"seed": seed}
    if problem == "binh_korn":
        kwargs["constraints_func"] = lambda t: t.user_attrs["constraint"]
    study = module.create_study(directions=["minimize", "minimize"], sampler=nsga(**kwargs))
    func = {"zdt1": zdt1, "binh_korn": binh_korn, "mixed": mixed}[problem]
    start = time.perf_counter()
    study.optimize(func, n_trials=n_trials)
    total = time.perf_counter() - start
    points = []
    for t in study.trials:
        feasible = all(c <= 0 for c in t.user_attrs.get("constraint", ()))
        if t.values is not None and feasible:
            points.append(list(t.values))
    return {
        "library": library,
        "version": importlib.metadata.version(library),
        "total_s": total,
        "points": points,
    }


def hypervolume(points: list[list[float]], reference: tuple[float, float]) -> float:
    """Hypervolume of ``points`` (minimized) up to ``reference``."""
    import numpy as np

    from skipjack._hypervolume import compute_hypervolume

    if not points:
        return 0.0
    return compute_hypervolume(np.array(points), np.array(reference))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=PROBLEMS)
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()
    script = Path(__file__).resolve()
    rows = []
    wins = ties = losses = 0
    time_ratios = []
    versions: dict[str, str] = {}
    for problem in args.problems:
        for seed in args.seeds:
            runs: dict[str, dict[str, Any]] = {}
            for library in LIBRARIES:
                print(f"running {library} NSGA-II on {problem}, seed {seed} ...", file=sys.stderr)
                run = run_worker(
                    script, [library, problem, str(args.trials), str(seed)], timeout=args.timeout
                )
                runs[library] = run
                if "version" in run:
                    versions[library] = run["version"]
            if any("error" in r for r in runs.values()):
                errors = "; ".join(f"{k}: {r['error']}" for k, r in runs.items() if "error" in r)
                rows.append([problem, str(seed), "error", errors, "", "", ""])
                continue
            hv = {lib: hypervolume(r["points"], PROBLEMS[problem]) for lib, r in runs.items()}
            ratio = runs["optuna"]["total_s"] / runs["skipjack"]["total_s"]
            time_ratios.append(ratio)
            relative = (hv["skipjack"] - hv["optuna"]) / max(abs(hv["optuna"]), 1e-12)
            if abs(relative) <= 0.01:
                ties += 1
            elif relative > 0:
                wins += 1
            else:
                losses += 1
            rows.append(
                [
                    problem,
                    str(seed),
                    f"{runs['skipjack']['total_s']:.2f}",
                    f"{runs['optuna']['total_s']:.2f}",
                    f"{ratio:.1f}x",
                    f"{hv['skipjack']:.4g}",
                    f"{hv['optuna']:.4g}",
                ]
            )
    header = ["problem", "seed", "skipjack s", "optuna s", "speed-up", "HV skipjack", "HV optuna"]
    libs = ", ".join(f"{k} {v}" for k, v in versions.items())
    print(f"NSGAIISampler defaults, {args.trials:,} trials, in-memory ({libs})\n")
    print(format_table(header, rows))
    if time_ratios:
        geo = math.exp(sum(math.log(r) for r in time_ratios) / len(time_ratios))
        print(f"\nspeed-up (Optuna time / skipjack time): geometric mean {geo:.1f}x")
    print(
        "hypervolume, skipjack vs Optuna (tie within 1%): "
        f"{wins} wins, {ties} ties, {losses} losses"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, lib, prob, trials, seed_arg = sys.argv
        print(json.dumps(worker(lib, prob, int(trials), int(seed_arg))))
    else:
        sys.exit(main())

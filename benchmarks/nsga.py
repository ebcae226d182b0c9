"""NSGA-II time and hypervolume: skipjack vs Optuna 5.0 at 1,000 trials, same problems, same seeds.

Problems (all two objectives, minimized):

- ``biobj-fNN-dD``: functions of COCO's ``bbob-biobj`` suite (``cocoex``, coco-experiment 2.8),
  instance 1, dimension D, one ``suggest_float(-5, 5)`` per coordinate. COCO reports
  [-100, 100] as the problems' bounds, but both single-objective optima of every bbob-biobj
  problem lie in [-5, 5]^D, the bbob search domain, which 1,000 trials can cover.
  Hypervolume follows COCO's biobjective indicator: each objective is normalized so that the
  problem's ideal point maps to 0 and its nadir point to 1, and the reference point is the nadir,
  (1, 1). The nadir comes from the suite (``problem.largest_fvalues_of_interest``); the ideal
  point is the pair of optimal values f_opt of the two bbob functions the problem combines
  (named in ``problem.name``), found as ``_bbob.load_problem`` does. So the largest possible
  hypervolume is 1 and the figures of different problems are comparable.
- ``binh_korn``: the constrained Binh and Korn problem of Optuna's FAQ, with
  ``constraints_func``; hypervolume of the *feasible* trials up to the fixed point (140, 50).
- ``zdt1``: ZDT1 with 10 parameters in [0, 1]; hypervolume up to (1.1, 7.0).
- ``mixed``: a float, a log float, an int with a step and a categorical; up to (60, 60).

Each (library, problem, seed) runs ``NSGAIISampler(seed=seed)`` at its defaults (population 50,
uniform crossover) in a fresh interpreter with in-memory storage, logging silenced; the time is
the wall time (and the CPU time) of ``study.optimize``. Hypervolumes are all computed here, by
one function, from the objective values each worker returns.

Per problem: median hypervolume of each library over the seeds, a two-sided Mann-Whitney U test
on the two sets (``tie`` when p >= 0.05, else ``win`` or ``loss`` for skipjack by the medians),
and the median over seeds of the time ratio Optuna / skipjack, with PASS when it is at least 5.

Usage::

    python benchmarks/nsga.py                                  # every problem, seeds 0-4
    python benchmarks/nsga.py --seeds 0 1 2 --problems binh_korn biobj-f01-d2
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
import math
from pathlib import Path
import statistics
import sys
import time
from typing import Any

from _common import format_table
from _common import run_worker

LIBRARIES = ("skipjack", "optuna")
TARGET = 5.0
BIOBJ_FUNCTIONS = (1, 2, 6, 10, 20)
BIOBJ_DIMENSIONS = (2, 5)
# Fixed reference points of the problems that are not normalized.
REFERENCES: dict[str, tuple[float, float]] = {
    "binh_korn": (140.0, 50.0),
    "zdt1": (1.1, 7.0),
    "mixed": (60.0, 60.0),
}
PROBLEMS = [f"biobj-f{f:02d}-d{d}" for d in BIOBJ_DIMENSIONS for f in BIOBJ_FUNCTIONS] + list(
    REFERENCES
)


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


def _parse_biobj(problem: str) -> tuple[int, int]:
    """``"biobj-f06-d5"`` -> (6, 5)."""
    _, function, dimension = problem.split("-")
    return int(function[1:]), int(dimension[1:])


def _biobj_problem(function: int, dimension: int) -> tuple[Any, Any]:
    """``(suite, problem)`` of bbob-biobj instance 1; keep the suite alive with the problem."""
    import cocoex

    options = f"function_indices:{function} dimensions:{dimension} instance_indices:1"
    suite = cocoex.Suite("bbob-biobj", "", options)
    return suite, suite.get_problem_by_function_dimension_instance(function, dimension, 1)


def biobj_bounds(problem: str) -> tuple[list[float], list[float]]:
    """The ideal and nadir points of a bbob-biobj problem (see the module docstring)."""
    from _bbob import load_problem

    function, dimension = _parse_biobj(problem)
    _suite, coco = _biobj_problem(function, dimension)
    nadir = [float(v) for v in coco.largest_fvalues_of_interest]
    # e.g. "bbob_f001_i02_d02__bbob_f014_i04_d02": the two single-objective problems combined.
    ideal = []
    for part in coco.name.split("__"):
        _, f, i, _ = part.split("_")
        ideal.append(load_problem(int(f[1:]), dimension, int(i[1:])).f_opt)
    return ideal, nadir


def _objective(problem: str) -> tuple[Any, Any]:
    """The objective function of ``problem`` and whatever must stay alive while it runs."""
    if not problem.startswith("biobj-"):
        return {"zdt1": zdt1, "binh_korn": binh_korn, "mixed": mixed}[problem], None
    function, dimension = _parse_biobj(problem)
    suite, coco = _biobj_problem(function, dimension)

    def biobj(trial: Any) -> tuple[float, float]:
        x = [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(dimension)]
        f1, f2 = coco(x)
        return float(f1), float(f2)

    return biobj, (suite, coco)


def worker(library: str, problem: str, n_trials: int, seed: int) -> dict[str, Any]:
    """One run in this (fresh) interpreter: time and final objective values."""
    import warnings

    warnings.simplefilter("ignore")  # experimental / deprecation notices are not the workload
    module: Any = importlib.import_module(library)
    module.logging.set_verbosity(module.logging.WARNING)
    nsga: Any = module.samplers.NSGAIISampler
    kwargs: dict[str, Any] = {"seed": seed}
    if problem == "binh_korn":
        kwargs["constraints_func"] = lambda t: t.user_attrs["constraint"]
    func, _alive = _objective(problem)
    study = module.create_study(directions=["minimize", "minimize"], sampler=nsga(**kwargs))
    start, start_cpu = time.perf_counter(), time.process_time()
    study.optimize(func, n_trials=n_trials)
    total, total_cpu = time.perf_counter() - start, time.process_time() - start_cpu
    points = []
    for t in study.trials:
        feasible = all(c <= 0 for c in t.user_attrs.get("constraint", ()))
        if t.values is not None and feasible:
            points.append(list(t.values))
    return {
        "library": library,
        "version": importlib.metadata.version(library),
        "total_s": total,
        "cpu_s": total_cpu,
        "points": points,
    }


def hypervolume(points: list[list[float]], reference: tuple[float, float]) -> float:
    """Two-objective hypervolume of ``points`` (minimized) up to ``reference``.

    Written here rather than taken from either library, so both are measured by the same code.
    """
    inside = sorted((p[0], p[1]) for p in points if p[0] < reference[0] and p[1] < reference[1])
    volume, best_f2 = 0.0, reference[1]
    # Sweep by increasing f1: each point adds the slab below the best f2 seen so far.
    for i, (f1, f2) in enumerate(inside):
        if f2 < best_f2:
            best_f2 = f2
        next_f1 = inside[i + 1][0] if i + 1 < len(inside) else reference[0]
        volume += (next_f1 - f1) * (reference[1] - best_f2)
    return volume


def normalized(
    points: list[list[float]], ideal: list[float], nadir: list[float]
) -> list[list[float]]:
    """Map each objective so that ``ideal`` -> 0 and ``nadir`` -> 1 (COCO's normalization)."""
    return [[(v - lo) / (hi - lo) for v, lo, hi in zip(p, ideal, nadir)] for p in points]


def _verdict(ours: list[float], theirs: list[float]) -> tuple[str, float]:
    """Mann-Whitney U verdict for skipjack (higher hypervolume is better) and the p value."""
    from scipy.stats import mannwhitneyu

    if ours == theirs or len(ours) < 2 or len(theirs) < 2:
        return "tie", 1.0
    p = float(mannwhitneyu(ours, theirs, alternative="two-sided").pvalue)
    if math.isnan(p) or p >= 0.05:  # NaN: every value equal
        return "tie", 1.0 if math.isnan(p) else p
    return ("win" if statistics.median(ours) > statistics.median(theirs) else "loss"), p


def _run_problem(
    script: Path, problem: str, args: argparse.Namespace, versions: dict[str, str]
) -> dict[str, Any] | str:
    """Run every seed of ``problem`` on both libraries; the figures, or an error message."""
    if problem.startswith("biobj-"):
        ideal, nadir = biobj_bounds(problem)
        reference = (1.0, 1.0)
    else:
        reference = REFERENCES[problem]
    hv: dict[str, list[float]] = {lib: [] for lib in LIBRARIES}
    seconds: dict[str, list[float]] = {lib: [] for lib in LIBRARIES}
    cpu: dict[str, list[float]] = {lib: [] for lib in LIBRARIES}
    ratios: list[float] = []
    for seed in args.seeds:
        runs: dict[str, dict[str, Any]] = {}
        for library in LIBRARIES:
            print(f"running {library} NSGA-II on {problem}, seed {seed} ...", file=sys.stderr)
            run = run_worker(
                script, [library, problem, str(args.trials), str(seed)], timeout=args.timeout
            )
            if "error" in run:
                return f"{library}: {run['error']}"
            versions[library] = run["version"]
            runs[library] = run
        for library, run in runs.items():
            points = run["points"]
            if problem.startswith("biobj-"):
                points = normalized(points, ideal, nadir)
            hv[library].append(hypervolume(points, reference))
            seconds[library].append(run["total_s"])
            cpu[library].append(run["cpu_s"])
        ratios.append(runs["optuna"]["total_s"] / runs["skipjack"]["total_s"])
    verdict, p = _verdict(hv["skipjack"], hv["optuna"])
    cpu_ratios = [o / s for o, s in zip(cpu["optuna"], cpu["skipjack"])]
    return {
        "hv": {k: statistics.median(v) for k, v in hv.items()},
        "p": p,
        "verdict": verdict,
        "seconds": {k: statistics.median(v) for k, v in seconds.items()},
        "ratio": statistics.median(ratios),
        "cpu_ratio": statistics.median(cpu_ratios),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--problems", nargs="+", default=PROBLEMS, choices=PROBLEMS)
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()
    script = Path(__file__).resolve()
    rows = []
    tally = {"win": 0, "tie": 0, "loss": 0}
    ratios: list[float] = []
    versions: dict[str, str] = {}
    for problem in args.problems:
        result = _run_problem(script, problem, args, versions)
        if isinstance(result, str):
            rows.append([problem, "error", result, "", "", "", "", "", "", ""])
            continue
        tally[result["verdict"]] += 1
        ratios.append(result["ratio"])
        rows.append(
            [
                problem,
                f"{result['hv']['skipjack']:.4g}",
                f"{result['hv']['optuna']:.4g}",
                f"{result['p']:.3g}",
                result["verdict"],
                f"{result['seconds']['skipjack']:.3f}",
                f"{result['seconds']['optuna']:.3f}",
                f"{result['ratio']:.1f}x",
                f"{result['cpu_ratio']:.1f}x",
                "PASS" if result["ratio"] >= TARGET else "MISS",
            ]
        )
        print(" | ".join(rows[-1]), file=sys.stderr, flush=True)
    header = [
        "problem",
        "HV skipjack",
        "HV optuna",
        "MWU p",
        "HV verdict",
        "skipjack s",
        "optuna s",
        "time ratio",
        "CPU ratio",
        f">= {TARGET:g}x",
    ]
    libs = ", ".join(f"{k} {v}" for k, v in versions.items())
    seeds = ", ".join(map(str, args.seeds))
    print(f"NSGAIISampler defaults, {args.trials:,} trials, seeds {seeds}, in-memory ({libs})")
    print("medians over the seeds; time ratio = Optuna time / skipjack time (wall clock)\n")
    print(format_table(header, rows))
    if ratios:
        passed = sum(r >= TARGET for r in ratios)
        print(
            f"\ntime ratio: median {statistics.median(ratios):.1f}x, lowest {min(ratios):.1f}x; "
            f"{passed} of {len(ratios)} problems at >= {TARGET:g}x"
        )
    print(
        f"hypervolume, skipjack vs Optuna (Mann-Whitney U, p < 0.05): {tally['win']} win / "
        f"{tally['tie']} tie / {tally['loss']} loss"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, lib, prob, trials, seed_arg = sys.argv
        print(json.dumps(worker(lib, prob, int(trials), int(seed_arg))))
    else:
        sys.exit(main())

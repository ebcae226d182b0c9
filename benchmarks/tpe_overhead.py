"""TPE cost per trial: skipjack vs Optuna 5.0 vs Rustuna on the same optimize loop.

The workload is the one of ``overhead.py`` with each library's ``TPESampler`` at its defaults
(seeded): in-memory storage, five mixed parameters (a float, a log-scale float, an int, an int
with a step, a categorical) and negligible arithmetic, so the sampler dominates. With
``--multi-objective`` the objective returns two values (both minimized) and the samplers run
their multi-objective TPE. Every (library, trial count) runs in a fresh interpreter.

Usage::

    python benchmarks/tpe_overhead.py                         # 1,000 trials, all libraries
    python benchmarks/tpe_overhead.py --trials 1000 5000      # Optuna takes minutes at 5,000
    python benchmarks/tpe_overhead.py --multi-objective
    python benchmarks/tpe_overhead.py --libraries skipjack optuna
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import json
from pathlib import Path
import sys
import time
from typing import Any

from _common import format_table
from _common import run_worker

LIBRARIES = ("skipjack", "optuna", "rustuna")


def _suggest(trial: Any) -> tuple[float, float, int, int, str]:
    """Five mixed parameters."""
    x = trial.suggest_float("x", -10.0, 10.0)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    depth = trial.suggest_int("depth", 1, 32)
    units = trial.suggest_int("units", 16, 512, step=16)
    activation = trial.suggest_categorical("activation", ["relu", "tanh", "gelu"])
    return x, lr, depth, units, activation


def objective(trial: Any) -> float:
    """Five mixed parameters and cheap arithmetic."""
    x, lr, depth, units, activation = _suggest(trial)
    return x * x + 100.0 * lr + 0.01 * depth + 0.001 * units + (activation == "tanh")


def objective2(trial: Any) -> tuple[float, float]:
    """The same parameters, two conflicting objectives (no ``trial.params``: Rustuna's trial
    lacks it)."""
    x, lr, depth, units, activation = _suggest(trial)
    first = x * x + 100.0 * lr + 0.01 * depth + 0.001 * units + (activation == "tanh")
    return first, (x - 3.0) ** 2 + 0.05 * depth


def worker(library: str, n_trials: int, multi: bool) -> dict[str, Any]:
    """One measurement in this (fresh) interpreter."""
    import warnings

    warnings.simplefilter("ignore")  # experimental / deprecation notices are not the workload
    # One-time imports are not per-trial cost: Optuna imports SciPy in ``import optuna``,
    # skipjack on its first suggestion; load it before the clock starts for every library.
    importlib.import_module("scipy.special")
    module: Any = importlib.import_module(library)
    if library != "rustuna":
        module.logging.set_verbosity(module.logging.WARNING)
    tpe: Any = getattr(module.samplers, "TPESampler", None)
    if tpe is None and library == "skipjack":  # before the package exports it
        tpe = importlib.import_module("skipjack.samplers._tpe._sampler").TPESampler
    sampler = tpe(seed=0)
    if multi:
        study = module.create_study(sampler=sampler, directions=["minimize", "minimize"])
    else:
        study = module.create_study(sampler=sampler)
    func = objective2 if multi else objective
    stamps: list[float] = []

    def wrapped(trial: Any) -> Any:
        value = func(trial)
        stamps.append(time.perf_counter())
        return value

    cpu_start = time.process_time()
    start = time.perf_counter()
    study.optimize(wrapped, n_trials=n_trials)
    end = time.perf_counter()
    cpu = time.process_time() - cpu_start
    if len(stamps) != n_trials:
        raise RuntimeError(f"{library} evaluated {len(stamps)} trials, expected {n_trials}")
    tenth = max(1, n_trials // 10)
    values = [t.values for t in study.trials]
    best = min(v[0] for v in values if v is not None)
    return {
        "library": library,
        "version": importlib.metadata.version(library),
        "trials": n_trials,
        "total_s": end - start,
        "cpu_s": cpu,
        "ms_first_tenth": (stamps[tenth - 1] - start) / tenth * 1e3,
        "ms_last_tenth": (stamps[-1] - stamps[-tenth - 1]) / tenth * 1e3,
        "best_first_objective": best,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[1000])
    parser.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    parser.add_argument("--multi-objective", action="store_true")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()
    script = Path(__file__).resolve()
    mode = "multi" if args.multi_objective else "single"
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for n in args.trials:
        for library in args.libraries:
            print(f"running {library} TPE ({mode}) with {n:,} trials ...", file=sys.stderr)
            results[(library, n)] = run_worker(
                script, [library, str(n), mode], timeout=args.timeout
            )
    header = [
        "library",
        "trials",
        "total s",
        "CPU s",
        "ms/trial, first 10%",
        "ms/trial, last 10%",
        "skipjack speed-up",
        "CPU speed-up",
        "best value",
    ]
    rows = []
    for (library, n), r in results.items():
        if "error" in r:
            rows.append([library, f"{n:,}", "error: " + r["error"], "", "", "", "", "", ""])
            continue
        ours = results.get(("skipjack", n), {})
        ratio = cpu_ratio = ""
        if "total_s" in ours and library != "skipjack":
            ratio = f"{r['total_s'] / ours['total_s']:.1f}x"
            cpu_ratio = f"{r['cpu_s'] / ours['cpu_s']:.1f}x"
        rows.append(
            [
                f"{library} {r['version']}",
                f"{n:,}",
                f"{r['total_s']:.2f}",
                f"{r['cpu_s']:.2f}",
                f"{r['ms_first_tenth']:.3f}",
                f"{r['ms_last_tenth']:.3f}",
                ratio,
                cpu_ratio,
                f"{r['best_first_objective']:.4g}",
            ]
        )
    objectives = "2 objectives" if args.multi_objective else "1 objective"
    print(f"TPESampler(seed=0) defaults, in-memory, 5 mixed parameters, {objectives}\n")
    print(format_table(header, rows))
    print(
        "\n'skipjack speed-up': that library's total (wall) time / skipjack's; 'CPU speed-up'"
        " the same in CPU time of the process, steadier on a shared machine."
    )
    for line in _verdicts(results, args.multi_objective):
        print(line)
    return 0


def _verdicts(results: dict[tuple[str, int], dict[str, Any]], multi: bool) -> list[str]:
    """The issue's targets beside the measured wall-time ratios (PASS/MISS)."""
    lines = []
    for (library, n), r in results.items():
        ours = results.get(("skipjack", n), {})
        if library == "skipjack" or "total_s" not in r or "total_s" not in ours:
            continue
        ratio = r["total_s"] / ours["total_s"]
        if library == "optuna" and (multi and n == 1000 or not multi and n == 5000):
            target = 10.0 if multi else 20.0
            verdict = "PASS" if ratio >= target else "MISS"
            lines.append(f"target {target:.0f}x Optuna at {n:,} trials: {ratio:.1f}x {verdict}")
        if library == "rustuna" and not multi and n == 5000:
            verdict = "PASS" if ratio > 1.0 else "MISS"
            lines.append(f"target faster than Rustuna at 5,000 trials: {ratio:.2f}x {verdict}")
    return lines


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _, _, lib, trials, kind = sys.argv
        print(json.dumps(worker(lib, int(trials), kind == "multi")))
    else:
        sys.exit(main())

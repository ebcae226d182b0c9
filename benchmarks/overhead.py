"""Framework overhead per trial: skipjack vs Optuna 5.0 vs Rustuna on the same optimize loop.

The workload isolates what the framework itself costs: a seeded random sampler, in-memory
storage, and an objective with five mixed parameters (two floats, one on a log scale; an int; an
int with a step; a categorical) whose arithmetic is negligible. Every (library, trial count)
measurement runs in its own fresh interpreter, once for timing and once more under tracemalloc
for peak memory, so the libraries never share a heap or a garbage collector.

Usage::

    python benchmarks/overhead.py                    # 1,000 and 10,000 trials, all libraries
    python benchmarks/overhead.py --trials 1000      # quicker
    python benchmarks/overhead.py --strict           # exit 1 when a target is missed
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import gc
import importlib
import importlib.metadata
import json
import os
from pathlib import Path
import platform
import resource
import sys
import time
import tracemalloc
from typing import Any

from _common import format_table
from _common import import_seconds
from _common import run_worker

LIBRARIES = ("skipjack", "optuna", "rustuna")

# Targets from the core issue.
TARGET_SPEEDUP_VS_OPTUNA = 10.0  # skipjack at least 10x less time per trial than Optuna
TARGET_SLOWDOWN_VS_RUSTUNA = 3.0  # skipjack within 3x of Rustuna's time per trial


def objective(trial: Any) -> float:
    """Five mixed parameters and cheap arithmetic: the framework dominates the cost."""
    x = trial.suggest_float("x", -10.0, 10.0)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    depth = trial.suggest_int("depth", 1, 32)
    units = trial.suggest_int("units", 16, 512, step=16)
    activation = trial.suggest_categorical("activation", ["relu", "tanh", "gelu"])
    return x * x + 100.0 * lr + 0.01 * depth + 0.001 * units + (activation == "tanh")


def _make_study(library: str) -> Any:
    """A minimizing in-memory study with the library's seeded random sampler."""
    module: Any = importlib.import_module(library)
    if library != "rustuna":  # Rustuna logs nothing per trial
        module.logging.set_verbosity(module.logging.WARNING)
    return module.create_study(sampler=module.samplers.RandomSampler(seed=0))


def _stamped(objective_fn: Callable[[Any], float], stamps: list[float]) -> Callable[[Any], float]:
    """Wrap the objective to record when each trial's evaluation ends.

    Rustuna's optimize takes no callbacks, so the stamp is taken at the end of the objective for
    every library alike; the gap between consecutive stamps is one whole trial (tell, ask,
    sampling and the objective), which is what the first- and last-tenth figures need.
    """

    def wrapped(trial: Any) -> float:
        value = objective_fn(trial)
        stamps.append(time.perf_counter())
        return value

    return wrapped


def worker(library: str, n_trials: int, mode: str) -> dict[str, Any]:
    """Run one measurement in this (fresh) interpreter and return its figures."""
    study = _make_study(library)
    stamps: list[float] = []
    wrapped = _stamped(objective, stamps)
    gc.collect()
    if mode == "memory":
        tracemalloc.start()
    start = time.perf_counter()
    study.optimize(wrapped, n_trials=n_trials)
    end = time.perf_counter()
    peak = tracemalloc.get_traced_memory()[1] if mode == "memory" else None
    if mode == "memory":
        tracemalloc.stop()
    n_finished = len(study.trials)
    if n_finished != n_trials or len(stamps) != n_trials:
        raise RuntimeError(
            f"{library} ran {n_finished} trials, {len(stamps)} stamped; expected {n_trials}"
        )
    tenth = max(1, n_trials // 10)
    return {
        "library": library,
        "version": _version(library),
        "trials": n_trials,
        "total_s": end - start,
        "us_per_trial": (end - start) / n_trials * 1e6,
        "us_first_tenth": (stamps[tenth - 1] - start) / tenth * 1e6,
        "us_last_tenth": (stamps[-1] - stamps[-tenth - 1]) / tenth * 1e6,
        "tracemalloc_peak_mib": None if peak is None else peak / 2**20,
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "best_value": float(study.best_trial.value),
    }


def _version(library: str) -> str:
    try:
        return importlib.metadata.version(library)
    except importlib.metadata.PackageNotFoundError:
        return getattr(sys.modules[library], "__version__", "?")


def _fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}{unit}"


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


Results = dict[tuple[str, int], dict[str, Any]]


def measure(libraries: list[str], trial_counts: list[int], repeat: int) -> Results:
    """Time each (library, N) ``repeat`` times, keep the fastest run, then trace its memory."""
    script = Path(__file__).resolve()
    results: Results = {}
    for n in trial_counts:
        for library in libraries:
            print(f"running {library} with {n:,} trials ...", file=sys.stderr, flush=True)
            runs = [run_worker(script, [library, str(n), "time"]) for _ in range(repeat)]
            failed = [r for r in runs if "error" in r]
            if failed:
                results[(library, n)] = failed[0]
                continue
            best = min(runs, key=lambda r: r["total_s"])
            memory = run_worker(script, [library, str(n), "memory"])
            best["tracemalloc_peak_mib"] = memory.get("tracemalloc_peak_mib")
            results[(library, n)] = best
    return results


def print_results(results: Results) -> None:
    """One row per (library, N) with time per trial overall, early and late, and memory."""
    header = [
        "library",
        "trials",
        "total s",
        "µs/trial",
        "µs/trial, first 10%",
        "µs/trial, last 10%",
        "peak MiB (tracemalloc)",
        "max RSS MiB",
    ]
    rows, errors = [], []
    for (library, n), r in results.items():
        if "error" in r:
            rows.append([library, f"{n:,}", "error", "", "", "", "", ""])
            errors.append(f"{library}, {n:,} trials: {r['error']}")
            continue
        rows.append(
            [
                f"{library} {r['version']}",
                f"{n:,}",
                _fmt(r["total_s"], 3),
                _fmt(r["us_per_trial"]),
                _fmt(r["us_first_tenth"]),
                _fmt(r["us_last_tenth"]),
                _fmt(r["tracemalloc_peak_mib"], 2) + ("*" if library == "rustuna" else ""),
                _fmt(r["max_rss_mib"]),
            ]
        )
    print("Overhead per trial: RandomSampler(seed=0), in-memory storage, 5 mixed parameters\n")
    print(format_table(header, rows))
    print("\n* Rustuna allocates in Rust, which tracemalloc does not see; compare max RSS for it.")
    for error in errors:
        print(f"ERROR {error}")


def _figure(results: Results, library: str, n: int, key: str) -> float | None:
    r = results.get((library, n), {})
    return None if "error" in r or r.get(key) is None else float(r[key])


def print_targets(
    results: Results, trial_counts: list[int], imports: dict[str, float | None], import_repeat: int
) -> int:
    """Print each target beside the measured figure; return how many targets were missed."""
    rows: list[list[str]] = []

    def check(name: str, measured: str, target: str, ok: bool | None) -> None:
        rows.append([name, measured, target, _verdict(ok)])

    for n in trial_counts:
        sk, op, ru = (_figure(results, lib, n, "us_per_trial") for lib in LIBRARIES)
        speedup = op / sk if sk and op else None
        check(
            f"{n:,} trials: time per trial, optuna / skipjack",
            _fmt(speedup, unit="x"),
            f">= {TARGET_SPEEDUP_VS_OPTUNA:g}x",
            None if speedup is None else speedup >= TARGET_SPEEDUP_VS_OPTUNA,
        )
        slowdown = sk / ru if sk and ru else None
        check(
            f"{n:,} trials: time per trial, skipjack / rustuna",
            _fmt(slowdown, unit="x"),
            f"<= {TARGET_SLOWDOWN_VS_RUSTUNA:g}x",
            None if slowdown is None else slowdown <= TARGET_SLOWDOWN_VS_RUSTUNA,
        )
        sk_mem = _figure(results, "skipjack", n, "tracemalloc_peak_mib")
        op_mem = _figure(results, "optuna", n, "tracemalloc_peak_mib")
        check(
            f"{n:,} trials: peak memory, skipjack vs optuna",
            f"{_fmt(sk_mem, 2)} vs {_fmt(op_mem, 2)} MiB",
            "skipjack <= optuna",
            None if sk_mem is None or op_mem is None else sk_mem <= op_mem,
        )
    sk_imp, op_imp = imports.get("skipjack"), imports.get("optuna")
    check(
        f"import time (fresh interpreter, best of {import_repeat})",
        ", ".join(f"{lib} {_fmt(s, 3, ' s')}" for lib, s in imports.items()),
        "skipjack <= optuna",
        None if sk_imp is None or op_imp is None else sk_imp <= op_imp,
    )
    print("\nTargets\n")
    print(format_table(["measure", "measured", "target", "verdict"], rows))
    return sum(row[-1] == "MISS" for row in rows)


def main(argv: list[str] | None = None) -> int:
    """Measure every library at every trial count, print the figures and the targets."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--libraries", nargs="+", choices=LIBRARIES, default=list(LIBRARIES))
    parser.add_argument("--repeat", type=int, default=3, help="timing runs; the fastest counts")
    parser.add_argument("--import-repeat", type=int, default=5)
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--worker", nargs=3, metavar=("LIB", "N", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if min(args.trials) < 10:
        parser.error("--trials needs at least 10 trials per run (first and last tenth)")

    if args.worker:
        library, n, mode = args.worker
        print(json.dumps(worker(library, int(n), mode)))
        return 0

    print(f"Python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs\n")
    results = measure(args.libraries, args.trials, args.repeat)
    imports = {lib: import_seconds(lib, args.import_repeat) for lib in args.libraries}
    print_results(results)
    misses = print_targets(results, args.trials, imports, args.import_repeat)
    return 1 if args.strict and misses else 0


if __name__ == "__main__":
    sys.exit(main())

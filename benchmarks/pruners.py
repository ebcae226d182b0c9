"""Pruning decisions per second: skipjack vs Optuna 5.0, MedianPruner and SuccessiveHalvingPruner.

The workload: an in-memory study already holding 1,000 finished trials that reported 100 steps
each (``--trials``, ``--steps``), built identically in both libraries with ``add_trials``. For
successive halving the finished trials carry the ``completed_rung_<k>`` records that a sequential
run of the algorithm would have left (simulated here, outside the timed part). Then ``--new``
further trials run in turn: each reports its learning curve step by step and calls
``trial.should_prune()`` after every report, stopping when told to. Only ``should_prune`` calls
are timed; decisions per second is their count over their total time.

Each (library, pruner) runs ``--repeat`` times, each in a fresh interpreter, and the fastest run
counts. The two libraries must make the same decisions (the script compares a digest of them)
so that the ratio compares equal work.

Usage::

    python benchmarks/pruners.py                  # 1,000 trials x 100 steps
    python benchmarks/pruners.py --trials 200     # quicker
    python benchmarks/pruners.py --strict         # exit 1 when the 10x target is missed
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import math
from pathlib import Path
import random
import sys
import time
from typing import Any

from _common import format_table
from _common import run_worker

LIBRARIES = ("skipjack", "optuna")
PRUNERS = ("median", "successive_halving")
TARGET_SPEEDUP = 10.0  # skipjack decisions per second at least 10x Optuna's

# Successive halving settings: rungs end at steps 1, 4, 16 and 64.
SHA_MIN_RESOURCE = 1
SHA_REDUCTION_FACTOR = 4


def curve(number: int, n_steps: int) -> list[float]:
    """A noisy decreasing learning curve (a loss), fixed by the trial number."""
    rng = random.Random(number)
    floor = rng.uniform(0.0, 1.0)
    speed = rng.uniform(0.02, 0.3)
    return [floor + math.exp(-speed * step) + rng.gauss(0.0, 0.01) for step in range(n_steps)]


def sha_history(n_trials: int, n_steps: int) -> list[tuple[int, dict[str, float]]]:
    """Run asynchronous successive halving naively over the finished trials' curves, one trial
    after another; return each trial's last step and rung records."""
    rungs: list[list[float]] = []
    out = []
    for number in range(n_trials):
        values = curve(number, n_steps)
        records: dict[str, float] = {}
        last = n_steps - 1
        rung = 0
        while True:
            end = SHA_MIN_RESOURCE * SHA_REDUCTION_FACTOR**rung
            if end >= n_steps:
                break
            value = values[end]
            records[f"completed_rung_{rung}"] = value
            if len(rungs) <= rung:
                rungs.append([])
            rung_values = sorted([*rungs[rung], value])
            rungs[rung].append(value)
            cut = rung_values[max(len(rung_values) // SHA_REDUCTION_FACTOR - 1, 0)]
            if value > cut:
                last = end
                break
            rung += 1
        out.append((last, records))
    return out


def _build_study(lib: Any, pruner_name: str, n_trials: int, n_steps: int) -> Any:
    if pruner_name == "median":
        pruner = lib.pruners.MedianPruner()
    else:
        pruner = lib.pruners.SuccessiveHalvingPruner(
            min_resource=SHA_MIN_RESOURCE, reduction_factor=SHA_REDUCTION_FACTOR
        )
    study = lib.create_study(study_name="bench", pruner=pruner)
    dist = lib.distributions.FloatDistribution(0.0, 1.0)
    trials = []
    history: list[tuple[int, dict[str, float]]]
    if pruner_name == "median":
        history = [(n_steps - 1, {}) for _ in range(n_trials)]
    else:
        history = sha_history(n_trials, n_steps)
    for number, (last, records) in enumerate(history):
        values = curve(number, n_steps)[: last + 1]
        complete = last == n_steps - 1
        trials.append(
            lib.trial.create_trial(
                state=lib.trial.TrialState.COMPLETE if complete else lib.trial.TrialState.PRUNED,
                value=values[-1] if complete else None,
                params={"x": 0.5},
                distributions={"x": dist},
                intermediate_values=dict(enumerate(values)),
                system_attrs=records,
            )
        )
    study.add_trials(trials)
    return study


def worker(library: str, pruner_name: str, n_trials: int, n_steps: int, n_new: int) -> dict:
    """Build the study, then time should_prune over ``n_new`` new trials."""
    lib: Any = importlib.import_module(library)
    lib.logging.set_verbosity(lib.logging.WARNING)
    study = _build_study(lib, pruner_name, n_trials, n_steps)
    decisions: list[bool] = []
    elapsed = 0.0
    clock = time.perf_counter
    # The first new trial is not timed, in either library: skipjack loads the finished trials
    # into its incremental readers there, a cost a real study pays one trial at a time as they
    # finish. The trials after it, and their finishing, are timed.
    for number in range(n_trials, n_trials + 1 + n_new):
        timed = number > n_trials
        trial = study.ask()
        pruned = False
        for step, value in enumerate(curve(number, n_steps)):
            trial.report(value, step)
            start = clock()
            pruned = trial.should_prune()
            if timed:
                elapsed += clock() - start
                decisions.append(bool(pruned))
            if pruned:
                break
        if pruned:
            study.tell(trial, state=lib.trial.TrialState.PRUNED)
        else:
            study.tell(trial, value)
    digest = hashlib.sha256(bytes(decisions)).hexdigest()[:16]
    return {"decisions": len(decisions), "seconds": elapsed, "digest": digest}


def _fastest(script: Path, args: list[str], repeat: int) -> dict[str, Any]:
    """The fastest of ``repeat`` runs of a worker, each in a fresh interpreter."""
    runs = [run_worker(script, args) for _ in range(max(repeat, 1))]
    ok = [r for r in runs if "error" not in r]
    return min(ok, key=lambda r: r["seconds"]) if ok else runs[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000, help="finished trials in the study")
    parser.add_argument("--steps", type=int, default=100, help="steps per trial")
    parser.add_argument("--new", type=int, default=200, help="timed new trials")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row; the fastest counts")
    parser.add_argument("--pruners", nargs="+", choices=PRUNERS, default=list(PRUNERS))
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--worker", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        library, pruner_name, n_trials, n_steps, n_new = args.worker
        result = worker(library, pruner_name, int(n_trials), int(n_steps), int(n_new))
        print(json.dumps(result))
        return

    script = Path(__file__).resolve()
    rows = []
    missed = False
    for pruner_name in args.pruners:
        worker_args = [pruner_name, str(args.trials), str(args.steps), str(args.new)]
        results = {lib: _fastest(script, [lib, *worker_args], args.repeat) for lib in LIBRARIES}
        ours, theirs = results["skipjack"], results["optuna"]
        for lib in LIBRARIES:
            r = results[lib]
            if "error" in r:
                rows.append([pruner_name, lib, "error", r["error"], "", ""])
                continue
            rate = r["decisions"] / r["seconds"]
            rows.append(
                [pruner_name, lib, f"{r['decisions']:,}", f"{rate:,.0f}", f"{1e6 / rate:.1f}", ""]
            )
        if "error" in ours or "error" in theirs:
            missed = True
            continue
        if ours["digest"] != theirs["digest"] or ours["decisions"] != theirs["decisions"]:
            rows[-1][-1] = "DECISIONS DIFFER"
            missed = True
            continue
        ratio = (ours["decisions"] / ours["seconds"]) / (theirs["decisions"] / theirs["seconds"])
        verdict = "PASS" if ratio >= TARGET_SPEEDUP else "MISS"
        missed |= ratio < TARGET_SPEEDUP
        rows[-2][-1] = f"{ratio:.1f}x ({verdict}, target {TARGET_SPEEDUP:.0f}x)"

    print(
        f"Pruning decisions: {args.trials:,} finished trials x {args.steps} steps, "
        f"{args.new} new trials timed (should_prune only), fastest of {args.repeat} runs\n"
    )
    header = ["pruner", "library", "decisions", "decisions/s", "µs/decision", "skipjack vs Optuna"]
    print(format_table(header, rows))
    if args.strict and missed:
        sys.exit(1)


if __name__ == "__main__":
    main()

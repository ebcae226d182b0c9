"""GPSampler: skipjack vs Optuna 5.0, time of a long study and regret on BBOB, side by side.

Both libraries run ``GPSampler(seed=s)`` with every other argument at its default, in-memory
storage, logging silenced, each study in a fresh interpreter (``_common.run_worker``) with torch,
SciPy and COCO imported before the clock starts. Optuna's GPSampler needs torch, and without
greenlet it runs its batched L-BFGS-B one start at a time (it logs a warning saying so); install
both, as Optuna's ``optional`` extra does (``pip install torch==2.13.0 greenlet``). skipjack's
GPSampler uses NumPy and SciPy only. Each result row records whether greenlet was importable.

Part (a), time: one study of ``--time-trials`` (200) trials on BBOB f1 (the sphere) in
``--time-dimension`` (5) dimensions. Printed per library: wall and CPU time of
``study.optimize``, wall time per trial over the first and the last tenth of the trials (from a
timestamp taken as each objective returns), and the ratios Optuna / skipjack. Both samplers
compute on one thread (Optuna limits torch to one thread while it optimizes; skipjack limits
BLAS), so on a loaded machine the CPU ratio is the steadier figure; the target is on wall time.

Part (b), quality: BBOB noiseless functions (``_bbob.py``), instance 1, box [-5, 5]^d, one
``suggest_float`` per coordinate, ``--budget`` trials. Per problem: the median final *regret*
(best value minus f_opt) of each library over the seeds, a two-sided Mann-Whitney U p-value, a
verdict for skipjack (``tie`` when p >= alpha, else ``win`` for the lower median, ``loss``
otherwise) and the medians of the per-seed wall and CPU time ratios Optuna / skipjack.

Optuna's GP is slow (minutes per study), so ``--results FILE`` appends every finished study to a
JSON-lines file and reuses what the file already holds for the same (library, function,
dimension, seed, trials); ``--fresh skipjack`` re-runs that library's studies anyway (after a
change to skipjack), keeping Optuna's, and ``--libraries`` with no name only prints the tables
from the file. An Optuna study of 100 trials took 40-200 s here (2 loaded cores), skipjack's
2-15 s.

Usage::

    python benchmarks/gp.py --results gp.jsonl               # the issue's figures, hours
    python benchmarks/gp.py --no-quality                     # part (a) only, minutes
    python benchmarks/gp.py --no-time --dimensions 2 --functions 1 15 --seeds 3 --jobs 2
    python benchmarks/gp.py --results gp.jsonl --fresh skipjack   # after changing skipjack
    python benchmarks/gp.py --results gp.jsonl --libraries        # tables only
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor
import importlib.metadata
import json
from pathlib import Path
import statistics
import sys
import threading
import time
from typing import Any

from _common import format_table
from _common import run_worker

LIBRARIES = ("skipjack", "optuna")
BBOB_FUNCTIONS = (1, 2, 8, 15, 16, 20, 21, 24)
SCRIPT = Path(__file__).resolve()
TIME_TARGET = 5.0


def worker(library: str, function: int, dimension: int, seed: int, n_trials: int) -> None:
    """Run one study and print its wall and CPU seconds, regret and per-trial timestamps as JSON
    on the last line."""
    import importlib
    import importlib.util
    import warnings

    warnings.simplefilter("ignore")
    sys.path.insert(0, str(SCRIPT.parent))
    from _bbob import evaluator
    from _bbob import load_problem

    problem = load_problem(function, dimension)
    f = evaluator(function, dimension)
    lib = importlib.import_module(library)
    lib.logging.set_verbosity(lib.logging.ERROR)
    # Import the numerics both libraries load lazily, so the clock sees only the sampling.
    import scipy.optimize  # noqa: F401
    import scipy.stats  # noqa: F401

    if library == "optuna":
        import torch  # noqa: F401

    stamps: list[float] = []

    def objective(trial: Any) -> float:
        value = float(f([trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(dimension)]))
        stamps.append(time.perf_counter())
        return value

    study = lib.create_study(sampler=lib.samplers.GPSampler(seed=seed))
    start, cpu_start = time.perf_counter(), time.process_time()
    study.optimize(objective, n_trials=n_trials)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    out = {
        "seconds": seconds,
        # Both samplers compute on one thread, so CPU time is the figure least bent by load.
        "cpu_seconds": cpu_seconds,
        "regret": study.best_value - problem.f_opt,
        "stamps": [s - start for s in stamps],
        # Without greenlet Optuna runs its batched L-BFGS-B sequentially (slower).
        "greenlet": importlib.util.find_spec("greenlet") is not None,
    }
    print(json.dumps(out))


Key = tuple[str, int, int, int, int]  # library, function, dimension, seed, trials


class ResultStore:
    """Finished studies, optionally mirrored to a JSON-lines file (thread-safe appends)."""

    def __init__(self, path: Path | None, fresh: set[str]) -> None:
        self._path = path
        self._lock = threading.Lock()
        self.results: dict[Key, dict[str, Any]] = {}
        if path is not None and path.exists():
            for line in path.read_text().splitlines():
                row = json.loads(line)
                key: Key = (
                    row["library"],
                    row["function"],
                    row["dimension"],
                    row["seed"],
                    row["trials"],
                )
                if row["library"] not in fresh:
                    self.results[key] = row

    def add(self, key: Key, out: dict[str, Any]) -> None:
        """Record one finished study (and append it to the file)."""
        library, function, dimension, seed, trials = key
        row = dict(
            out, library=library, function=function, dimension=dimension, seed=seed, trials=trials
        )
        with self._lock:
            self.results[key] = row
            if self._path is not None:
                with self._path.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")


def run_all(keys: list[Key], store: ResultStore, jobs: int, timeout: float) -> None:
    """Run every study of ``keys`` the store does not hold yet, ``jobs`` at a time."""
    todo = [k for k in keys if k not in store.results]
    if not todo:
        return
    print(f"{len(todo)} studies to run on {jobs} process(es) ...", file=sys.stderr, flush=True)
    done = [0]

    def one(key: Key) -> None:
        out = run_worker(SCRIPT, [str(v) for v in key], timeout=timeout)
        done[0] += 1
        if "error" in out:
            print(f"  {key}: {out['error']}", file=sys.stderr, flush=True)
            return
        store.add(key, out)
        print(
            f"  [{done[0]}/{len(todo)}] {key[0]} f{key[1]} d{key[2]} seed {key[3]}: "
            f"{out['seconds']:.1f} s, regret {out['regret']:.4g}",
            file=sys.stderr,
            flush=True,
        )

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, todo))


def _per_trial_ms(stamps: list[float], first: bool) -> float:
    """Milliseconds per trial over the first or the last tenth of the trials."""
    tenth = max(len(stamps) // 10, 1)
    if first:
        return 1000.0 * stamps[tenth - 1] / tenth
    return 1000.0 * (stamps[-1] - stamps[-tenth - 1]) / tenth


def time_report(store: ResultStore, keys: dict[str, Key]) -> bool | None:
    """Print part (a) and return whether the time target is met (None when not measurable)."""
    header = ["library", "trials", "total s", "CPU s", "ms/trial first 10%", "ms/trial last 10%"]
    rows = []
    for library, key in keys.items():
        out = store.results.get(key)
        if out is None:
            rows.append([library, str(key[4]), "error", "", "", ""])
            continue
        rows.append(
            [
                library,
                str(key[4]),
                f"{out['seconds']:.1f}",
                f"{out['cpu_seconds']:.1f}" if "cpu_seconds" in out else "n/a",
                f"{_per_trial_ms(out['stamps'], True):.1f}",
                f"{_per_trial_ms(out['stamps'], False):.1f}",
            ]
        )
    print(f"(a) time: BBOB f1 (sphere) d{keys['skipjack'][2]}, {keys['skipjack'][4]} trials\n")
    print(format_table(header, rows))
    ours, theirs = (store.results.get(keys[lib]) for lib in LIBRARIES)
    if ours is None or theirs is None:
        return None
    ratio = theirs["seconds"] / ours["seconds"]
    met = ratio >= TIME_TARGET
    print(f"\ntime ratio Optuna / skipjack: {ratio:.1f}x (wall)", end="")
    if "cpu_seconds" in ours and "cpu_seconds" in theirs:
        print(f", {theirs['cpu_seconds'] / ours['cpu_seconds']:.1f}x (CPU)", end="")
    print(f"; Optuna with greenlet: {theirs.get('greenlet', False)}")
    print(f"target: at least {TIME_TARGET:.0f}x less time ... {'PASS' if met else 'MISS'}\n")
    return met


def verdict(ours: list[float], theirs: list[float], alpha: float) -> tuple[float, str]:
    """Two-sided Mann-Whitney U p-value and skipjack's win/tie/loss (lower regret is better)."""
    from scipy.stats import mannwhitneyu

    if len(set(ours) | set(theirs)) == 1:  # all identical: the test is undefined
        return 1.0, "tie"
    p = float(mannwhitneyu(ours, theirs, alternative="two-sided").pvalue)
    if not p < alpha:
        return p, "tie"
    return p, "win" if statistics.median(ours) < statistics.median(theirs) else "loss"


def _median_ratio(pairs: list[tuple[dict[str, Any], dict[str, Any]]], field: str) -> float | None:
    """Median over seeds of Optuna's ``field`` over skipjack's (None if a run lacks it)."""
    if not all(field in a and field in b for a, b in pairs):
        return None
    return statistics.median(b[field] / a[field] for a, b in pairs)


def quality_report(
    store: ResultStore, problems: list[tuple[int, int]], seeds: list[int], budget: int, alpha: float
) -> bool | None:
    """Print part (b) and return whether no problem is a significant loss (None: no tests)."""
    header = [
        "problem",
        "seeds",
        "skipjack regret",
        "Optuna regret",
        "p",
        "verdict",
        "skipjack s",
        "Optuna s",
        "time ratio",
        "CPU ratio",
    ]
    rows = []
    counts = {"win": 0, "tie": 0, "loss": 0}
    ratios: list[float] = []
    for function, dimension in problems:
        paired = [
            (
                store.results.get(("skipjack", function, dimension, s, budget)),
                store.results.get(("optuna", function, dimension, s, budget)),
            )
            for s in seeds
        ]
        pairs = [(a, b) for a, b in paired if a is not None and b is not None]
        label = f"f{function} d{dimension}"
        if not pairs:
            rows.append([label, "0", *["n/a"] * (len(header) - 2)])
            continue
        ours = [a["regret"] for a, _ in pairs]
        theirs = [b["regret"] for _, b in pairs]
        p_text, outcome = "n/a", "n/a"  # one seed: medians only, no test
        if len(pairs) > 1:
            p, outcome = verdict(ours, theirs, alpha)
            p_text = f"{p:.3f}"
            counts[outcome] += 1
        ratio = _median_ratio(pairs, "seconds")
        cpu_ratio = _median_ratio(pairs, "cpu_seconds")
        assert ratio is not None
        ratios.append(ratio)
        rows.append(
            [
                label,
                str(len(pairs)),
                f"{statistics.median(ours):.4g}",
                f"{statistics.median(theirs):.4g}",
                p_text,
                outcome,
                f"{statistics.median(a['seconds'] for a, _ in pairs):.1f}",
                f"{statistics.median(b['seconds'] for _, b in pairs):.1f}",
                f"{ratio:.1f}x",
                "n/a" if cpu_ratio is None else f"{cpu_ratio:.1f}x",
            ]
        )
    print(f"(b) quality: BBOB, budget {budget}, final regret f_best - f_opt (median over seeds)\n")
    print(format_table(header, rows))
    if not ratios:
        return None
    print(
        f"\nskipjack: {counts['win']} win, {counts['tie']} tie, {counts['loss']} loss "
        f"(Mann-Whitney U two-sided, alpha={alpha}, problems with 2+ seeds); median time ratio "
        f"{statistics.median(ratios):.1f}x (range {min(ratios):.1f}x-{max(ratios):.1f}x)"
    )
    if sum(counts.values()) == 0:
        print("target: equal or better regret ... not tested (fewer than 2 seeds per problem)")
        return None
    met = counts["loss"] == 0
    print(f"target: equal or better regret (no significant loss) ... {'PASS' if met else 'MISS'}")
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=5, metavar="ARG", help=argparse.SUPPRESS)
    parser.add_argument("--functions", type=int, nargs="+", default=list(BBOB_FUNCTIONS))
    parser.add_argument("--dimensions", type=int, nargs="+", default=[2, 5])
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1")
    parser.add_argument("--seed-list", type=int, nargs="+", help="explicit seeds (overrides)")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--time-trials", type=int, default=200)
    parser.add_argument("--time-dimension", type=int, default=5)
    parser.add_argument("--no-time", action="store_true", help="skip part (a)")
    parser.add_argument("--no-quality", action="store_true", help="skip part (b)")
    parser.add_argument(
        "--libraries",
        nargs="*",
        default=list(LIBRARIES),
        choices=LIBRARIES,
        help="libraries to run now; none: only report what --results holds",
    )
    parser.add_argument("--results", type=Path, help="JSON-lines file of finished studies")
    parser.add_argument(
        "--fresh",
        nargs="*",
        default=[],
        choices=LIBRARIES,
        help="ignore --results rows of these libraries",
    )
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per study")
    args = parser.parse_args()
    if args.worker:
        library, function, dimension, seed, n_trials = args.worker
        worker(library, int(function), int(dimension), int(seed), int(n_trials))
        return 0

    store = ResultStore(args.results, set(args.fresh))
    seeds = args.seed_list if args.seed_list else list(range(args.seeds))
    problems = [(f, d) for d in args.dimensions for f in args.functions]
    time_keys: dict[str, Key] = {
        lib: (lib, 1, args.time_dimension, 0, args.time_trials) for lib in LIBRARIES
    }
    keys: list[Key] = []
    if not args.no_time:
        keys += [time_keys[lib] for lib in LIBRARIES if lib in args.libraries]
    if not args.no_quality:
        keys += [
            (lib, f, d, s, args.budget)
            for f, d in problems
            for s in seeds
            for lib in LIBRARIES
            if lib in args.libraries
        ]
    started = time.perf_counter()
    run_all(keys, store, args.jobs, args.timeout)
    wall = time.perf_counter() - started

    versions = ", ".join(f"{lib} {importlib.metadata.version(lib)}" for lib in LIBRARIES)
    try:
        versions += f", torch {importlib.metadata.version('torch')}"
    except importlib.metadata.PackageNotFoundError:
        versions += ", torch not installed"
    print(f"GPSampler(seed=s) defaults; {versions}; wall {wall:.0f} s\n")
    if not args.no_time:
        time_report(store, time_keys)
    if not args.no_quality:
        quality_report(store, problems, seeds, args.budget, args.alpha)
    return 0


if __name__ == "__main__":
    sys.exit(main())

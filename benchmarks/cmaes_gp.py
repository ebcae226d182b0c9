"""CMA-ES and GP samplers: skipjack vs Optuna 5.0, time and final regret side by side.

Problems are BBOB noiseless functions from COCO (``cocoex``, see ``_bbob.py``), instance 1, box
[-5, 5]^d, one ``suggest_float`` per coordinate; the figure of quality is the final *regret*
(best value found minus f_opt). Every run happens in a fresh interpreter (``_common.run_worker``)
so neither library warms the other's caches; the time is the wall time of ``study.optimize`` with
an in-memory storage, logging silenced, after ``cmaes`` and SciPy have been imported. Both
libraries get the same seeds and default arguments (``CmaEsSampler(seed=s)``,
``GPSampler(seed=s)``).

Per problem and sampler: median time and regret of each library over the seeds, the time ratio
(Optuna / skipjack, of the median wall times; PASS when at least 5x), the same ratio of CPU times
(steadier than wall time on a shared machine), and a verdict on regret for skipjack from a
two-sided Mann-Whitney U test: ``tie`` when p >= 0.05, else ``win`` (lower median) or ``loss``.

Usage::

    python benchmarks/cmaes_gp.py                                   # the issue's budgets
    python benchmarks/cmaes_gp.py --cmaes-trials 200 --gp-trials 40 --seeds 2 \\
        --functions 1 8 15 --dimensions 5                           # a quick look
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
import statistics
import sys
import time
from typing import Any

from _common import format_table
from _common import run_worker

BBOB_FUNCTIONS = (1, 2, 8, 15, 16, 20, 21, 24)
TARGET = 5.0  # time ratio Optuna / skipjack to reach
SCRIPT = Path(__file__).resolve()


def _sampler(library: str, kind: str, seed: int) -> Any:
    import importlib

    lib = importlib.import_module(library)
    name = "CmaEsSampler" if kind == "cmaes" else "GPSampler"
    cls = getattr(lib.samplers, name, None)
    if cls is None:  # skipjack before the lead exports the new samplers
        module = importlib.import_module(
            f"skipjack.samplers._{'cmaes' if kind == 'cmaes' else 'gp'}"
        )
        cls = getattr(module, name)
    return lib, cls(seed=seed)


def worker(library: str, kind: str, function: int, dimension: int, seed: int, n: int) -> None:
    """Run one study and print ``{"seconds", "regret"}`` as JSON."""
    import warnings

    warnings.simplefilter("ignore")
    sys.path.insert(0, str(SCRIPT.parent))
    from _bbob import evaluator
    from _bbob import load_problem

    problem = load_problem(function, dimension)
    f = evaluator(function, dimension)
    lib, sampler = _sampler(library, kind, seed)
    lib.logging.set_verbosity(lib.logging.ERROR)

    def objective(trial: Any) -> float:
        return float(f([trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(dimension)]))

    # Both libraries import their numerics lazily; import them before the clock starts so the
    # time is the sampler's work, not a one-off import of SciPy.
    import cmaes  # noqa: F401
    import scipy.optimize  # noqa: F401
    import scipy.stats  # noqa: F401

    study = lib.create_study(sampler=sampler)
    start, start_cpu = time.perf_counter(), time.process_time()
    study.optimize(objective, n_trials=n)
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    regret = study.best_value - problem.f_opt
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "regret": regret}))


def _verdict(ours: list[float], theirs: list[float]) -> str:
    from scipy.stats import mannwhitneyu

    if ours == theirs or len(ours) < 2:
        return "tie"
    p = mannwhitneyu(ours, theirs, alternative="two-sided").pvalue
    if p >= 0.05:
        return "tie"
    return "win" if statistics.median(ours) < statistics.median(theirs) else "loss"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=6, metavar="ARG", help=argparse.SUPPRESS)
    parser.add_argument("--samplers", nargs="+", default=["cmaes", "gp"], choices=["cmaes", "gp"])
    parser.add_argument("--functions", type=int, nargs="+", default=list(BBOB_FUNCTIONS))
    parser.add_argument("--dimensions", type=int, nargs="+", default=[2, 5])
    parser.add_argument("--cmaes-trials", type=int, default=1000)
    parser.add_argument("--gp-trials", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1")
    args = parser.parse_args()
    if args.worker:
        library, kind, function, dimension, seed, n = args.worker
        worker(library, kind, int(function), int(dimension), int(seed), int(n))
        return 0

    header = [
        "sampler / problem",
        "trials",
        "skipjack s",
        "optuna s",
        "time ratio",
        "CPU ratio",
        f">= {TARGET:g}x",
        "skipjack regret",
        "optuna regret",
        "verdict",
    ]
    rows: list[list[str]] = []
    ratios: list[float] = []
    tally = {"win": 0, "tie": 0, "loss": 0}
    for kind in args.samplers:
        n = args.cmaes_trials if kind == "cmaes" else args.gp_trials
        for dimension in args.dimensions:
            for function in args.functions:
                results: dict[str, list[dict[str, Any]]] = {"skipjack": [], "optuna": []}
                for seed in range(args.seeds):
                    for library in results:
                        out = run_worker(
                            SCRIPT,
                            [library, kind, str(function), str(dimension), str(seed), str(n)],
                        )
                        if "error" in out:
                            print(f"{library} {kind} f{function} d{dimension}: {out['error']}")
                            continue
                        results[library].append(out)
                if not results["skipjack"]:
                    continue
                times = {
                    k: statistics.median(r["seconds"] for r in v) for k, v in results.items() if v
                }
                cpu = {
                    k: statistics.median(r.get("cpu_seconds", math.nan) for r in v)
                    for k, v in results.items()
                    if v
                }
                regrets = {k: [r["regret"] for r in v] for k, v in results.items() if v}
                if "optuna" in times:
                    verdict = _verdict(regrets["skipjack"], regrets["optuna"])
                    tally[verdict] += 1
                    ratio = f"{times['optuna'] / times['skipjack']:.1f}x"
                    cpu_ratio = f"{cpu['optuna'] / cpu['skipjack']:.1f}x"
                    passed = "PASS" if times["optuna"] / times["skipjack"] >= TARGET else "MISS"
                    ratios.append(times["optuna"] / times["skipjack"])
                    theirs = [
                        f"{times['optuna']:.2f}",
                        f"{statistics.median(regrets['optuna']):.3g}",
                    ]
                else:  # Optuna could not run it (its GPSampler needs torch)
                    verdict, ratio, theirs = "n/a", "n/a", ["n/a", "n/a"]
                    cpu_ratio, passed = "n/a", "n/a"
                rows.append(
                    [
                        f"{kind} f{function} d{dimension}",
                        str(n),
                        f"{times['skipjack']:.2f}",
                        theirs[0],
                        ratio,
                        cpu_ratio,
                        passed,
                        f"{statistics.median(regrets['skipjack']):.3g}",
                        theirs[1],
                        verdict,
                    ]
                )
                print(rows[-1], flush=True)
    print()
    print(format_table(header, rows))
    if ratios:
        passed_count = sum(r >= TARGET for r in ratios)
        print(
            f"\ntime ratio: median {statistics.median(ratios):.1f}x, lowest {min(ratios):.1f}x; "
            f"{passed_count} of {len(ratios)} problems at >= {TARGET:g}x"
        )
    print(f"skipjack regret: {tally['win']} win / {tally['tie']} tie / {tally['loss']} loss")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Exhaustive search: skipjack vs Optuna 5.0 BruteForceSampler, speed and exactly-once coverage.

Part 1 (speed): one process, in-memory storage, a two-level space of ``--sizes`` combinations
(default 1,000 and 10,000; 10 values of ``a`` times ``N / 10`` of ``b``) and a trivial objective.
Reports wall time per library and the speed-up (target: at least 10x).

Part 2 (coverage): ``--workers`` processes (default 4) share one study on a journal file and on
SQLite, each running ``study.optimize`` with BruteForceSampler until it stops by itself, over a
conditional space of about ``--multi-combos`` combinations (default 200) with a short sleep per
trial so the workers overlap. Reports, per library and storage, the trials, the duplicated
evaluations (COMPLETE trials beyond the first per combination) and the combinations never
evaluated (target: 0 and 0).

Every measurement runs in fresh interpreters. Usage::

    python benchmarks/exhaustive.py
    python benchmarks/exhaustive.py --sizes 200,1000 --multi-combos 60   # quicker
"""

from __future__ import annotations

import argparse
from collections import Counter
import json
from pathlib import Path
import subprocess
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import format_table  # noqa: E402
from _common import run_worker  # noqa: E402

LIBRARIES = ("skipjack", "optuna")
SCRIPT = Path(__file__).resolve()


def _lib(name: str) -> tuple[Any, Any]:
    """The library module and its BruteForceSampler class."""
    import importlib

    mod = importlib.import_module(name)
    mod.logging.set_verbosity(mod.logging.ERROR)
    sampler_cls = getattr(mod.samplers, "BruteForceSampler", None)
    if sampler_cls is None:  # before skipjack.samplers exports it
        from skipjack.samplers._brute_force import BruteForceSampler as sampler_cls
    import warnings

    warnings.simplefilter("ignore")
    return mod, sampler_cls


def _storage(mod: Any, kind: str, location: str) -> Any:
    if kind == "journal":
        return mod.storages.JournalStorage(mod.storages.journal.JournalFileBackend(location))
    return mod.storages.RDBStorage(location)


def _multi_objective_factory(n_b: int) -> Any:
    def objective(trial: Any) -> float:
        kind = trial.suggest_categorical("kind", ["small", "large"])
        if kind == "small":
            b = trial.suggest_int("b_small", 0, n_b // 2 - 1)
        else:
            b = trial.suggest_int("b_large", 0, n_b - 1)
        c = trial.suggest_int("c", 0, 3)
        time.sleep(0.005)
        return float(b + c)

    return objective


def _multi_all(n_b: int) -> set[tuple[Any, ...]]:
    small = {("small", b, c) for b in range(n_b // 2) for c in range(4)}
    return small | {("large", b, c) for b in range(n_b) for c in range(4)}


def _combo(params: dict[str, Any]) -> tuple[Any, ...]:
    b = params.get("b_small", params.get("b_large"))
    return (params["kind"], b, params["c"])


# ---- workers -------------------------------------------------------------------------------
def _worker_single(lib: str, n: int) -> dict[str, Any]:
    mod, sampler_cls = _lib(lib)
    n_b = max(1, n // 10)

    def objective(trial: Any) -> float:
        return float(trial.suggest_int("a", 0, 9) + trial.suggest_int("b", 0, n_b - 1))

    study = mod.create_study(sampler=sampler_cls(seed=0))
    start = time.perf_counter()
    study.optimize(objective)
    seconds = time.perf_counter() - start
    distinct = len({(t.params["a"], t.params["b"]) for t in study.trials})
    return {"seconds": seconds, "trials": len(study.trials), "distinct": distinct}


def _worker_multi(lib: str, kind: str, location: str, n_b: int) -> dict[str, Any]:
    mod, sampler_cls = _lib(lib)
    study = mod.load_study(
        study_name="exhaustive", storage=_storage(mod, kind, location), sampler=sampler_cls()
    )
    study.optimize(_multi_objective_factory(n_b))
    return {"ok": True}


def _coverage(lib: str, kind: str, n_b: int, workers: int) -> dict[str, Any]:
    mod, _ = _lib(lib)
    with tempfile.TemporaryDirectory() as tmp:
        location = str(Path(tmp) / "journal.log") if kind == "journal" else f"sqlite:///{tmp}/ex.db"
        storage = _storage(mod, kind, location)
        mod.create_study(study_name="exhaustive", storage=storage)
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, str(SCRIPT), "--worker", "multi", lib, kind, location, str(n_b)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for _ in range(workers)
        ]
        errors = []
        for p in procs:
            _, err = p.communicate(timeout=1800)
            if p.returncode != 0:
                errors.append(err.decode().strip().splitlines()[-1:])
        seconds = time.perf_counter() - start
        study = mod.load_study(study_name="exhaustive", storage=_storage(mod, kind, location))
        trials = study.get_trials(deepcopy=False)
        complete = [t for t in trials if t.state.name == "COMPLETE"]
        counts = Counter(_combo(t.params) for t in complete)
        expected = _multi_all(n_b)
        return {
            "seconds": seconds,
            "trials": len(trials),
            "complete": len(complete),
            "duplicates": sum(c - 1 for c in counts.values()),
            "missing": len(expected - set(counts)),
            "errors": errors,
        }


# ---- driver --------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--multi-combos", type=int, default=200)
    parser.add_argument("--worker", nargs="+")
    args = parser.parse_args()

    if args.worker:
        mode, *rest = args.worker
        if mode == "single":
            print(json.dumps(_worker_single(rest[0], int(rest[1]))))
        elif mode == "multi":
            print(json.dumps(_worker_multi(rest[0], rest[1], rest[2], int(rest[3]))))
        else:
            print(json.dumps(_coverage(rest[0], rest[1], int(rest[2]), int(rest[3]))))
        return

    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        res = {lib: run_worker(SCRIPT, ["single", lib, str(n)]) for lib in LIBRARIES}
        cells = []
        for lib in LIBRARIES:
            r = res[lib]
            cells.append(
                r.get("error") or f"{r['seconds']:.2f} s ({r['distinct']}/{r['trials']} distinct)"
            )
        ratio = "-"
        if "seconds" in res["skipjack"] and "seconds" in res["optuna"]:
            ratio = f"{res['optuna']['seconds'] / res['skipjack']['seconds']:.1f}x"
        rows.append([f"{n:,} combinations", *cells, ratio])
    print("Single process, in-memory storage (target: skipjack at least 10x faster)\n")
    print(format_table(["space", "skipjack", "optuna 5.0", "speed-up"], rows))

    # ~ multi-combos combinations: (n_b / 2 + n_b) * 4
    n_b = max(2, round(args.multi_combos / 6))
    total = len(_multi_all(n_b))
    rows = []
    for kind in ("journal", "sqlite"):
        for lib in LIBRARIES:
            r = run_worker(SCRIPT, ["coverage", lib, kind, str(n_b), str(args.workers)])
            if "error" in r:
                rows.append([kind, lib, r["error"], "", "", "", ""])
                continue
            rows.append(
                [
                    kind,
                    lib,
                    str(r["trials"]),
                    str(r["complete"]),
                    str(r["duplicates"]),
                    str(r["missing"]),
                    f"{r['seconds']:.1f} s" + (f" errors: {r['errors']}" if r["errors"] else ""),
                ]
            )
    print(
        f"\n{args.workers} worker processes, conditional space of {total} combinations "
        "(target: 0 duplicates, 0 missing)\n"
    )
    header = ["storage", "library", "trials", "complete", "duplicates", "missing", "time"]
    print(format_table(header, rows))


if __name__ == "__main__":
    main()

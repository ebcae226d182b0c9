"""Persistent storages: trials per second of skipjack and Optuna 5.0 on the same workload.

The workload: ``RandomSampler``, an objective with five parameters (a float, a log-scale float,
an int, an int with a step, a categorical) whose arithmetic is negligible, so the figure is the
framework's and the storage's cost per trial. Logging is silenced; heartbeats are off.

Storages: SQLite (a file on disk), a journal file, PostgreSQL (a database created for the run
and dropped afterwards, one per library). Single process on all three; then 2 and 4 worker
processes on SQLite and the journal file, which share the trials between them and start together
(throughput = all trials / time from the first start to the last finish).

Every (library, storage, processes) runs in fresh interpreters, one after the other.

Usage::

    python benchmarks/storages.py                      # 1,000 trials
    python benchmarks/storages.py --trials 100         # quicker
    python benchmarks/storages.py --strict             # exit 1 when a 1-process target is missed
    python benchmarks/storages.py --postgres-url URL   # default: the local test server
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
from pathlib import Path
import subprocess
import sys
import tempfile
import time
from typing import Any
import uuid

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import format_table  # noqa: E402
from _common import run_worker  # noqa: E402

LIBRARIES = ("skipjack", "optuna")
SINGLE_BACKENDS = ("sqlite", "journal", "postgresql")
MULTI_BACKENDS = ("sqlite", "journal")
# Single-process targets: skipjack's throughput over Optuna's.
TARGETS = {"sqlite": 10.0, "journal": 5.0, "postgresql": 5.0}
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
STUDY = "bench"


# ---- worker side ------------------------------------------------------------------------------


def _objective(trial: Any) -> float:
    x = trial.suggest_float("x", -10.0, 10.0)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    n = trial.suggest_int("n", 1, 100)
    units = trial.suggest_int("units", 16, 256, step=16)
    opt = trial.suggest_categorical("opt", ["adam", "sgd", "rmsprop"])
    return x * x + lr + n / units + (0.0 if opt == "adam" else 1.0)


def _library(name: str) -> Any:
    lib = importlib.import_module(name)
    lib.logging.set_verbosity(lib.logging.WARNING)
    return lib


def _storage(lib: Any, backend: str, location: str) -> Any:
    """The storage object (or URL) each library is handed for ``backend``."""
    if backend == "journal":
        journal = importlib.import_module(f"{lib.__name__}.storages.journal")
        return lib.storages.JournalStorage(journal.JournalFileBackend(location))
    return location  # an SQLAlchemy URL: sqlite:///file or the PostgreSQL database's URL


def _optimize(
    lib: Any, backend: str, location: str, n_trials: int, seed: int
) -> tuple[float, float]:
    """Load the study, run ``n_trials``; return wall-clock start and end (time.time())."""
    study = lib.load_study(
        study_name=STUDY,
        storage=_storage(lib, backend, location),
        sampler=lib.samplers.RandomSampler(seed=seed),
    )
    start = time.time()
    study.optimize(_objective, n_trials=n_trials)
    return start, time.time()


def worker_single(name: str, backend: str, location: str, n_trials: int) -> dict[str, Any]:
    """Create the study and optimize it in this process."""
    lib = _library(name)
    lib.create_study(study_name=STUDY, storage=_storage(lib, backend, location))
    start, end = _optimize(lib, backend, location, n_trials, seed=0)
    return {"seconds": end - start, "trials": n_trials}


def worker_multi(
    name: str, backend: str, location: str, n_trials: int, n_procs: int
) -> dict[str, Any]:
    """Create the study, then run ``n_procs`` child processes that share ``n_trials``."""
    lib = _library(name)
    lib.create_study(study_name=STUDY, storage=_storage(lib, backend, location))
    start_at = time.time() + 3.0 + n_procs  # after every child has imported its library
    shares = [n_trials // n_procs + (1 if k < n_trials % n_procs else 0) for k in range(n_procs)]
    children = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--child",
                name,
                backend,
                location,
                str(share),
                str(k),
                repr(start_at),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for k, share in enumerate(shares)
    ]
    spans = []
    for child in children:
        out, err = child.communicate(timeout=3600)
        if child.returncode != 0:
            lines = err.strip().splitlines()
            raise RuntimeError(lines[-1] if lines else f"child exit {child.returncode}")
        spans.append(json.loads(out.strip().splitlines()[-1]))
    study = lib.load_study(study_name=STUDY, storage=_storage(lib, backend, location))
    complete = sum(1 for t in study.trials if t.state.name == "COMPLETE")
    seconds = max(s["end"] for s in spans) - min(s["start"] for s in spans)
    return {"seconds": seconds, "trials": complete}


def child(
    name: str, backend: str, location: str, n_trials: int, seed: int, start_at: float
) -> None:
    """One of ``worker_multi``'s processes: wait for the common start, then optimize."""
    lib = _library(name)
    time.sleep(max(0.0, start_at - time.time()))
    start, end = _optimize(lib, backend, location, n_trials, seed=seed)
    print(json.dumps({"start": start, "end": end}))


# ---- PostgreSQL: one database per run, dropped afterwards -------------------------------------


def _server_url(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


def _admin(url: str, sql: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(sql)
    finally:
        engine.dispose()


class _PostgresDatabase:
    """A fresh database on the server of ``url``; dropped on exit."""

    def __init__(self, url: str, lib: str) -> None:
        self._admin_url = url
        self.name = f"skipjack_bench_{lib}_{uuid.uuid4().hex[:10]}"
        self.url = _server_url(url, self.name)

    def __enter__(self) -> _PostgresDatabase:
        _admin(self._admin_url, f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc: object) -> None:
        _admin(self._admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# ---- driver -----------------------------------------------------------------------------------


def _run(
    lib: str, backend: str, n_trials: int, n_procs: int, tmp: str, pg_url: str
) -> dict[str, Any]:
    script = Path(__file__).resolve()
    mode = ["single"] if n_procs == 1 else ["multi"]
    tail = [str(n_trials)] if n_procs == 1 else [str(n_trials), str(n_procs)]
    tag = f"{lib}-{backend}-{n_procs}-{uuid.uuid4().hex[:8]}"
    if backend == "postgresql":
        try:
            with _PostgresDatabase(pg_url, lib) as db:
                return run_worker(script, [*mode, lib, backend, db.url, *tail])
        except Exception as e:  # noqa: BLE001 -- an unreachable server is reported, not fatal
            return {"error": f"PostgreSQL: {type(e).__name__}: {e}".splitlines()[0]}
    path = os.path.join(tmp, f"{tag}.{'db' if backend == 'sqlite' else 'log'}")
    location = f"sqlite:///{path}" if backend == "sqlite" else path
    try:
        return run_worker(script, [*mode, lib, backend, location, *tail])
    finally:
        for suffix in ("", "-wal", "-shm", ".lock", ".skipjack-snapshot"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)


def _rate(result: dict[str, Any]) -> float | None:
    if "error" in result:
        return None
    return float(result["trials"]) / float(result["seconds"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--processes", default="2,4", help="worker counts for the multi runs")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    parser.add_argument("--strict", action="store_true")
    parser.add_argument(
        "--backends",
        nargs="+",
        choices=sorted(set(SINGLE_BACKENDS) | set(MULTI_BACKENDS)),
        help="measure only these storages (default: all)",
    )
    args = parser.parse_args()

    configs = [(b, 1) for b in SINGLE_BACKENDS]
    configs += [(b, int(p)) for p in args.processes.split(",") if p for b in MULTI_BACKENDS]
    if args.backends:
        configs = [(b, n) for b, n in configs if b in args.backends]
    rows = []
    missed = []
    with tempfile.TemporaryDirectory(prefix="skipjack-bench-") as tmp:
        for backend, n_procs in configs:
            rates = {}
            notes = []
            for lib in LIBRARIES:
                result = _run(lib, backend, args.trials, n_procs, tmp, args.postgres_url)
                rates[lib] = _rate(result)
                if "error" in result:
                    notes.append(f"{lib}: {result['error']}")
                elif result["trials"] != args.trials:
                    notes.append(f"{lib}: {result['trials']} of {args.trials} trials complete")
                print(f"  {backend} x{n_procs} {lib}: {result}", file=sys.stderr, flush=True)
            ours, theirs = rates["skipjack"], rates["optuna"]
            ratio = ours / theirs if ours and theirs else None
            target = TARGETS.get(backend) if n_procs == 1 else None
            if target is not None and (ratio is None or ratio < target):
                missed.append(f"{backend}: {ratio and round(ratio, 1)}x < {target}x")
            rows.append(
                [
                    backend,
                    str(n_procs),
                    "-" if ours is None else f"{ours:,.1f}",
                    "-" if theirs is None else f"{theirs:,.1f}",
                    "-" if ratio is None else f"{ratio:.1f}x",
                    "-" if target is None else f">= {target:.0f}x",
                    "; ".join(notes),
                ]
            )
    print(f"\n{args.trials} trials, RandomSampler, 5 parameters; trials per second\n")
    header = ["storage", "processes", "skipjack", "optuna 5.0", "ratio", "target", "notes"]
    print(format_table(header, rows))
    if missed:
        print("\nmissed: " + "; ".join(missed))
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        mode, lib_name, backend_name, where, *rest = sys.argv[2:]
        if mode == "single":
            out = worker_single(lib_name, backend_name, where, int(rest[0]))
        else:
            out = worker_multi(lib_name, backend_name, where, int(rest[0]), int(rest[1]))
        print(json.dumps(out))
    elif len(sys.argv) > 1 and sys.argv[1] == "--child":
        lib_name, backend_name, where, n, seed, at = sys.argv[2:]
        child(lib_name, backend_name, where, int(n), int(seed), float(at))
    else:
        sys.exit(main())

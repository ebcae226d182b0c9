"""Opening a large journal file: skipjack vs Optuna 5.0 replaying the same log.

The script writes one journal file in Optuna's format holding a study of ``--trials`` finished
trials (default 10,000), each with five parameters (float, log float, int, stepped int,
categorical), two intermediate values and a user attribute, about ten records per trial. Each
library then opens it in a fresh interpreter: build a ``JournalStorage`` on a
``JournalFileBackend`` and read every trial of the study. The fastest of ``--repeat`` runs counts.

skipjack is timed twice: "cold", replaying every record (the first open of a log), and "warm",
starting from the JSON replay snapshot that an earlier open left beside the log
(``<log>.skipjack-snapshot``) and replaying only the records after it.

Usage::

    python benchmarks/journal_open.py                 # 10,000 trials
    python benchmarks/journal_open.py --trials 1000   # quicker
    python benchmarks/journal_open.py --strict        # exit 1 when the 10x target is missed
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
from pathlib import Path
import random
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import format_table  # noqa: E402
from _common import run_worker  # noqa: E402

TARGET = 10.0

_DISTRIBUTIONS = {
    "x": {
        "name": "FloatDistribution",
        "attributes": {"step": None, "low": -10.0, "high": 10.0, "log": False},
    },  # noqa: E501
    "lr": {
        "name": "FloatDistribution",
        "attributes": {"step": None, "low": 1e-05, "high": 0.1, "log": True},
    },  # noqa: E501
    "n": {
        "name": "IntDistribution",
        "attributes": {"log": False, "step": 1, "low": 1, "high": 100},
    },  # noqa: E501
    "units": {
        "name": "IntDistribution",
        "attributes": {"log": False, "step": 16, "low": 16, "high": 256},
    },  # noqa: E501
    "opt": {
        "name": "CategoricalDistribution",
        "attributes": {"choices": ["adam", "sgd", "rmsprop"]},
    },  # noqa: E501
}


def _sample(rng: random.Random, name: str) -> float:
    if name == "x":
        return rng.uniform(-10, 10)
    if name == "lr":
        return 10 ** rng.uniform(-5, -1)
    if name == "n":
        return float(rng.randint(1, 100))
    if name == "units":
        return float(16 * rng.randint(1, 16))
    return rng.randrange(3)


def write_journal(path: str, n_trials: int) -> int:
    """Write the benchmark journal; return the number of records."""
    rng = random.Random(0)
    worker = "00000000-0000-4000-8000-000000000000-1"
    when = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    lines = [{"op_code": 0, "worker_id": worker, "study_name": "bench", "directions": [1]}]
    dist_json = {name: json.dumps(d) for name, d in _DISTRIBUTIONS.items()}
    for trial_id in range(n_trials):
        start = (when + datetime.timedelta(seconds=trial_id)).isoformat(timespec="microseconds")
        lines.append({"op_code": 4, "worker_id": worker, "study_id": 0, "datetime_start": start})
        for name in _DISTRIBUTIONS:
            lines.append(
                {
                    "op_code": 5,
                    "worker_id": worker,
                    "trial_id": trial_id,
                    "param_name": name,
                    "param_value_internal": _sample(rng, name),
                    "distribution": dist_json[name],
                }
            )
        for step in range(2):
            lines.append(
                {
                    "op_code": 7,
                    "worker_id": worker,
                    "trial_id": trial_id,
                    "step": step,
                    "intermediate_value": rng.random(),
                }
            )
        lines.append(
            {
                "op_code": 8,
                "worker_id": worker,
                "trial_id": trial_id,
                "user_attr": {"fold": trial_id % 5},
            }
        )
        end = (when + datetime.timedelta(seconds=trial_id + 0.5)).isoformat(timespec="microseconds")
        lines.append(
            {
                "op_code": 6,
                "worker_id": worker,
                "trial_id": trial_id,
                "state": 1,
                "values": [rng.random()],
                "datetime_complete": end,
            }
        )
    with open(path, "w") as f:
        for line in lines:
            f.write(json.dumps(line, separators=(",", ":")) + "\n")
    return len(lines)


def open_journal(lib: str, path: str) -> dict[str, Any]:
    """Worker body: time opening the journal and reading every trial with one library."""
    started = time.perf_counter()
    module: Any = importlib.import_module(f"{lib}.storages.journal")
    imported = time.perf_counter()
    storage = module.JournalStorage(module.JournalFileBackend(path))
    study_id = storage.get_study_id_from_name("bench")
    trials = storage.get_all_trials(study_id, deepcopy=False)
    finished = time.perf_counter()
    return {
        "seconds": finished - imported,
        "import_seconds": imported - started,
        "n_trials": len(trials),
    }


def main(argv: list[str] | None = None) -> int:
    """Write the journal, time each library opening it, print the table and the ratio."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--strict", action="store_true", help="exit 1 if the target is missed")
    parser.add_argument("--worker", nargs=2, metavar=("LIB", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(open_journal(*args.worker)))
        return 0

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "journal.log")
        n_records = write_journal(path, args.trials)
        size_mib = os.path.getsize(path) / 2**20
        print(f"journal: {args.trials:,} trials, {n_records:,} records, {size_mib:.1f} MiB")
        snapshot = path + ".skipjack-snapshot"
        best: dict[str, float] = {}
        errors: dict[str, str] = {}
        # "skipjack, cold": no replay snapshot, every record is replayed (and a snapshot is
        # written at the end). "skipjack, warm": the snapshot left by an earlier open is used.
        for label, lib in (
            ("skipjack, cold", "skipjack"),
            ("skipjack, warm", "skipjack"),
            ("optuna", "optuna"),
        ):
            for _ in range(args.repeat):
                if label == "skipjack, cold" and os.path.exists(snapshot):
                    os.unlink(snapshot)
                result = run_worker(Path(__file__), [lib, path])
                if "error" in result:
                    errors[label] = result["error"]
                    break
                assert result["n_trials"] == args.trials, result
                best[label] = min(best.get(label, float("inf")), result["seconds"])
    rows = []
    for label in ("skipjack, cold", "skipjack, warm", "optuna"):
        shown = f"{best[label]:.3f}" if label in best else f"error: {errors.get(label)}"
        rows.append([label, f"{args.trials:,}", shown])
    print(format_table(["library", "trials", "open + read all s"], rows))
    if len(best) < 3:
        return 1
    cold = best["optuna"] / best["skipjack, cold"]
    warm = best["optuna"] / best["skipjack, warm"]
    verdict = "PASS" if warm >= TARGET else "MISS"
    print(
        f"skipjack vs Optuna: {cold:.1f}x faster on a first open, {warm:.1f}x with the replay "
        f"snapshot (target {TARGET:.0f}x): {verdict}"
    )
    return 1 if args.strict and warm < TARGET else 0


if __name__ == "__main__":
    sys.exit(main())

"""Helpers shared by the benchmark scripts: fresh-interpreter workers, import timing, tables."""

from __future__ import annotations

from collections.abc import Sequence
import json
import os
from pathlib import Path
import subprocess
import sys
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def run_worker(script: Path, args: Sequence[str], timeout: float = 1800.0) -> dict[str, Any]:
    """Run ``script --worker ARGS`` in a fresh interpreter and return the JSON it prints last.

    A worker that fails returns ``{"error": ...}`` instead of raising, so one broken library does
    not hide the others' figures.
    """
    env = dict(os.environ, PYTHONHASHSEED="0")
    try:
        result = subprocess.run(
            [sys.executable, str(script), "--worker", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO_ROOT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        return {"error": lines[-1] if lines else f"exit status {result.returncode}"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def import_seconds(module: str, repeat: int = 5) -> float | None:
    """Best-of-``repeat`` wall time of ``import module`` in fresh interpreters (None if absent)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    best: float | None = None
    for _ in range(repeat):
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, check=False
        )
        if result.returncode != 0:
            return None
        seconds = float(result.stdout.strip().splitlines()[-1])
        best = seconds if best is None else min(best, seconds)
    return best


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-align the first column and right-align the others, GitHub-markdown style."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths))
        + "|"
    )
    return "\n".join([line(header), rule, *(line(r) for r in rows)])

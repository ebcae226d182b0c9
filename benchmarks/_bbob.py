"""BBOB noiseless test functions from COCO (`coco-experiment`, module ``cocoex``) for benchmarks.

COCO's compiled problem objects do not expose the optimal value f_opt directly, but
``problem._best_parameter("print")`` writes the optimal point x_opt to
``._bbob_problem_best_parameter.txt`` in the current directory. We evaluate the problem there and
confirm the result with ``problem.final_target_hit``, which COCO sets once a value within 1e-8 of
its internal f_opt has been seen; since f_opt is the minimum, f(x_opt) is then exact to 1e-8.
"""

from __future__ import annotations

from dataclasses import dataclass
import os
from pathlib import Path
import tempfile
from typing import Any

_BEST_PARAMETER_FILE = "._bbob_problem_best_parameter.txt"


@dataclass(frozen=True)
class BBOBProblem:
    """One BBOB problem: function number, dimension and instance, with its bounds and f_opt."""

    function: int
    dimension: int
    instance: int
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    f_opt: float

    @property
    def name(self) -> str:
        """Short label such as ``f15 d5``."""
        return f"bbob f{self.function} d{self.dimension}"


def _suite(function: int, dimension: int, instance: int) -> Any:
    import cocoex

    options = f"function_indices:{function} dimensions:{dimension} instance_indices:{instance}"
    return cocoex.Suite("bbob", "", options)


def _coco_problem(function: int, dimension: int, instance: int) -> tuple[Any, Any]:
    """Return ``(suite, problem)``; the suite is returned so the caller keeps it alive."""
    suite = _suite(function, dimension, instance)
    # Iterating a suite frees each problem when it moves on; fetching one by its triple does not.
    return suite, suite.get_problem_by_function_dimension_instance(function, dimension, instance)


def load_problem(function: int, dimension: int, instance: int = 1) -> BBOBProblem:
    """Describe a BBOB problem, including its verified optimal value."""
    _suite_alive, problem = _coco_problem(function, dimension, instance)
    previous = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            problem._best_parameter("print")
            text = (Path(tmp) / _BEST_PARAMETER_FILE).read_text()
        finally:
            os.chdir(previous)
    x_opt = [float(v) for v in text.split()]
    if len(x_opt) != dimension:
        raise RuntimeError(f"COCO wrote {len(x_opt)} coordinates for a {dimension}-D problem")
    f_opt = float(problem(x_opt))
    if not problem.final_target_hit:
        raise RuntimeError(f"f(x_opt) of {problem.id} is not within 1e-8 of COCO's f_opt")
    return BBOBProblem(
        function=function,
        dimension=dimension,
        instance=instance,
        lower=tuple(float(v) for v in problem.lower_bounds),
        upper=tuple(float(v) for v in problem.upper_bounds),
        f_opt=f_opt,
    )


_CACHE: dict[tuple[int, int, int], tuple[Any, Any]] = {}


def evaluator(function: int, dimension: int, instance: int = 1) -> Any:
    """A callable ``f(x: list[float]) -> float`` for the problem (cached per process)."""
    key = (function, dimension, instance)
    if key not in _CACHE:
        _CACHE[key] = _coco_problem(function, dimension, instance)
    return _CACHE[key][1]

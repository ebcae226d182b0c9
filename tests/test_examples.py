"""Every script in ``examples/`` runs to completion and prints what its recipe promises.

Each example runs in a fresh interpreter from an empty temporary directory, so an example that
depends on the repository's working directory or leaves files behind in it is caught.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
import math
from pathlib import Path
import re
import subprocess
import sys

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.py"))


def _match(pattern: str, output: str) -> re.Match[str]:
    match = re.search(pattern, output, flags=re.MULTILINE)
    assert match is not None, f"no line matches {pattern!r} in:\n{output}"
    return match


def _number(pattern: str, output: str) -> float:
    return float(_match(pattern, output).group(1))


def _check_quickstart(out: str) -> None:
    assert _number(r"^Finished trials: (\d+)$", out) == 60
    best = _number(r"^Best value: (\S+)$", out)
    assert math.isfinite(best) and best >= 0.0  # a mean squared error
    params = ast.literal_eval(_match(r"^Best params: (\{.*\})$", out).group(1))
    assert params["model"] in ("ridge", "knn")
    expected_keys = {
        "ridge": {"model", "degree", "alpha"},
        "knn": {"model", "n_neighbors", "weighted"},
    }
    assert set(params) == expected_keys[params["model"]]  # conditional parameters only


def _check_pruning(out: str) -> None:
    finished = _number(r"^Finished trials: (\d+)$", out)
    pruned = _number(r"^Pruned trials: (\d+)$", out)
    complete = _number(r"^Complete trials: (\d+)$", out)
    assert finished == 50
    assert pruned + complete == finished
    assert 0 < pruned < finished, "the median pruner should stop some trials, not all"
    assert 0.0 < _number(r"^Best trial: (\S+)$", out) < 1.0  # an accuracy


def _check_fixed_trial(out: str) -> None:
    # x + y at the FAQ's points.
    assert re.search(r"\{'x': 1\.0, 'y': -1\}\)\) = 0\.0$", out, re.M)
    assert re.search(r"\{'x': -1\.0, 'y': -4\}\)\) = -5\.0$", out, re.M)
    assert "test_objective passed" in out


def _check_callbacks(out: str) -> None:
    improvements = [
        float(v) for v in re.findall(r"^Trial \d+ finished with best value: (\S+) and", out, re.M)
    ]
    assert improvements, "the logging callback printed nothing"
    assert all(b < a for a, b in zip(improvements, improvements[1:])), improvements
    numbers = [int(n) for n in re.findall(r"^Trial (\d+) finished with best value", out, re.M)]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert "[I " not in out, "per-trial INFO logs should be silenced"
    assert _number(r"^Trials after the first run: (\d+)$", out) == 100
    assert _number(r"^Trials after MaxTrialsCallback stopped the study: (\d+)$", out) == 120


def _check_objective_with_args(out: str) -> None:
    for variant in ("Callable class", "Lambda", "functools.partial"):
        line = _match(rf"^{re.escape(variant)}: (\d+) trials, best x = (\S+)$", out)
        assert int(line.group(1)) == 100
        assert -100.0 <= float(line.group(2)) <= 100.0


def _check_save_resume(out: str) -> None:
    assert re.search(r"^Saved a study with 20 trials using (joblib|pickle)$", out, re.M)
    assert "Best trial until now:" in out
    assert math.isfinite(_number(r"^ Value:\s+(\S+)$", out))
    assert re.search(r"^\s+x: \S+$", out, re.M) and re.search(r"^\s+y: -?\d+$", out, re.M)
    assert _number(r"^Trials after resuming: (\d+)$", out) == 30


def _check_multi_objective(out: str) -> None:
    assert _number(r"^Number of finished trials: (\d+)$", out) == 80
    size = int(_number(r"^Pareto front: (\d+) trials$", out))
    values = [
        (float(a), float(b))
        for a, b in re.findall(r"^\s+Trial#\d+ Values=\[(\S+), (\S+)\]", out, re.M)
    ]
    assert size >= 1 and len(values) == size
    for i, (a0, a1) in enumerate(values):
        for j, (b0, b1) in enumerate(values):
            dominated = b0 <= a0 and b1 <= a1 and (b0, b1) != (a0, a1)
            assert not (i != j and dominated), f"{values[i]} is dominated by {values[j]}"


def _check_pruning_wilcoxon(out: str) -> None:
    finished = _number(r"^Finished trials: (\d+)$", out)
    pruned = _number(r"^Pruned trials: (\d+)$", out)
    complete = _number(r"^Complete trials: (\d+)$", out)
    assert finished == 60 and pruned + complete == finished
    assert 0 < pruned < finished, "the Wilcoxon pruner should stop some trials, not all"
    assert _number(r"^Instances evaluated per pruned trial: (\S+) of 30$", out) < 30
    assert math.isfinite(_number(r"^Best value: (\S+)$", out))


def _check_pruning_sgd(out: str) -> None:
    finished = _number(r"^Finished trials: (\d+)$", out)
    pruned = _number(r"^Pruned trials: (\d+)$", out)
    complete = _number(r"^Complete trials: (\d+)$", out)
    assert finished == 40 and pruned + complete == finished
    assert 0 < pruned < finished, "successive halving should stop some trials, not all"
    trained = _match(r"^Epochs trained: (\d+) of (\d+)$", out)
    assert int(trained.group(1)) < int(trained.group(2)), "pruning saves epochs"
    # Ten digit classes: chance is 0.1; a tuned linear model does far better.
    assert 0.8 < _number(r"^Best accuracy: (\S+)$", out) <= 1.0


def _ablation_factor(
    out: str, name: str
) -> tuple[float, float, dict[str, tuple[int, float, float]]]:
    """One factor block of an ablation report: effect size, eta^2, level -> (count, mean, best)."""
    head = _match(rf"^{re.escape(name)}: effect size (\S+), eta\^2 (\S+), \d+ trials$", out)
    levels: dict[str, tuple[int, float, float]] = {}
    for line in out[head.end() :].splitlines()[2:]:
        cells = line.split()
        if len(cells) != 4 or not line.startswith("  "):
            break
        levels[cells[0]] = (int(cells[1]), float(cells[2]), float(cells[3]))
    return float(head.group(1)), float(head.group(2)), levels


def _check_ablation_basic(out: str) -> None:
    assert _number(r"^Total trials: (\d+)$", out) == 60
    assert _number(r"^Distinct combinations: (\d+)$", out) == 60
    assert _number(r"^Best value (\S+) with", out) == pytest.approx(0.9 + 0.1 + 0.01)
    effect, eta2, levels = _ablation_factor(out, "optimizer")
    # mock score: optimizer base + 10 * lr + 0.01 for cosine; means differ by the bases only
    assert set(levels) == {"'Adam'", "'SGD'", "'RMSprop'"}
    assert all(count == 20 for count, _, _ in levels.values())
    assert levels["'Adam'"][1] - levels["'SGD'"][1] == pytest.approx(0.05)
    assert effect == pytest.approx(0.05) and 0.0 < eta2 < 1.0
    effect, _, levels = _ablation_factor(out, "lr_schedule")
    assert effect == pytest.approx(0.01) and {c for c, _, _ in levels.values()} == {30}
    effect, _, levels = _ablation_factor(out, "lr")
    assert len(levels) == 10 and effect == pytest.approx(0.09)


def _check_ablation_conditional(out: str) -> None:
    assert _number(r"^Total trials: (\d+)$", out) == 100
    assert _number(r"^Adam trials: (\d+)$", out) == 40
    assert _number(r"^SGD trials: (\d+)$", out) == 60
    assert _number(r"^Distinct combinations: (\d+)$", out) == 100
    for name, n_levels, count in [("beta1", 2, 20), ("beta2", 2, 20), ("momentum", 3, 20)]:
        _, eta2, levels = _ablation_factor(out, name)
        assert len(levels) == n_levels and all(c == count for c, _, _ in levels.values())
        assert 0.0 <= eta2 <= 1.0
    _, _, levels = _ablation_factor(out, "lr")
    assert len(levels) == 10 and all(c == 10 for c, _, _ in levels.values())


def _check_ablation_distributed(out: str) -> None:
    assert re.search(r"^Workers: 4, exit codes: \[0, 0, 0, 0\]$", out, re.M)
    assert _number(r"^Evaluated trials: (\d+)$", out) == 20
    assert _number(r"^Distinct combinations: (\d+)$", out) == 20
    assert _number(r"^Duplicates: (\d+)$", out) == 0
    effect, _, levels = _ablation_factor(out, "optimizer")
    assert effect == pytest.approx(0.05) and {c for c, _, _ in levels.values()} == {10}


CHECKS: dict[str, Callable[[str], None]] = {
    "quickstart.py": _check_quickstart,
    "pruning.py": _check_pruning,
    "pruning_wilcoxon.py": _check_pruning_wilcoxon,
    "pruning_sgd.py": _check_pruning_sgd,
    "ablation_basic.py": _check_ablation_basic,
    "ablation_conditional.py": _check_ablation_conditional,
    "ablation_distributed.py": _check_ablation_distributed,
    "fixed_trial_testing.py": _check_fixed_trial,
    "callbacks.py": _check_callbacks,
    "objective_with_args.py": _check_objective_with_args,
    "save_resume_pickle.py": _check_save_resume,
    "multi_objective.py": _check_multi_objective,
}


def test_every_example_has_an_output_check() -> None:
    unchecked = sorted({p.name for p in EXAMPLES} - set(CHECKS))
    assert not unchecked, f"add an output check to CHECKS for {unchecked}"
    gone = sorted(set(CHECKS) - {p.name for p in EXAMPLES})
    assert not gone, f"CHECKS names examples that do not exist: {gone}"


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"
    CHECKS[script.name](result.stdout)
    assert not list(tmp_path.iterdir()) or script.name == "quickstart.py", (
        f"{script.name} left files in its working directory: {list(tmp_path.iterdir())}"
    )

"""``import skipjack`` stays light: heavy optional libraries load only when a feature needs them.

Each check runs in a fresh interpreter, because this test process has long since imported pandas,
optuna and friends.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

# Loaded on first use only (DESIGN.md: "import skipjack stays light").
HEAVY_AT_IMPORT = ("pandas", "sqlalchemy", "scipy", "plotly", "redis", "tqdm", "alembic", "optuna")

# Still absent after an in-memory study with the random sampler and the median pruner has run.
# (scipy is allowed here: numerical code may reasonably reach for it once a study runs.)
HEAVY_AFTER_IN_MEMORY_RUN = ("pandas", "sqlalchemy", "plotly", "redis", "tqdm", "alembic", "optuna")


def _loaded_after(code: str, candidates: tuple[str, ...]) -> list[str]:
    """Run ``code`` in a fresh interpreter and return which ``candidates`` it left imported."""
    probe = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json as _json
        import sys as _sys
        print(_json.dumps(sorted(m for m in {list(candidates)!r} if m in _sys.modules)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_skipjack_loads_no_heavy_module() -> None:
    loaded = _loaded_after("import skipjack\n", HEAVY_AT_IMPORT)
    assert loaded == [], f"`import skipjack` imported {loaded}; import them lazily where used"


@pytest.mark.parametrize(
    "module",
    [
        "skipjack.distributions",
        "skipjack.trial",
        "skipjack.study",
        "skipjack.samplers",
        "skipjack.pruners",
        "skipjack.storages",
    ],
)
def test_importing_core_subpackages_loads_no_heavy_module(module: str) -> None:
    loaded = _loaded_after(f"import {module}\n", HEAVY_AT_IMPORT)
    assert loaded == [], f"`import {module}` imported {loaded}"


def test_in_memory_study_loads_no_storage_or_dataframe_library() -> None:
    code = """
    import skipjack

    skipjack.logging.set_verbosity(skipjack.logging.WARNING)

    def objective(trial):
        x = trial.suggest_float("x", -1.0, 1.0)
        kind = trial.suggest_categorical("kind", ["a", "b"])
        for step in range(3):
            trial.report(x * step, step)
            if trial.should_prune():
                raise skipjack.TrialPruned()
        return x ** 2 + (kind == "b")

    study = skipjack.create_study(
        sampler=skipjack.samplers.RandomSampler(seed=0),
        pruner=skipjack.pruners.MedianPruner(),
    )
    study.optimize(objective, n_trials=20)
    assert len(study.trials) == 20
    """
    loaded = _loaded_after(code, HEAVY_AFTER_IN_MEMORY_RUN)
    assert loaded == [], f"an in-memory study imported {loaded}"

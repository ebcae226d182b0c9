"""NopPruner never prunes; BasePruner is the abstract contract."""

from __future__ import annotations

from typing import Any

import pytest

from skipjack.pruners._base import BasePruner
from skipjack.pruners._nop import NopPruner
from skipjack.trial._frozen import create_trial
from skipjack.trial._state import TrialState


class ExplodingStudy:
    """Any use of the study fails: NopPruner must not need it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"NopPruner read study.{name}")


@pytest.mark.parametrize(
    "reports", [{}, {0: 1e300}, {0: float("nan")}, {s: float(s) for s in range(50)}]
)
def test_never_prunes(reports: dict[int, float]) -> None:
    trial = create_trial(state=TrialState.RUNNING, intermediate_values=reports)
    assert NopPruner().prune(ExplodingStudy(), trial) is False  # type: ignore[arg-type]


def test_is_a_pruner_with_an_honest_repr() -> None:
    assert isinstance(NopPruner(), BasePruner)
    assert repr(NopPruner()) == "NopPruner()"


def test_base_pruner_is_abstract() -> None:
    with pytest.raises(TypeError, match="prune"):
        BasePruner()  # type: ignore[abstract]

    class Always(BasePruner):
        def prune(self, study: Any, trial: Any) -> bool:
            return True

    assert Always().prune(None, None)


def test_end_to_end_nothing_is_pruned() -> None:
    from skipjack.study import create_study

    study = create_study(pruner=NopPruner())
    for value in [0.0, 0.0, 0.0, 0.0, 0.0, 10.0]:
        trial = study.ask()
        trial.report(value, 0)
        assert not trial.should_prune()
        study.tell(trial, value)

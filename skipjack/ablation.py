"""Ablation reports: how much each factor of an exhaustive study moves the objective.

For every parameter (factor) and each of its values (levels) the report gives the mean, the best
and the count of the objective over the COMPLETE trials that used that level, averaging over all
the other factors. Per factor it gives the effect size (largest level mean minus smallest) and
eta squared, the share of the objective's variance explained by the factor's levels. A parameter
that only exists in some branches of a conditional space is summarised over the trials where it
exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
import math
from typing import TYPE_CHECKING
from typing import Any

from skipjack.study._study_direction import StudyDirection
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["AblationReport", "FactorSummary", "LevelSummary", "ablation_report"]


@dataclass(frozen=True)
class LevelSummary:
    """Objective statistics of the trials that used one value of a factor."""

    value: Any
    count: int
    mean: float
    best: float


@dataclass(frozen=True)
class FactorSummary:
    """One factor: its levels, effect size and eta squared (0 to 1)."""

    name: str
    levels: list[LevelSummary]
    effect_size: float
    eta_squared: float
    n_trials: int


@dataclass(frozen=True)
class AblationReport:
    """The result of :func:`ablation_report`; ``str(report)`` is a printable table."""

    study_name: str
    direction: StudyDirection
    n_trials: int
    best_value: float | None
    best_params: dict[str, Any]
    factors: list[FactorSummary] = field(default_factory=list)

    def factor(self, name: str) -> FactorSummary:
        """Return the summary of factor ``name`` (KeyError if absent)."""
        for f in self.factors:
            if f.name == name:
                return f
        raise KeyError(name)

    def __str__(self) -> str:
        lines = [
            f"Ablation report for study {self.study_name!r} "
            f"({self.direction.name.lower()}, {self.n_trials} complete trials)"
        ]
        if self.best_value is not None:
            lines.append(f"Best value {self.best_value:.6g} with {self.best_params}")
        for f in self.factors:
            lines.append("")
            lines.append(
                f"{f.name}: effect size {f.effect_size:.6g}, eta^2 {f.eta_squared:.3f}, "
                f"{f.n_trials} trials"
            )
            width = max([5] + [len(repr(lv.value)) for lv in f.levels])
            lines.append(f"  {'level':<{width}}  {'count':>5}  {'mean':>12}  {'best':>12}")
            for lv in f.levels:
                lines.append(
                    f"  {lv.value!r:<{width}}  {lv.count:>5}  {lv.mean:>12.6g}  {lv.best:>12.6g}"
                )
        return "\n".join(lines)


def ablation_report(
    study: Study,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
) -> AblationReport:
    """Summarise each factor of ``study`` over its COMPLETE trials.

    Args:
        study: A single-objective study (or pass ``target`` for a multi-objective one).
        target: Function giving the number to summarise for a trial; the objective value by
            default. "Best" then means the largest value.

    Returns:
        An :class:`AblationReport`; levels are sorted when their values are comparable.
    """
    if target is None and len(study.directions) > 1:
        raise ValueError("ablation_report needs `target` for a multi-objective study.")
    direction = study.directions[0] if target is None else StudyDirection.MAXIMIZE
    better = max if direction == StudyDirection.MAXIMIZE else min
    trials = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    scored: list[tuple[dict[str, Any], float]] = []
    for t in trials:
        y = target(t) if target is not None else t.value
        if y is None or math.isnan(float(y)):
            continue
        scored.append((t.params, float(y)))

    names: list[str] = []
    for params, _ in scored:
        for name in params:
            if name not in names:
                names.append(name)

    factors = [_summarise(name, scored, better) for name in names]
    best_params: dict[str, Any] = {}
    best_value: float | None = None
    if scored:
        best_params, best_value = better(scored, key=lambda pv: pv[1])
    return AblationReport(
        study_name=study.study_name,
        direction=direction,
        n_trials=len(scored),
        best_value=best_value,
        best_params=dict(best_params),
        factors=factors,
    )


def _summarise(
    name: str,
    scored: list[tuple[dict[str, Any], float]],
    better: Callable[..., float],
) -> FactorSummary:
    groups: dict[Any, list[float]] = {}
    order: list[Any] = []
    for params, y in scored:
        if name not in params:
            continue
        key = _hashable(params[name])
        if key not in groups:
            groups[key] = []
            order.append(params[name])
        groups[key].append(y)
    try:
        order = sorted(order)
    except TypeError:  # mixed types (e.g. None and numbers): keep first-appearance order
        pass
    levels = []
    for value in order:
        ys = groups[_hashable(value)]
        levels.append(LevelSummary(value, len(ys), sum(ys) / len(ys), better(ys)))
    all_y = [y for ys in groups.values() for y in ys]
    grand = sum(all_y) / len(all_y)
    ss_total = sum((y - grand) ** 2 for y in all_y)
    ss_between = sum(lv.count * (lv.mean - grand) ** 2 for lv in levels)
    means = [lv.mean for lv in levels]
    return FactorSummary(
        name=name,
        levels=levels,
        effect_size=max(means) - min(means),
        eta_squared=ss_between / ss_total if ss_total > 0 else 0.0,
        n_trials=len(all_y),
    )


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return (type(value).__name__, value)

"""NSGA-II survival: non-dominated sorting, then crowding distance on the last front admitted.

Deb et al. (2002), "A fast and elitist multiobjective genetic algorithm: NSGA-II", Sec. III.
With constraints, ranks follow Deb's constrained domination: feasible trials first, by their
objectives; infeasible ones after them, by total violation.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import math
from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from skipjack.study._multi_objective import _fast_non_domination_rank
from skipjack.study._study_direction import StudyDirection

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["NSGAIIElitePopulationSelectionStrategy"]


def _violation(trial: FrozenTrial) -> float | None:
    """Total constraint violation of ``trial`` (0 when feasible), ``None`` without constraints."""
    constraints = trial.constraints
    if not constraints:
        return None
    total = 0.0
    for value in constraints.values():
        value = float(value)
        if math.isnan(value):
            raise ValueError("NaN is not acceptable as constraint value.")
        if value > 0:
            total += value
    return total


class _PenaltyCache:
    """Constraint violations of finished trials, each worked out once.

    A finished trial never changes and stays a candidate parent for many generations, so its
    violation is kept, by object (the trial is held, so its id cannot be reused).
    """

    def __init__(self) -> None:
        self._known: dict[int, tuple[FrozenTrial, float | None]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"_known": {}}  # ids mean nothing in another process

    def __call__(self, population: Sequence[FrozenTrial]) -> np.ndarray | None:
        """Violation per trial (0 when feasible or unconstrained), or ``None`` when no trial
        has constraints; NaN constraints are refused."""
        known = self._known
        out: list[float | None] = []
        for trial in population:
            entry = known.get(id(trial))
            if entry is None or entry[0] is not trial:
                entry = known[id(trial)] = (trial, _violation(trial))
            out.append(entry[1])
        if all(v is None for v in out):
            return None
        return np.array([0.0 if v is None else v for v in out])


def _penalty(population: Sequence[FrozenTrial]) -> np.ndarray | None:
    """Uncached :class:`_PenaltyCache` lookup, for one-off callers."""
    return _PenaltyCache()(population)


def _loss_values(
    population: Sequence[FrozenTrial], directions: Sequence[StudyDirection]
) -> np.ndarray:
    signs = np.array([-1.0 if d == StudyDirection.MAXIMIZE else 1.0 for d in directions])
    values = np.array([t.values for t in population], dtype=float).reshape(len(population), -1)
    return values * signs


def _ranks(
    study: Study,
    population: Sequence[FrozenTrial],
    n_below: int,
    penalties: _PenaltyCache | None = None,
) -> np.ndarray:
    losses = _loss_values(population, study.directions)
    penalty = (penalties or _PenaltyCache())(population)
    return _fast_non_domination_rank(losses, penalty=penalty, n_below=n_below)


def _crowding_distance(values: np.ndarray) -> np.ndarray:
    """Crowding distance of each row (Deb et al., 2002, Sec. III-B), vectorized per objective.

    Per objective, each point adds the gap between its two sorted neighbours divided by the
    objective's finite range; the extreme points get infinity. An objective on which all points
    agree adds nothing, and a gap between two equal infinities counts as zero.
    """
    n_points, n_objectives = values.shape
    distance = np.zeros(n_points)
    if n_points == 0:
        return distance
    for m in range(n_objectives):
        order = np.argsort(values[:, m], kind="stable")
        column = values[order, m]
        if column[0] == column[-1]:
            continue
        finite = column[np.isfinite(column)]
        width = float(finite.max() - finite.min()) if finite.size else 0.0
        if width <= 0.0:
            width = 1.0
        padded = np.concatenate(([-np.inf], column, [np.inf]))
        upper, lower = padded[2:], padded[:-2]
        with np.errstate(invalid="ignore"):
            gaps = np.where(upper == lower, 0.0, upper - lower)
        distance[order] += gaps / width
    return distance


class NSGAIIElitePopulationSelectionStrategy:
    """Choose the ``population_size`` survivors of a pool of trials, NSGA-II style.

    Whole fronts are admitted in rank order while they fit; the first front that does not fit
    is cut by decreasing crowding distance.

    Args:
        population_size: Number of survivors (>= 2).
        constraints_func: Accepted for Optuna compatibility; constraints are read from the
            trials themselves.
    """

    def __init__(
        self,
        *,
        population_size: int,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
    ) -> None:
        if population_size < 2:
            raise ValueError(
                f"`population_size` must be greater than or equal to 2, got {population_size}."
            )
        self._population_size = population_size
        self._constraints_func = constraints_func
        self._penalties = _PenaltyCache()

    def __call__(self, study: Study, population: list[FrozenTrial]) -> list[FrozenTrial]:
        """Return the survivors among ``population``."""
        if len(population) <= self._population_size:
            return list(population)
        losses = _loss_values(population, study.directions)
        ranks = _fast_non_domination_rank(
            losses, penalty=self._penalties(population), n_below=self._population_size
        )
        order = np.argsort(ranks, kind="stable")
        sorted_ranks = ranks[order]
        # The rank whose front does not fit entirely (the cut front).
        cut_rank = sorted_ranks[self._population_size - 1]
        elite = [population[i] for i in order[sorted_ranks < cut_rank]]
        front = order[sorted_ranks == cut_rank]
        n_missing = self._population_size - len(elite)
        crowding = _crowding_distance(losses[front])
        chosen = front[np.argsort(-crowding, kind="stable")[:n_missing]]
        elite.extend(population[i] for i in chosen)
        return elite

"""NSGA-III survival: non-dominated sorting, then niching around reference points.

Deb and Jain (2014), "An evolutionary many-objective optimization algorithm using
reference-point-based nondominated sorting approach, part I", IEEE Trans. Evol. Comput. 18(4),
Sec. IV: normalize objectives by the ideal point and the hyperplane through the extreme points
(IV-C), associate each trial with its nearest reference line (IV-D) and fill the last places
from the least crowded niches (IV-E).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from itertools import combinations_with_replacement
from typing import TYPE_CHECKING

import numpy as np

from skipjack.samplers._lazy_random_state import LazyRandomState
from skipjack.samplers.nsgaii._elite import _loss_values
from skipjack.samplers.nsgaii._elite import _PenaltyCache
from skipjack.samplers.nsgaii._elite import _ranks

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["NSGAIIIElitePopulationSelectionStrategy"]

# Infinite objective values are replaced by finite ones this many ranges beyond the finite span.
_INF_MARGIN = 3.0


def _default_reference_points(n_objectives: int, dividing_parameter: int) -> np.ndarray:
    """Das and Dennis's structured points on the simplex, scaled by ``dividing_parameter``."""
    combos = list(combinations_with_replacement(range(n_objectives), dividing_parameter))
    points = np.zeros((len(combos), n_objectives))
    for row, combo in enumerate(combos):
        for objective in combo:
            points[row, objective] += 1.0
    return points


def _clip_infinities(values: np.ndarray) -> np.ndarray:
    finite = np.where(np.isfinite(values), values, np.nan)
    with np.errstate(all="ignore"):
        high = np.nanmax(finite, axis=0)
        low = np.nanmin(finite, axis=0)
    high = np.nan_to_num(high, nan=0.0)
    low = np.nan_to_num(low, nan=0.0)
    margin = _INF_MARGIN * (high - low)
    return np.clip(values, low - margin, high + margin)


def _normalize(values: np.ndarray) -> np.ndarray:
    """Translate by the ideal point and scale by the intercepts of the extreme hyperplane."""
    n_objectives = values.shape[1]
    translated = values - values.min(axis=0)
    # Achievement scalarizing function with weights (1, 1e6, ...) rotated per axis (Sec. IV-C).
    weights = np.full((n_objectives, n_objectives), 1e6)
    np.fill_diagonal(weights, 1.0)
    asf = (translated[None, :, :] * weights[:, None, :]).max(axis=2)
    extremes = translated[asf.argmin(axis=1)]
    intercepts_inv: np.ndarray | None = None
    if np.all(np.isfinite(extremes)) and np.linalg.matrix_rank(extremes) == n_objectives:
        intercepts_inv = np.linalg.solve(extremes, np.ones(n_objectives))
    if intercepts_inv is None or not np.all(np.isfinite(intercepts_inv)):
        # Degenerate hyperplane: fall back to the largest value on each axis.
        span = translated.max(axis=0)
        intercepts_inv = 1.0 / np.where(span == 0, 1.0, span)
    return translated * intercepts_inv


def _associate(points: np.ndarray, reference_points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest reference line (through the origin) of each point and the distance to it."""
    norms_sq = (reference_points**2).sum(axis=1)
    dots = points @ reference_points.T
    dist_sq = (points**2).sum(axis=1)[:, None] - dots**2 / norms_sq[None, :]
    dist = np.sqrt(np.maximum(dist_sq, 0.0))
    nearest = dist.argmin(axis=1)
    return nearest, dist[np.arange(len(points)), nearest]


def _niche(
    n_needed: int,
    elite_niches: np.ndarray,
    front_niches: np.ndarray,
    front_distances: np.ndarray,
    n_reference: int,
    rng: np.random.RandomState,
) -> list[int]:
    """Pick ``n_needed`` indices of the front, always from the least crowded niche (IV-E).

    A niche with no elite member yet takes its front member closest to the reference line;
    a niche that already has members takes a random one of its front members.
    """
    counts = np.bincount(elite_niches, minlength=n_reference)
    candidates: dict[int, list[int]] = {}
    for i, niche in enumerate(front_niches.tolist()):
        candidates.setdefault(niche, []).append(i)
    chosen: list[int] = []
    while len(chosen) < n_needed:
        open_niches = np.array(sorted(candidates))
        lowest = counts[open_niches].min()
        ties = open_niches[counts[open_niches] == lowest]
        niche = int(ties[rng.randint(len(ties))])
        members = candidates[niche]
        if lowest == 0:
            pick = min(members, key=lambda i: front_distances[i])
        else:
            pick = members[rng.randint(len(members))]
        members.remove(pick)
        if not members:
            del candidates[niche]
        chosen.append(pick)
        counts[niche] += 1
    return chosen


class NSGAIIIElitePopulationSelectionStrategy:
    """Choose the ``population_size`` survivors of a pool of trials, NSGA-III style.

    Args:
        population_size: Number of survivors (>= 2).
        constraints_func: Accepted for Optuna compatibility; constraints are read from trials.
        reference_points: ``(n_points, n_objectives)`` reference points, or ``None`` for the
            structured points with ``dividing_parameter`` divisions per objective.
        dividing_parameter: Divisions per objective of the default reference points.
        rng: Random generator for ties between niches.
    """

    def __init__(
        self,
        *,
        population_size: int,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        reference_points: np.ndarray | None = None,
        dividing_parameter: int = 3,
        rng: LazyRandomState,
    ) -> None:
        if population_size < 2:
            raise ValueError(
                f"`population_size` must be greater than or equal to 2, got {population_size}."
            )
        self._population_size = population_size
        self._constraints_func = constraints_func
        self._reference_points = reference_points
        self._dividing_parameter = dividing_parameter
        self._rng = rng
        self._penalties = _PenaltyCache()

    def _reference(self, n_objectives: int) -> np.ndarray:
        if self._reference_points is None:
            return _default_reference_points(n_objectives, self._dividing_parameter)
        points = np.asarray(self._reference_points, dtype=float)
        if points.ndim != 2 or points.shape[1] != n_objectives:
            raise ValueError(
                "The dimension of reference points vectors must be the same as the number of "
                f"objectives of the study ({n_objectives}), got shape {points.shape}."
            )
        return points

    def __call__(self, study: Study, population: list[FrozenTrial]) -> list[FrozenTrial]:
        """Return the survivors among ``population``."""
        if len(population) <= self._population_size:
            return list(population)
        reference = self._reference(len(study.directions))
        ranks = _ranks(study, population, self._population_size, self._penalties)
        order = np.argsort(ranks, kind="stable")
        sorted_ranks = ranks[order]
        cut_rank = sorted_ranks[self._population_size - 1]
        elite_idx = order[sorted_ranks < cut_rank]
        front_idx = order[sorted_ranks == cut_rank]
        considered = np.concatenate((elite_idx, front_idx))
        losses = _loss_values([population[i] for i in considered], study.directions)
        normalized = _normalize(_clip_infinities(losses))
        niches, distances = _associate(normalized, reference)
        n_elite = len(elite_idx)
        picks = _niche(
            self._population_size - n_elite,
            niches[:n_elite],
            niches[n_elite:],
            distances[n_elite:],
            len(reference),
            self._rng.rng,
        )
        return [population[i] for i in elite_idx] + [population[front_idx[p]] for p in picks]

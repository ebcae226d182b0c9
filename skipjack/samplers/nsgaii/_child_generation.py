"""NSGA-II offspring: binary tournaments pick parents, a crossover mixes them, mutation follows.

The parents of one generation do not change, so their objective, penalty and transformed
parameter arrays are built once per (generation, search space) and reused for every child.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from skipjack.distributions import CategoricalDistribution
from skipjack.samplers._lazy_random_state import LazyRandomState
from skipjack.samplers.nsgaii._crossovers import BaseCrossover
from skipjack.samplers.nsgaii._elite import _is_constrained
from skipjack.samplers.nsgaii._elite import _loss_values
from skipjack.samplers.nsgaii._elite import _penalty
from skipjack.samplers.nsgaii._mutations import BaseMutation
from skipjack.samplers.nsgaii._transform import NumericTransform

if TYPE_CHECKING:
    from skipjack.distributions import BaseDistribution
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["NSGAIIChildGenerationStrategy"]


def _check_probability(name: str, value: float | None, *, nullable: bool = False) -> None:
    if value is None and nullable:
        return
    if value is None or not 0.0 <= value <= 1.0:
        allowed = "None or a float" if nullable else "a float"
        raise ValueError(f"`{name}` must be {allowed} within the range [0.0, 1.0], got {value}.")


class _Parents:
    """Arrays of one parent population over one search space."""

    def __init__(
        self, study: Study, parents: list[FrozenTrial], search_space: dict[str, BaseDistribution]
    ) -> None:
        self.trials = parents
        self.losses = _loss_values(parents, study.directions)
        self._loss_rows = [tuple(row) for row in self.losses.tolist()]
        self.penalty = _penalty(parents) if _is_constrained(parents) else None
        numeric = {
            n: d for n, d in search_space.items() if not isinstance(d, CategoricalDistribution)
        }
        self.categorical = [n for n in search_space if n not in numeric]
        self.transform = NumericTransform(numeric) if numeric else None
        self.numeric_params = (
            np.stack([self.transform.transform(t.params) for t in parents])
            if self.transform is not None
            else np.empty((len(parents), 0))
        )

    def dominates(self, a: int, b: int) -> bool:
        """Constrained domination of parent ``a`` over parent ``b`` (Deb, 2000)."""
        if self.penalty is not None:
            pa, pb = self.penalty[a], self.penalty[b]
            if pa > 0 or pb > 0:
                return bool(pa < pb)
        la, lb = self._loss_rows[a], self._loss_rows[b]
        return la != lb and all(x <= y for x, y in zip(la, lb))


class NSGAIIChildGenerationStrategy:
    """Make one child's parameters from a parent population.

    With probability ``crossover_prob`` the child comes from a crossover of parents chosen by
    binary tournaments (numeric parameters by ``crossover``, categorical ones by a uniform
    crossover with ``swapping_prob``); otherwise it copies one random parent. Each parameter is
    then mutated with probability ``mutation_prob`` (``None``: one over the number of
    parameters): by ``mutation`` when given and numeric, else by leaving it out so the sampler
    draws it at random.

    Args:
        mutation: Mutation of numeric parameters, or ``None`` for random resampling.
        mutation_prob: Per-parameter mutation probability or ``None``.
        crossover: Crossover of numeric parameters.
        crossover_prob: Probability of a crossover.
        swapping_prob: Probability of taking a categorical parameter from the second parent.
        constraints_func: Accepted for Optuna compatibility; constraints are read from trials.
        rng: The sampler's random generator.
    """

    def __init__(
        self,
        *,
        mutation: BaseMutation | None = None,
        mutation_prob: float | None = None,
        crossover: BaseCrossover,
        crossover_prob: float,
        swapping_prob: float,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        rng: LazyRandomState,
    ) -> None:
        _check_probability("mutation_prob", mutation_prob, nullable=True)
        _check_probability("crossover_prob", crossover_prob)
        _check_probability("swapping_prob", swapping_prob)
        if mutation is not None and not isinstance(mutation, BaseMutation):
            raise ValueError(f"'{mutation}' is not a valid mutation.")
        if not isinstance(crossover, BaseCrossover):
            raise ValueError(f"'{crossover}' is not a valid crossover.")
        self._mutation = mutation
        self._mutation_prob = mutation_prob
        self._crossover = crossover
        self._crossover_prob = crossover_prob
        self._swapping_prob = swapping_prob
        self._constraints_func = constraints_func
        self._rng = rng
        self._cache: tuple[tuple[Any, ...], _Parents] | None = None

    def _parents(
        self, study: Study, parents: list[FrozenTrial], search_space: dict[str, BaseDistribution]
    ) -> _Parents:
        # The GA base hands out one list object per generation, so identity plus the
        # parameter names identifies the arrays (the list is kept alive by the cache key).
        key = (study._study_id, parents, tuple(search_space))
        cache = self._cache
        if (
            cache is not None
            and cache[0][1] is parents
            and cache[0][0] == key[0]
            and cache[0][2] == key[2]
        ):
            return cache[1]
        arrays = _Parents(study, parents, search_space)
        self._cache = (key, arrays)
        return arrays

    def __call__(
        self,
        study: Study,
        search_space: dict[str, BaseDistribution],
        parent_population: list[FrozenTrial],
    ) -> dict[str, Any]:
        """Return the child's parameters (external values); left-out ones are resampled."""
        rng = self._rng.rng
        arrays = self._parents(study, parent_population, search_space)
        if rng.rand() < self._crossover_prob:
            child = self._crossover_child(study, arrays, rng)
        else:
            parent = arrays.trials[rng.randint(len(arrays.trials))]
            child = {name: parent.params[name] for name in search_space}
        return self._mutate(study, child, search_space, rng)

    def _tournament(self, arrays: _Parents, pool: np.ndarray, rng: np.random.RandomState) -> int:
        a = int(pool[rng.randint(len(pool))])
        b = int(pool[rng.randint(len(pool))])
        return a if arrays.dominates(a, b) else b

    def _crossover_child(
        self, study: Study, arrays: _Parents, rng: np.random.RandomState
    ) -> dict[str, Any]:
        pool = np.arange(len(arrays.trials))
        chosen: list[int] = []
        for _ in range(self._crossover.n_parents):
            winner = self._tournament(arrays, pool, rng)
            chosen.append(winner)
            pool = pool[pool != winner]
        child: dict[str, Any] = {}
        if arrays.categorical:
            first, last = arrays.trials[chosen[0]], arrays.trials[chosen[-1]]
            swap = rng.rand(len(arrays.categorical)) < self._swapping_prob
            for name, from_last in zip(arrays.categorical, swap.tolist()):
                child[name] = (last if from_last else first).params[name]
        if arrays.transform is not None:
            x = self._crossover.crossover(
                arrays.numeric_params[chosen], rng, study, arrays.transform.bounds
            )
            child.update(arrays.transform.untransform(np.asarray(x, dtype=float)))
        return child

    def _mutate(
        self,
        study: Study,
        child: dict[str, Any],
        search_space: dict[str, BaseDistribution],
        rng: np.random.RandomState,
    ) -> dict[str, Any]:
        prob = 1.0 / max(1, len(child)) if self._mutation_prob is None else self._mutation_prob
        params: dict[str, Any] = {}
        for name, value in child.items():
            if rng.rand() >= prob:
                params[name] = value
            elif self._mutation is not None:
                dist = search_space[name]
                if isinstance(dist, CategoricalDistribution):
                    continue
                transform = NumericTransform({name: dist})
                x = transform.transform({name: value})
                mutated = self._mutation.mutation(float(x[0]), rng, study, transform.bounds[0])
                params.update(transform.untransform(np.array([mutated])))
        return params

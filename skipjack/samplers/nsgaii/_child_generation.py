"""NSGA-II offspring: binary tournaments pick parents, a crossover mixes them, mutation follows.

The parents of one generation do not change, so their objective, penalty and transformed
parameter arrays are built once per (generation, search space) and reused for every child.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from collections.abc import Sequence
import functools
import operator
from typing import TYPE_CHECKING
from typing import Any

import numpy as np

from skipjack.distributions import CategoricalDistribution
from skipjack.samplers._lazy_random_state import LazyRandomState
from skipjack.samplers.nsgaii._crossovers import BaseCrossover
from skipjack.samplers.nsgaii._crossovers import UniformCrossover
from skipjack.samplers.nsgaii._elite import _loss_values
from skipjack.samplers.nsgaii._elite import _PenaltyCache
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
    """Arrays of one parent population over one search space, built once per generation."""

    def __init__(
        self,
        study: Study,
        parents: list[FrozenTrial],
        search_space: dict[str, BaseDistribution],
        penalties: _PenaltyCache,
    ) -> None:
        self.trials = parents
        # Plain tuples and floats: a tournament then costs a few comparisons, no NumPy calls.
        self._losses = [tuple(row) for row in _loss_values(parents, study.directions).tolist()]
        penalty = penalties(parents)
        self._penalty = None if penalty is None else penalty.tolist()
        numeric = {
            n: d for n, d in search_space.items() if not isinstance(d, CategoricalDistribution)
        }
        self.names = list(search_space)
        self.categorical = [n for n in search_space if n not in numeric]
        self.categorical_set = frozenset(self.categorical)
        self.transform = NumericTransform(numeric) if numeric else None
        self._single: dict[str, NumericTransform] = {}

    @functools.cached_property
    def numeric_params(self) -> np.ndarray:
        """``(n_parents, n_numeric)`` transformed numeric parameters (built on first use:
        UniformCrossover never needs them)."""
        if self.transform is None:
            return np.empty((len(self.trials), 0))
        return self.transform.transform_many([t.params for t in self.trials])

    def dominates(self, a: int, b: int) -> bool:
        """Constrained domination of parent ``a`` over parent ``b`` (Deb, 2000).

        When either is infeasible (positive penalty), the smaller total violation wins;
        otherwise ``a`` must be no worse in every objective and differ in at least one.
        """
        if self._penalty is not None:
            pa, pb = self._penalty[a], self._penalty[b]
            if pa > 0 or pb > 0:
                return pa < pb
        la, lb = self._losses[a], self._losses[b]
        return la != lb and all(map(operator.le, la, lb))

    def single_transform(self, name: str, dist: BaseDistribution) -> NumericTransform:
        """The transform of one numeric parameter, for mutations."""
        transform = self._single.get(name)
        if transform is None:
            transform = self._single[name] = NumericTransform({name: dist})
        return transform


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
        self._penalties = _PenaltyCache()

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
        arrays = _Parents(study, parents, search_space, self._penalties)
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
        n_parents = self._crossover.n_parents
        # UniformCrossover only picks values, so it is done here on the parents' own values:
        # no transform round trip, and its coins come with the others below.
        uniform = type(self._crossover) is UniformCrossover
        n_swaps = len(arrays.names) if uniform else len(arrays.categorical)
        # One draw of uniforms per child, laid out as: crossover coin, two tournament picks per
        # parent, swap coins (categorical parameters, or all with UniformCrossover), one
        # mutation coin per parameter.
        u = rng.random_sample(1 + 2 * n_parents + n_swaps + len(arrays.names)).tolist()
        if u[0] < self._crossover_prob:
            chosen = _tournaments(arrays, n_parents, u, 1)
            swaps = u[1 + 2 * n_parents : 1 + 2 * n_parents + n_swaps]
            if uniform:
                child = self._uniform_child(arrays, chosen, swaps)
            else:
                child = self._crossover_child(study, arrays, chosen, swaps, rng)
        else:
            parent = arrays.trials[_pick(u[1], len(arrays.trials))]
            child = {name: parent.params[name] for name in arrays.names}
        coins = u[1 + 2 * n_parents + n_swaps :]
        return self._mutate(study, arrays, child, search_space, coins, rng)

    def _uniform_child(
        self, arrays: _Parents, chosen: list[int], swaps: list[float]
    ) -> dict[str, Any]:
        first, last = arrays.trials[chosen[0]].params, arrays.trials[chosen[-1]].params
        numeric_prob = self._crossover._swapping_prob  # type: ignore[attr-defined]
        categorical = arrays.categorical_set
        child: dict[str, Any] = {}
        for name, coin in zip(arrays.names, swaps):
            prob = self._swapping_prob if name in categorical else numeric_prob
            child[name] = last[name] if coin < prob else first[name]
        return child

    def _crossover_child(
        self,
        study: Study,
        arrays: _Parents,
        chosen: list[int],
        swaps: list[float],
        rng: np.random.RandomState,
    ) -> dict[str, Any]:
        child: dict[str, Any] = {}
        if arrays.categorical:
            first, last = arrays.trials[chosen[0]].params, arrays.trials[chosen[-1]].params
            for name, coin in zip(arrays.categorical, swaps):
                child[name] = last[name] if coin < self._swapping_prob else first[name]
        if arrays.transform is not None:
            x = self._crossover.crossover(
                arrays.numeric_params[chosen], rng, study, arrays.transform.bounds
            )
            child.update(arrays.transform.untransform(np.asarray(x, dtype=float)))
        return child

    def _mutate(
        self,
        study: Study,
        arrays: _Parents,
        child: dict[str, Any],
        search_space: dict[str, BaseDistribution],
        coins: list[float],
        rng: np.random.RandomState,
    ) -> dict[str, Any]:
        prob = 1.0 / max(1, len(child)) if self._mutation_prob is None else self._mutation_prob
        params: dict[str, Any] = {}
        for (name, value), coin in zip(child.items(), coins):
            if coin >= prob:
                params[name] = value
            elif self._mutation is not None:
                dist = search_space[name]
                if isinstance(dist, CategoricalDistribution):
                    continue
                transform = arrays.single_transform(name, dist)
                x = transform.transform({name: value})
                mutated = self._mutation.mutation(float(x[0]), rng, study, transform.bounds[0])
                params.update(transform.untransform(np.array([mutated])))
            # else: left out, so the sampler redraws it at random
        return params


def _pick(u: float, n: int) -> int:
    """An index in ``range(n)`` from a uniform draw in [0, 1)."""
    return min(int(u * n), n - 1)  # u * n may round up to n when u is just below 1


def _tournaments(arrays: _Parents, n_parents: int, u: list[float], offset: int) -> list[int]:
    """Choose ``n_parents`` distinct parents by binary tournaments.

    Each tournament draws two candidates (with replacement) among the parents not chosen yet;
    the first wins if it dominates the second, the second otherwise. ``u[offset:]`` holds the
    two uniform draws of each tournament.
    """
    n = len(arrays.trials)
    chosen: list[int] = []
    taken: list[int] = []  # chosen so far, ascending
    for k in range(n_parents):
        if len(taken) == n:  # fewer parents than the crossover needs: allow repeats
            taken = []
        free = n - len(taken)
        a = _skip(taken, _pick(u[offset + 2 * k], free))
        b = _skip(taken, _pick(u[offset + 2 * k + 1], free))
        winner = a if arrays.dominates(a, b) else b
        chosen.append(winner)
        bisect.insort(taken, winner)
    return chosen


def _skip(taken: list[int], i: int) -> int:
    """The ``i``-th index not in ``taken`` (ascending)."""
    for t in taken:
        if i < t:
            break
        i += 1
    return i

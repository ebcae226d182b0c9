"""NSGA-III: NSGA-II with reference-point niching in place of crowding distance."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from skipjack.samplers._nsgaiii._elite import NSGAIIIElitePopulationSelectionStrategy
from skipjack.samplers.nsgaii._crossovers import BaseCrossover
from skipjack.samplers.nsgaii._mutations import BaseMutation
from skipjack.samplers.nsgaii._sampler import AfterTrialStrategy
from skipjack.samplers.nsgaii._sampler import ChildStrategy
from skipjack.samplers.nsgaii._sampler import EliteStrategy
from skipjack.samplers.nsgaii._sampler import _NSGAFamilySampler
from skipjack.samplers.nsgaii._sampler import _warn_experimental

if TYPE_CHECKING:
    from skipjack.trial import FrozenTrial

__all__ = ["NSGAIIISampler"]


class NSGAIIISampler(_NSGAFamilySampler):
    """Multi-objective sampler using NSGA-III (Deb and Jain, 2014).

    Like :class:`~skipjack.samplers.NSGAIISampler`, but the last front admitted to the next
    parents is cut by niching around reference points on the normalized objective simplex,
    which keeps many-objective (3+) fronts spread out.

    Args:
        population_size: Trials per generation.
        mutation: Mutation of numeric parameters, or ``None`` for random resampling.
        mutation_prob: Per-parameter mutation probability (``None``: 1 / number of parameters).
        crossover: Crossover of numeric parameters (``None``: uniform).
        crossover_prob: Probability that a child comes from a crossover.
        swapping_prob: Swap probability of uniform crossovers.
        seed: Seed of the random generator.
        constraints_func: Deprecated; see ``NSGAIISampler``.
        reference_points: ``(n_points, n_objectives)`` array, or ``None`` for Das and
            Dennis's structured points.
        dividing_parameter: Divisions per objective of the default reference points.
        elite_population_selection_strategy: Experimental override of survivor selection.
        child_generation_strategy: Experimental override of child generation.
        after_trial_strategy: Experimental override of the after-trial step.
    """

    def __init__(
        self,
        *,
        population_size: int = 50,
        mutation: BaseMutation | None = None,
        mutation_prob: float | None = None,
        crossover: BaseCrossover | None = None,
        crossover_prob: float = 0.9,
        swapping_prob: float = 0.5,
        seed: int | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        reference_points: np.ndarray | None = None,
        dividing_parameter: int = 3,
        elite_population_selection_strategy: EliteStrategy | None = None,
        child_generation_strategy: ChildStrategy | None = None,
        after_trial_strategy: AfterTrialStrategy | None = None,
    ) -> None:
        if elite_population_selection_strategy is not None:
            _warn_experimental("elite_population_selection_strategy")
        super().__init__(
            population_size=population_size,
            mutation=mutation,
            mutation_prob=mutation_prob,
            crossover=crossover,
            crossover_prob=crossover_prob,
            swapping_prob=swapping_prob,
            seed=seed,
            constraints_func=constraints_func,
            child_generation_strategy=child_generation_strategy,
            after_trial_strategy=after_trial_strategy,
        )
        self._reference_points = reference_points
        self._dividing_parameter = dividing_parameter
        self._elite_population_selection_strategy = (
            elite_population_selection_strategy
            or NSGAIIIElitePopulationSelectionStrategy(
                population_size=population_size,
                constraints_func=constraints_func,
                reference_points=reference_points,
                dividing_parameter=dividing_parameter,
                rng=self._rng,
            )
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(population_size={self._population_size!r}, "
            f"dividing_parameter={self._dividing_parameter!r}, seed={self._seed!r})"
        )

"""NSGA-II: the elitist non-dominated sorting genetic algorithm as a sampler.

Deb, Pratap, Agarwal and Meyarivan (2002), "A fast and elitist multiobjective genetic algorithm:
NSGA-II", IEEE Trans. Evol. Comput. 6(2). Each generation of ``population_size`` trials is bred
from survivors chosen among the previous generation and its parents (elitism); survivors are
chosen by non-domination rank and crowding distance. The sampler only holds caches: generations
and parents live in the storage, so every process working on a study shares them.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
import warnings

from skipjack.exceptions import ExperimentalWarning
from skipjack.samplers._base import _process_constraints_after_trial
from skipjack.samplers._ga._base import BaseGASampler
from skipjack.samplers._lazy_random_state import LazyRandomState
from skipjack.samplers._random import RandomSampler
from skipjack.samplers.nsgaii._child_generation import NSGAIIChildGenerationStrategy
from skipjack.samplers.nsgaii._crossovers import BaseCrossover
from skipjack.samplers.nsgaii._crossovers import UniformCrossover
from skipjack.samplers.nsgaii._elite import NSGAIIElitePopulationSelectionStrategy
from skipjack.samplers.nsgaii._mutations import BaseMutation
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.distributions import BaseDistribution
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["NSGAIISampler"]

EliteStrategy = Callable[["Study", list["FrozenTrial"]], list["FrozenTrial"]]
ChildStrategy = Callable[
    ["Study", dict[str, "BaseDistribution"], list["FrozenTrial"]], dict[str, Any]
]
AfterTrialStrategy = Callable[["Study", "FrozenTrial", TrialState, "Sequence[float] | None"], None]


class NSGAIIAfterTrialStrategy:
    """Store the constraint values of a finished trial when a ``constraints_func`` is given."""

    def __init__(
        self, *, constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None
    ) -> None:
        self._constraints_func = constraints_func

    def __call__(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None = None,
    ) -> None:
        """Evaluate and store the constraints of a COMPLETE or PRUNED trial."""
        if self._constraints_func is not None:
            _process_constraints_after_trial(self._constraints_func, study, trial, state)


def _warn_experimental(name: str) -> None:
    warnings.warn(
        f"Argument ``{name}`` is an experimental feature. The interface can change in the future.",
        ExperimentalWarning,
        stacklevel=3,
    )


def _warn_constraints_func() -> None:
    warnings.warn(
        "`constraints_func` has been deprecated in v5.0.0. This feature will be removed in "
        "v7.0.0. Use `optuna.trial.Trial.set_constraint` instead.",
        FutureWarning,
        stacklevel=3,
    )


class _NSGAFamilySampler(BaseGASampler):
    """What NSGA-II and NSGA-III share: everything but the survivor selection."""

    def __init__(
        self,
        *,
        population_size: int,
        mutation: BaseMutation | None,
        mutation_prob: float | None,
        crossover: BaseCrossover | None,
        crossover_prob: float,
        swapping_prob: float,
        seed: int | None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None,
        child_generation_strategy: ChildStrategy | None,
        after_trial_strategy: AfterTrialStrategy | None,
    ) -> None:
        if population_size < 2:
            raise ValueError(
                f"`population_size` must be greater than or equal to 2, got {population_size}."
            )
        if constraints_func is not None:
            _warn_constraints_func()
        if after_trial_strategy is not None:
            _warn_experimental("after_trial_strategy")
        if child_generation_strategy is not None:
            _warn_experimental("child_generation_strategy")
        if crossover is None:
            crossover = UniformCrossover(swapping_prob)
        if not isinstance(crossover, BaseCrossover):
            raise ValueError(
                f"'{crossover}' is not a valid crossover; use one of skipjack.samplers.nsgaii's "
                "crossovers (UniformCrossover, BLXAlphaCrossover, SBXCrossover, VSBXCrossover, "
                "UNDXCrossover, SPXCrossover)."
            )
        if population_size < crossover.n_parents:
            raise ValueError(
                f"Using {crossover}, the population size should be greater than or equal to "
                f"{crossover.n_parents}. The specified `population_size` is {population_size}."
            )
        super().__init__(population_size=population_size)
        self._seed = seed
        self._mutation = mutation
        self._mutation_prob = mutation_prob
        self._crossover = crossover
        self._crossover_prob = crossover_prob
        self._swapping_prob = swapping_prob
        self._constraints_func = constraints_func
        self._random_sampler = RandomSampler(seed=seed)
        self._rng = LazyRandomState(seed)
        self._child_generation_strategy = child_generation_strategy or (
            NSGAIIChildGenerationStrategy(
                crossover_prob=crossover_prob,
                mutation=mutation,
                mutation_prob=mutation_prob,
                swapping_prob=swapping_prob,
                crossover=crossover,
                constraints_func=constraints_func,
                rng=self._rng,
            )
        )
        self._after_trial_strategy = after_trial_strategy or NSGAIIAfterTrialStrategy(
            constraints_func=constraints_func
        )
        self._elite_population_selection_strategy: EliteStrategy

    def reseed_rng(self) -> None:
        """Give the sampler (and its random fallback) fresh OS entropy."""
        self._random_sampler.reseed_rng()
        self._rng.rng.seed()

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """Return the intersection search space, without single-valued parameters."""
        # before_trial refreshed the index for this trial a moment ago.
        return self._breedable_search_space(study, refresh=False)

    def select_parent(self, study: Study, generation: int) -> list[FrozenTrial]:
        """Survivors among the previous generation and its parents (elitism)."""
        pool = self.get_population(study, generation - 1) + self.get_parent_population(
            study, generation - 1
        )
        return self._elite_population_selection_strategy(study, pool)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Breed this trial's parameters from its generation's parents (``{}`` in generation 0)."""
        generation = self.get_trial_generation(study, trial)
        self._local.trial_id = trial._trial_id
        try:
            parents = self.get_parent_population(study, generation)
        finally:
            self._local.trial_id = None
        if not parents:
            return {}
        return self._child_generation_strategy(study, search_space, parents)

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Draw uniformly at random: the first generation, mutations and new parameters."""
        return self._random_sampler.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        """Assign the trial its generation as it starts."""
        # Optuna assigns it in sample_relative, which our Trial skips while the relative search
        # space is empty; assigning here gives every trial a generation.
        self.get_trial_generation(study, trial)
        self._random_sampler.before_trial(study, trial)

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """Run the after-trial strategy (constraints) and drop per-trial bookkeeping."""
        try:
            self._after_trial_strategy(study, trial, state, values)
            self._random_sampler.after_trial(study, trial, state, values)
        finally:
            self._forget_trial(trial)


class NSGAIISampler(_NSGAFamilySampler):
    """Multi-objective sampler using NSGA-II (Deb et al., 2002).

    The first generation is random. Each later generation is bred from the survivors of the
    previous generation plus its parents: survivors are chosen by non-domination rank, ties on
    the last admitted front broken by crowding distance. Children come from binary tournaments,
    a crossover and mutation. Generations and parents are stored in the study, so many threads
    or processes can optimize one study together. Works for single-objective studies too.

    Args:
        population_size: Trials per generation (>= 2 and >= ``crossover.n_parents``).
        mutation: Mutation of numeric parameters (e.g. ``PolynomialMutation``); ``None``
            resamples a mutated parameter at random.
        mutation_prob: Per-parameter mutation probability; ``None`` means one over the number
            of parameters.
        crossover: Crossover of numeric parameters; ``None`` means
            ``UniformCrossover(swapping_prob)``. Categorical parameters always use a uniform
            crossover.
        crossover_prob: Probability that a child comes from a crossover rather than a copy.
        swapping_prob: Probability of taking a parameter from the other parent in uniform
            crossovers.
        seed: Seed of the random generator.
        constraints_func: Deprecated in Optuna 5.0 (use ``Trial.set_constraint``). Maps a
            finished trial to constraint values, feasible when all are ``<= 0``; constrained
            domination then prefers feasible trials, then smaller total violation.
        elite_population_selection_strategy: ``(study, population) -> survivors``; experimental.
        child_generation_strategy: ``(study, search_space, parents) -> params``; experimental.
        after_trial_strategy: ``(study, trial, state, values) -> None``; experimental.
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
        self._elite_population_selection_strategy = (
            elite_population_selection_strategy
            or NSGAIIElitePopulationSelectionStrategy(
                population_size=population_size, constraints_func=constraints_func
            )
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(population_size={self._population_size!r}, "
            f"mutation={self._mutation!r}, mutation_prob={self._mutation_prob!r}, "
            f"crossover={self._crossover!r}, crossover_prob={self._crossover_prob!r}, "
            f"swapping_prob={self._swapping_prob!r}, seed={self._seed!r})"
        )

"""TPESampler: Tree-structured Parzen Estimator, the default sampler.

Per parameter set, the finished trials are split into a small "good" set (the best
``gamma(n)`` trials) and the rest; a Parzen estimator is fitted to each (``l(x)`` and ``g(x)``,
Bergstra et al., 2011, Sec. 4), ``n_ei_candidates`` points are drawn from ``l`` and the one
maximizing ``l(x) / g(x)`` is returned: by Bergstra et al.'s Eq. (3) that ratio ranks points
as expected improvement does. Multivariate TPE (Falkner et al., 2018, "BOHB") fits one joint
estimator per search space instead of one per parameter.

The split itself (``_split.py``) ranks complete, then pruned, then infeasible trials; with
several objectives by non-domination rank and hypervolume contribution (MOTPE, Ozaki et al.,
2022). With ``constant_liar`` the other RUNNING trials join the bad set, so workers sharing a
storage spread out. Finished trials are read from the study's columnar history
(``skipjack.study._history``) plus per-row facts and sorted parameter columns kept
incrementally (``_rows.py``, ``_order.py``), so a suggestion costs a few linear passes over the
trials, not a rebuild from FrozenTrial objects nor a fresh sort.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
import threading
from typing import TYPE_CHECKING
from typing import Any
import warnings

import numpy as np

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.exceptions import ExperimentalWarning
from skipjack.logging import get_logger
from skipjack.samplers._base import BaseSampler
from skipjack.samplers._base import _ForwardsTrialHooks
from skipjack.samplers._base import _process_constraints_after_trial
from skipjack.samplers._base import _warn_independent_sampling
from skipjack.samplers._lazy_random_state import LazyRandomState
from skipjack.samplers._random import RandomSampler
from skipjack.samplers._tpe._defaults import _checked_weights
from skipjack.samplers._tpe._defaults import default_gamma
from skipjack.samplers._tpe._defaults import default_gamma_multiobjective
from skipjack.samplers._tpe._defaults import default_weights
from skipjack.samplers._tpe._defaults import deprecated_argument
from skipjack.samplers._tpe._defaults import hyperopt_default_gamma
from skipjack.samplers._tpe._defaults import hyperopt_parameters
from skipjack.samplers._tpe._discrete import DiscreteSpace
from skipjack.samplers._tpe._discrete import DiscreteSpaces
from skipjack.samplers._tpe._discrete import best_cell
from skipjack.samplers._tpe._incremental import MIN_OBSERVATIONS
from skipjack.samplers._tpe._incremental import IncrementalMixture
from skipjack.samplers._tpe._incremental import MixtureCache
from skipjack.samplers._tpe._observed import merged_with_running
from skipjack.samplers._tpe._observed import observation_orders_at
from skipjack.samplers._tpe._observed import observations
from skipjack.samplers._tpe._observed import values_at
from skipjack.samplers._tpe._parzen_estimator import _ParzenEstimator
from skipjack.samplers._tpe._ratio import log_density_ratio
from skipjack.samplers._tpe._rows import RowFacts
from skipjack.samplers._tpe._running import running_params
from skipjack.samplers._tpe._running import store_relative_params
from skipjack.samplers._tpe._split import split_rows
from skipjack.search_space import _GroupDecomposedSearchSpace
from skipjack.search_space import _SearchSpaceGroup
from skipjack.study._history import HistorySnapshot
from skipjack.study._history import TrialHistory
from skipjack.study._history import history_of
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = [
    "TPESampler",
    "default_gamma",
    "default_gamma_multiobjective",
    "default_weights",
    "hyperopt_default_gamma",
]

_logger = get_logger(__name__)

_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


class TPESampler(_ForwardsTrialHooks, BaseSampler):
    """Sample with the Tree-structured Parzen Estimator (TPE).

    Until ``n_startup_trials`` trials have finished (COMPLETE or PRUNED), parameters are drawn
    at random. Afterwards, for each search space, the finished trials are split into the best
    ``gamma(n)`` and the rest; one Parzen estimator is fitted to each and, of
    ``n_ei_candidates`` points drawn from the good one, the point with the largest density
    ratio good/bad is suggested.

    Numeric parameters use normal kernels truncated to their range (in the log domain for
    ``log=True``, integrated over each grid cell for ``step`` and integers); categorical ones
    put extra mass on the observed choice. Pruned trials rank after complete ones (deeper and
    better reports first), infeasible trials after both (smaller total violation first).

    Args:
        consider_prior: Deprecated (always on); accepted with a FutureWarning.
        prior_weight: Deprecated. Weight of the prior kernel (default 1.0).
        consider_magic_clip: Deprecated. Bound bandwidths below (default True).
        consider_endpoints: Deprecated. Let edge kernels reach the range ends (default False).
        n_startup_trials: Number of finished trials sampled at random first.
        n_ei_candidates: Number of candidates drawn from the good estimator per suggestion.
        gamma: Deprecated. Function of the number of finished trials giving the good set's
            size (default: :func:`default_gamma`, or :func:`default_gamma_multiobjective`).
        weights: Deprecated. Function of the number of observations giving their weights in
            trial order (default: :func:`default_weights`). With several objectives it weights
            the bad set only.
        seed: Seed of the random generator.
        multivariate: Model the relative search space jointly. ``None``: on for one objective,
            off for several.
        group: With ``multivariate``, split the space into groups of parameters that always
            occur together (conditional spaces) and model each group jointly. Experimental.
        warn_independent_sampling: Deprecated. Log a warning when a parameter falls back to
            independent sampling under ``multivariate`` (default False).
        constant_liar: Count RUNNING trials (of any worker sharing the storage) as bad ones,
            so parallel workers spread out.
        constraints_func: Deprecated (use ``Trial.set_constraint``). Function of a finished
            trial returning its constraint values; ``<= 0`` is feasible.

    Example:
        >>> import skipjack as optuna
        >>> sampler = optuna.samplers.TPESampler(seed=1)
        >>> study = optuna.create_study(sampler=sampler)
        >>> study.optimize(lambda t: t.suggest_float("x", -3, 3) ** 2, n_trials=20)
    """

    def __init__(
        self,
        *,
        consider_prior: bool | None = None,
        prior_weight: float | None = None,
        consider_magic_clip: bool | None = None,
        consider_endpoints: bool | None = None,
        n_startup_trials: int = 10,
        n_ei_candidates: int = 24,
        gamma: Callable[[int], int] | None = None,
        weights: Callable[[int], np.ndarray] | None = None,
        seed: int | None = None,
        multivariate: bool | None = None,
        group: bool = False,
        warn_independent_sampling: bool | None = None,
        constant_liar: bool = True,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
    ) -> None:
        deprecated_argument("consider_prior", consider_prior, True, "4.3.0", "6.0.0")
        self._prior_weight = float(
            deprecated_argument("prior_weight", prior_weight, 1.0, "4.9.0", "6.0.0")
        )
        self._consider_magic_clip = bool(
            deprecated_argument("consider_magic_clip", consider_magic_clip, True, "4.9.0", "6.0.0")
        )
        self._consider_endpoints = bool(
            deprecated_argument("consider_endpoints", consider_endpoints, False, "4.9.0", "6.0.0")
        )
        self._gamma: Callable[[int], int] | None = deprecated_argument(
            "gamma", gamma, None, "4.9.0", "6.0.0"
        )
        self._weights: Callable[[int], np.ndarray] = deprecated_argument(
            "weights", weights, default_weights, "4.9.0", "6.0.0"
        )
        self._warn_independent_sampling = bool(
            deprecated_argument(
                "warn_independent_sampling", warn_independent_sampling, False, "4.9.0", "6.0.0"
            )
        )
        if self._prior_weight < 0:
            raise ValueError(f"prior_weight must be non-negative, got {prior_weight}.")
        if n_ei_candidates < 1:
            raise ValueError(f"n_ei_candidates must be at least 1, got {n_ei_candidates}.")
        if group and multivariate is False:
            raise ValueError(
                "``group`` option can only be enabled when ``multivariate`` is enabled."
            )
        self._n_startup_trials = n_startup_trials
        self._n_ei_candidates = n_ei_candidates
        self._seed = seed
        self._multivariate = multivariate
        self._group = group
        self._constant_liar = constant_liar
        self._constraints_func = constraints_func
        self._rng = LazyRandomState(seed)
        self._random_sampler = RandomSampler(seed=seed)
        self._group_decomposed_search_space: _GroupDecomposedSearchSpace | None = None
        self._search_space_group: _SearchSpaceGroup | None = None
        if group:
            warnings.warn(
                "Argument ``group`` is an experimental feature. The interface can change in the "
                "future.",
                ExperimentalWarning,
                stacklevel=2,
            )
            self._group_decomposed_search_space = _GroupDecomposedSearchSpace(True)
        if constraints_func is not None:
            warnings.warn(
                "`constraints_func` has been deprecated in v5.0.0. This feature will be removed "
                "in v7.0.0. See https://github.com/optuna/optuna/releases/tag/v5.0.0. "
                "Use `optuna.trial.Trial.set_constraint` instead.",
                FutureWarning,
                stacklevel=2,
            )
        self._lock = threading.Lock()
        self._facts: dict[int, tuple[TrialHistory, RowFacts]] = {}
        # (history, rows held, n_below) -> (below rows, above rows): one split per new trial.
        self._split_cache: tuple[Any, int, int, np.ndarray, np.ndarray] | None = None
        self._mixtures = MixtureCache()
        self._local = threading.local()  # this thread's last good estimator
        self._discrete_spaces = DiscreteSpaces(
            self._prior_weight, self._consider_magic_clip, self._consider_endpoints
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_startup_trials={self._n_startup_trials}, "
            f"n_ei_candidates={self._n_ei_candidates}, seed={self._seed!r}, "
            f"multivariate={self._multivariate!r}, group={self._group!r}, "
            f"constant_liar={self._constant_liar!r})"
        )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for key in ("_lock", "_facts", "_split_cache", "_mixtures", "_local", "_discrete_spaces"):
            del state[key]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._facts = {}
        self._split_cache = None
        self._mixtures = MixtureCache()
        self._local = threading.local()
        self._discrete_spaces = DiscreteSpaces(
            self._prior_weight, self._consider_magic_clip, self._consider_endpoints
        )

    def reseed_rng(self) -> None:
        """Reseed this sampler's generators from the operating system."""
        self._rng.rng.seed()
        self._random_sampler.reseed_rng()

    # ---- search space ------------------------------------------------------------------------
    def _is_multivariate(self, study: Study) -> bool:
        if self._multivariate is not None:
            return self._multivariate
        multi_objective = len(study.directions) > 1
        if self._group:
            if multi_objective:
                warnings.warn(
                    "``multivariate`` defaults to False for multi-objective optimization, but it "
                    "is treated as True because ``group`` can only be enabled with the "
                    "multivariate TPE. Set ``multivariate=True`` explicitly to suppress this "
                    "warning.",
                    UserWarning,
                    stacklevel=3,
                )
            return True
        return not multi_objective

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        """The intersection search space (or the union of the groups with ``group=True``),
        single-valued parameters left out; ``{}`` when not multivariate."""
        if not self._is_multivariate(study):
            return {}
        if self._group_decomposed_search_space is not None:
            groups = self._group_decomposed_search_space.calculate(study)
            self._search_space_group = groups
            return {
                name: dist
                for space in groups.search_spaces
                for name, dist in sorted(space.items())
                if not dist.single()
            }
        # The intersection search space (Optuna's IntersectionSearchSpace(include_pruned=True)),
        # kept incrementally with the other per-row facts.
        history, snapshot = self._snapshot(study)
        facts = self._row_facts(history, snapshot)
        return {name: dist for name, dist in facts.intersection.items() if not dist.single()}

    # ---- sampling ----------------------------------------------------------------------------
    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        """Sample ``search_space`` jointly (per group with ``group=True``)."""
        if not search_space:
            return {}
        history, snapshot = self._snapshot(study)
        if self._n_finished(snapshot) < self._n_startup_trials:
            return {}
        if self._group and self._search_space_group is not None:
            params: dict[str, Any] = {}
            for space in self._search_space_group.search_spaces:
                sub = {
                    n: d for n, d in sorted(space.items()) if not d.single() and n in search_space
                }
                if sub:
                    params.update(self._sample(study, trial, sub, history, snapshot))
        else:
            params = self._sample(study, trial, search_space, history, snapshot)
        if params and self._constant_liar:
            store_relative_params(study, trial, params)
        return params

    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Sample one parameter with a univariate TPE (at random during the startup)."""
        history, snapshot = self._snapshot(study)
        if self._n_finished(snapshot) < self._n_startup_trials:
            return self._random_sampler.sample_independent(
                study, trial, param_name, param_distribution
            )
        if param_distribution.single():
            return param_distribution.to_external_repr(
                0
                if isinstance(param_distribution, CategoricalDistribution)
                else param_distribution.low  # type: ignore[attr-defined]
            )
        if self._warn_independent_sampling and self._is_multivariate(study):
            if np.isfinite(snapshot.param(param_name)).any():
                _warn_independent_sampling(
                    _logger,
                    self,
                    self._random_sampler,
                    trial,
                    param_name,
                    (
                        "`multivariate=True,group=False` does not support dynamic search "
                        "space (but `multivariate=True,group=True` works)"
                    ),
                )
        space = {param_name: param_distribution}
        return self._sample(study, trial, space, history, snapshot)[param_name]

    def _snapshot(self, study: Study) -> tuple[TrialHistory, HistorySnapshot]:
        history = history_of(study)
        return history, history.snapshot()

    @staticmethod
    def _n_finished(snapshot: HistorySnapshot) -> int:
        return snapshot.count(_FINISHED)

    def _row_facts(self, history: TrialHistory, snapshot: HistorySnapshot) -> RowFacts:
        with self._lock:
            entry = self._facts.get(id(history))
            if entry is None or entry[0] is not history:
                entry = (history, RowFacts())
                self._facts[id(history)] = entry
        facts = entry[1]
        facts.update(snapshot)
        return facts

    def _split(
        self, study: Study, history: TrialHistory, snapshot: HistorySnapshot, facts: RowFacts
    ) -> tuple[np.ndarray, np.ndarray]:
        """Finished rows split into good and bad, each in trial-number order (cached)."""
        n_rows = len(snapshot)
        gamma = self._gamma
        if gamma is None:
            gamma = default_gamma if len(study.directions) <= 1 else default_gamma_multiobjective
        n_below = int(gamma(self._n_finished(snapshot)))
        cached = self._split_cache
        if cached is not None and cached[0] is history and cached[1:3] == (n_rows, n_below):
            return cached[3], cached[4]
        below, above = split_rows(snapshot, facts, study.directions, n_below)
        self._split_cache = (history, n_rows, n_below, below, above)
        return below, above

    def _good_model(
        self,
        history: TrialHistory,
        space: dict[str, BaseDistribution],
        rows: np.ndarray,
        observe: Callable[[], dict[str, np.ndarray]],
        weights: np.ndarray,
        options: dict[str, Any],
        evaluator: bool,
    ) -> tuple[_ParzenEstimator, IncrementalMixture | None]:
        """The good estimator (which draws the candidates) and, with ``evaluator``, the same
        mixture as an :class:`IncrementalMixture`, which is cheaper to evaluate. This
        thread's last pair for ``space`` is reused while its rows and weights are the same
        (late in a study most trials do not change the good set); the second form is made
        only for a reused estimator (``None`` on first use). ``observe()`` gives the rows'
        values, asked for only when something is built."""
        last: dict[Any, tuple[Any, list[Any]]] | None = getattr(self._local, "good", None)
        if last is None or len(last) > 64:
            last = self._local.good = {}
        space_key = tuple(space.items())
        key = (history, rows.tobytes(), weights.tobytes())
        cached = last.get(space_key)
        if cached is None or cached[0] != key:
            estimator = _ParzenEstimator(observe(), space, weights, **options)
            last[space_key] = (key, [estimator, None, 1])
            return estimator, None
        # Used a third time: worth a second form that is cheaper to evaluate. (With several
        # objectives the good set changes every few trials; building it sooner costs more
        # than it saves.)
        model = cached[1]
        model[2] += 1
        if evaluator and model[1] is None and model[2] >= 3:
            mixture = IncrementalMixture(space, self._prior_weight, self._consider_endpoints)
            mixture.update(rows, values_at(None, space, rows, observe()), weights)
            model[1] = mixture
        return model[0], model[1] if evaluator else None

    def _incremental(self, space: dict[str, BaseDistribution], n_observations: int) -> bool:
        """Whether the bad estimator is kept up to date across suggestions
        (:class:`IncrementalMixture`) rather than built afresh: when it has many observations
        (finished trials, and other trials' running values under the constant liar) and the
        space is not a single discrete parameter (which is evaluated per cell instead)."""
        if n_observations < MIN_OBSERVATIONS:
            return False
        if len(space) == 1:
            dist = next(iter(space.values()))
            if isinstance(dist, CategoricalDistribution) or dist.step is not None:  # type: ignore[attr-defined]
                return False
        return IncrementalMixture.supports(space, self._consider_magic_clip, self._prior_weight)

    def _sample(
        self,
        study: Study,
        trial: FrozenTrial,
        space: dict[str, BaseDistribution],
        history: TrialHistory,
        snapshot: HistorySnapshot,
    ) -> dict[str, Any]:
        facts = self._row_facts(history, snapshot)
        below_rows, above_rows = self._split(study, history, snapshot, facts)
        running = (
            running_params(study, trial, self._is_multivariate(study))
            if self._constant_liar
            else []
        )
        discrete = self._discrete_spaces.get(space)
        if discrete is not None:
            picked = self._sample_discrete(
                study, discrete, space, history, snapshot, facts, below_rows, above_rows, running
            )
            if picked is not None:
                return picked
        # Whether every scored row holds every parameter under this distribution: then the
        # rows' values need neither a check nor a conversion, and are read only when needed.
        plain = all(facts.intersection.get(n) == d for n, d in space.items())
        below: dict[str, np.ndarray] | None = None
        if plain:
            below_kept: np.ndarray | None = below_rows
            n_below = len(below_rows)
        else:
            below, below_kept, _ = observations(snapshot, facts, below_rows, space)
            n_below = len(next(iter(below.values())))
        above: dict[str, np.ndarray] | None = None
        # The trial numbers of the bad observations when other trials' running values are
        # among them (then they are not all history rows).
        above_numbers: np.ndarray | None = None
        above_reader: Callable[[np.ndarray], dict[str, np.ndarray]] | None = None
        if plain and not running:
            above_kept: np.ndarray | None = above_rows
            n_above = len(above_rows)
        elif plain and len(above_rows) + len(running) >= MIN_OBSERVATIONS:
            # Likely kept: read only what the kept mixture asks for.
            above_kept = None
            above_numbers, above_reader = merged_with_running(snapshot, above_rows, space, running)
            n_above = len(above_numbers)
        else:
            above, above_kept, above_numbers = observations(
                snapshot, facts, above_rows, space, running
            )
            n_above = len(next(iter(above.values())))
        if len(study.directions) > 1:
            below_weights = np.ones(n_below)
        else:
            below_weights = _checked_weights(self._weights, n_below)
        options: dict[str, Any] = {
            "prior_weight": self._prior_weight,
            "consider_magic_clip": self._consider_magic_clip,
            "consider_endpoints": self._consider_endpoints,
        }
        incremental = self._incremental(space, n_above)
        assert below_kept is not None
        good, good_mixture = self._good_model(
            history,
            space,
            below_kept,
            lambda: below or observations(snapshot, facts, below_rows, space)[0],
            below_weights,
            options,
            incremental,
        )
        above_weights = _checked_weights(self._weights, n_above)
        candidates = good.sample(self._rng.rng, self._n_ei_candidates)
        # log l(x) - log g(x): the candidate with the largest ratio wins (Bergstra et al. Eq. 3).
        if incremental:
            mixture = self._mixtures.get(
                history, space, self._prior_weight, self._consider_endpoints
            )
            # Trial numbers name the kernels: a running trial keeps its kernel when it finishes.
            if above_kept is not None:
                mixture.update(
                    snapshot.numbers[above_kept],
                    values_at(snapshot, space, above_kept, above),
                    above_weights,
                )
            else:
                assert above_numbers is not None
                if above_reader is None:
                    above_reader = values_at(None, space, above_numbers, above)
                mixture.update(above_numbers, above_reader, above_weights)
            points = mixture.points(candidates)
            good_density = (
                good.log_pdf(candidates) if good_mixture is None else good_mixture.log_pdf(points)
            )
            score = good_density - mixture.log_pdf(points)
        else:
            if above is None:
                above = observations(snapshot, facts, above_rows, space, running)[0]
            bad = _ParzenEstimator(
                above,
                space,
                above_weights,
                orders=observation_orders_at(snapshot, facts, space, above_kept),
                **options,
            )
            score = log_density_ratio(good, bad, candidates)
        return self._best(space, candidates, score)

    def _sample_discrete(
        self,
        study: Study,
        discrete: DiscreteSpace,
        space: dict[str, BaseDistribution],
        history: TrialHistory,
        snapshot: HistorySnapshot,
        facts: RowFacts,
        below_rows: np.ndarray,
        above_rows: np.ndarray,
        running: list[tuple[int, dict[str, Any]]],
    ) -> dict[str, Any] | None:
        """TPE over the cells of one discrete parameter (:mod:`._discrete`): candidates drawn
        by the good mixture's cell probabilities, the best ratio of the two mixtures' wins.
        ``None`` when an observation is not a cell (the estimators take over)."""
        ((name, dist),) = space.items()

        def good_cells() -> np.ndarray | None:
            below = observations(snapshot, facts, below_rows, space)[0][name]
            if len(study.directions) > 1:
                return discrete.probabilities(below, np.ones(len(below)))
            return discrete.probabilities(below, _checked_weights(self._weights, len(below)))

        key = (name, dist, history, below_rows.tobytes(), len(study.directions))
        found = self._discrete_spaces.good(key, good_cells)
        if found is None:
            return None
        good, cdf = found
        above = observations(snapshot, facts, above_rows, space, running)[0][name]
        bad = discrete.probabilities(above, _checked_weights(self._weights, len(above)))
        if bad is None:
            return None
        best = best_cell(good, cdf, bad, self._rng.rng, self._n_ei_candidates)
        return {name: dist.to_external_repr(discrete.values[best].item())}

    @staticmethod
    def _best(
        space: dict[str, BaseDistribution], candidates: dict[str, np.ndarray], score: np.ndarray
    ) -> dict[str, Any]:
        """The candidate with the highest score, in external values."""
        best = int(np.argmax(score))
        return {
            name: dist.to_external_repr(candidates[name][best].item())
            for name, dist in space.items()
        }

    # ---- hooks ---------------------------------------------------------------------------------
    def _hook_sampler(self) -> BaseSampler:
        return self._random_sampler

    def _finish_trial(self, study: Study, trial: FrozenTrial, state: TrialState) -> None:
        """Store ``constraints_func``'s values (if given) for the finished trial."""
        if self._constraints_func is not None:
            _process_constraints_after_trial(self._constraints_func, study, trial, state)

    @staticmethod
    def hyperopt_parameters() -> dict[str, Any]:
        """Deprecated: arguments reproducing hyperopt 0.1.2's defaults."""
        return hyperopt_parameters()

"""BruteForceSampler: evaluate every combination of a finite define-by-run space exactly once.

How it works
------------
A *node* of the search tree is a partial assignment: a sorted tuple of ``(name, index)`` pairs,
where ``index`` numbers the choices of that parameter's distribution. Because an objective
branches deterministically (the same choices lead to the same next question), the set of
parameters chosen so far identifies where a trial is in the tree, whatever the order.

Each worker keeps, per study, a tree learnt incrementally: from its own trials while they suggest
and from finished trials read through ``get_finished_trials_since`` (only new ones each time, so
the cost of one trial does not depend on how many are done). The *frontier* is the set of nodes
whose parent is known to ask a parameter but that no known trial has reached yet.

When a trial asks for its first parameter the sampler *reserves* one frontier node: it claims
``bf:<hash of the node>`` in the storage (first writer wins). The trial then follows the path to
that node and, below it, claims a fresh child at every further question. Nobody else can enter a
reserved node until it is known to branch further (a finished trial went through it, or a running
trial has already set a parameter below it, having claimed its own child first), so two trials
never share a full assignment. When every frontier node is held by running trials the sampler
waits for one of them to make progress instead of guessing; with the default
``avoid_premature_stop=False`` it does not wait for nodes that look like single combinations
(a sibling of theirs was a leaf).

Guarantee: with a storage that implements ``claim`` and an objective whose branching is
deterministic, no combination is evaluated twice (concurrent threads, processes or machines),
and once the workers stop, every combination has been started by some trial. A worker that dies
mid-trial leaves that one combination RUNNING (as in Optuna); with heartbeats it becomes FAIL
and a retry callback re-runs it. The branch below it is still shared out to the other workers.
Trials that find nothing left to do are pruned at their first suggestion and carry the system
attribute ``skipjack:brute_force:surplus``; they hold no combination. The reserved node is stored
in the trial's system attribute ``skipjack:brute_force:target``, so a retry made by
:class:`~skipjack.storages.RetryFailedTrialCallback` (which copies system attributes) takes over
exactly the combination its failed predecessor held.
"""

from __future__ import annotations

from collections.abc import Sequence
import decimal
import hashlib
import logging
import random
import threading
import time
from typing import TYPE_CHECKING
from typing import Any
import warnings

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.exceptions import ExperimentalWarning
from skipjack.exceptions import TrialPruned
from skipjack.samplers._base import BaseSampler
from skipjack.samplers._base import _IndependentOnly
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["BruteForceSampler"]

_logger = logging.getLogger(__name__)

SURPLUS_ATTR = "skipjack:brute_force:surplus"
_TARGET_ATTR = "skipjack:brute_force:target"

Node = tuple[tuple[str, int], ...]


def n_choices(distribution: BaseDistribution) -> int:
    """Number of values ``distribution`` can take; ValueError when that is infinite."""
    if isinstance(distribution, CategoricalDistribution):
        return len(distribution.choices)
    if isinstance(distribution, IntDistribution):
        return (distribution.high - distribution.low) // distribution.step + 1
    if isinstance(distribution, FloatDistribution):
        if distribution.step is None:
            raise ValueError(
                "BruteForceSampler needs a finite search space, but a float parameter has no "
                f"step ({distribution}). Pass `step=` to suggest_float, or use "
                "suggest_categorical with explicit values."
            )
        span = decimal.Decimal(str(distribution.high)) - decimal.Decimal(str(distribution.low))
        return int(span // decimal.Decimal(str(distribution.step))) + 1
    raise ValueError(f"BruteForceSampler does not support {type(distribution).__name__}.")


def value_at(distribution: BaseDistribution, index: int) -> Any:
    """The external value of choice number ``index`` of ``distribution``."""
    if isinstance(distribution, CategoricalDistribution):
        return distribution.choices[index]
    if isinstance(distribution, IntDistribution):
        return distribution.low + index * distribution.step
    assert isinstance(distribution, FloatDistribution) and distribution.step is not None
    low = decimal.Decimal(str(distribution.low))
    value = float(low + index * decimal.Decimal(str(distribution.step)))
    return min(value, distribution.high)


def index_of(distribution: BaseDistribution, value: Any) -> int:
    """The choice number of the external ``value`` in ``distribution``."""
    internal = distribution.to_internal_repr(value)
    if isinstance(distribution, CategoricalDistribution):
        return int(internal)
    if isinstance(distribution, IntDistribution):
        return (int(internal) - distribution.low) // distribution.step
    assert isinstance(distribution, FloatDistribution)
    step = distribution.step if distribution.step is not None else 1.0
    return round((float(internal) - distribution.low) / step)


def child_of(node: Node, name: str, index: int) -> Node:
    """The node reached from ``node`` by choosing ``index`` for ``name``."""
    return tuple(sorted((*node, (name, index))))


def claim_key(node: Node) -> str:
    """Storage claim key of a node (fixed length, whatever the depth)."""
    return "bf:" + hashlib.sha1(repr(node).encode()).hexdigest()


def path_of(trial: FrozenTrial) -> list[tuple[str, int, int]]:
    """``(name, index, number of choices)`` of each parameter, in the order they were set."""
    path = []
    for name, value in trial.params.items():
        dist = trial.distributions[name]
        try:
            path.append((name, index_of(dist, value), n_choices(dist)))
        except ValueError:
            path.append((name, 0, 1))
    return path


class _Tree:
    """What one worker knows of a study's search tree. Not thread-safe: guard with a lock."""

    def __init__(self) -> None:
        self.known: set[Node] = set()  # reached by some trial (finished or ours)
        self.internal: set[Node] = set()  # known to ask a further parameter
        self.frontier: list[Node] = []
        self._frontier_pos: dict[Node, int] = {}
        self.own: set[Node] = set()  # reserved by running trials of this worker
        self.foreign: set[Node] = set()  # claimed by trials of other workers
        self.parent: dict[Node, Node] = {}  # for nodes not known yet
        self.leaf_parents: set[Node] = set()  # nodes with a child that is a known leaf
        self.seen_trials: set[int] = set()
        self.watermark = 0

    def add_frontier(self, node: Node) -> None:
        if node in self._frontier_pos or node in self.known:
            return
        if node in self.own or node in self.foreign:
            return
        self._frontier_pos[node] = len(self.frontier)
        self.frontier.append(node)

    def drop_frontier(self, node: Node) -> None:
        pos = self._frontier_pos.pop(node, None)
        if pos is None:
            return
        last = self.frontier.pop()
        if last != node:
            self.frontier[pos] = last
            self._frontier_pos[last] = pos

    def add_internal(self, node: Node, name: str, n: int) -> None:
        if node in self.internal:
            return
        self.internal.add(node)
        for i in range(n):
            child = child_of(node, name, i)
            if child not in self.known:
                self.parent[child] = node
            self.add_frontier(child)

    def mark_known(self, node: Node) -> None:
        self.known.add(node)
        self.parent.pop(node, None)
        self.drop_frontier(node)
        self.own.discard(node)
        self.foreign.discard(node)

    def add_path(self, path: Sequence[tuple[str, int, int]], complete: bool = True) -> Node:
        node: Node = ()
        for name, index, n in path:
            self.add_internal(node, name, n)
            parent, node = node, child_of(node, name, index)
            self.mark_known(node)
        if path and complete:
            self.leaf_parents.add(parent)
        return node

    def only_leaves_pending(self) -> bool:
        """Whether every node held elsewhere has a sibling that turned out to be a leaf."""
        return not self.own and all(
            self.parent.get(node) in self.leaf_parents for node in self.foreign
        )


class BruteForceSampler(_IndependentOnly, BaseSampler):
    """Try every combination of a finite search space, each exactly once.

    The space is whatever the objective suggests, conditional branches included (a parameter's
    range may depend on earlier choices). Categorical, integer and stepped float parameters are
    supported; a float without ``step`` raises ValueError at its suggestion. The study stops by
    itself once every combination has been tried. FAIL trials count as tried; re-running one
    with :class:`~skipjack.storages.RetryFailedTrialCallback` or ``enqueue_trial(trial.params)``
    evaluates exactly that combination again.

    Unlike Optuna, concurrent workers never evaluate the same combination: each trial claims its
    combination in the storage first (see the module documentation for the exact guarantee).
    A storage without claims gets Optuna's best-effort behaviour across processes. Like
    Optuna's, the class is experimental and emits :class:`~skipjack.exceptions.ExperimentalWarning`.

    Args:
        seed: Seed for the random order in which combinations are tried.
        avoid_premature_stop: When True, a worker keeps going (waiting if needed) until every
            combination is finished, not merely started, before it stops the study; a worker
            killed without heartbeats then makes the others wait until its trial is marked
            failed. By default a worker stops once nothing is left to start; the workers that
            hold the remaining combinations finish them and explore any branch they uncover.
    """

    def __init__(self, seed: int | None = None, avoid_premature_stop: bool = False) -> None:
        warnings.warn(
            "BruteForceSampler is experimental (supported from v3.1.0). "
            "The interface can change in the future.",
            ExperimentalWarning,
            stacklevel=2,
        )
        self._rng = random.Random(seed)
        self._avoid_premature_stop = avoid_premature_stop
        self._lock = threading.RLock()
        self._trees: dict[int, _Tree] = {}
        self._targets: dict[int, Node] = {}
        self._started: set[int] = set()
        self._surplus_ids: set[int] = set()
        self._poll_interval = 0.02

    def reseed_rng(self) -> None:
        """Draw a fresh seed for the order of combinations."""
        self._rng.seed()

    # ---- choosing values -------------------------------------------------------------------
    def sample_independent(
        self,
        study: Study,
        trial: FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        """Return the value of ``param_name`` on the way to this trial's combination."""
        n = n_choices(param_distribution)
        trial_id = trial._trial_id
        node: Node = tuple(sorted((name, i) for name, i, _ in path_of(trial)))
        with self._lock:
            first = trial_id not in self._started
            self._started.add(trial_id)
            inherited = trial.system_attrs.get(_TARGET_ATTR) if first else None
            if inherited is not None:
                # A retry (RetryFailedTrialCallback copies system attributes) takes over the
                # combination its failed predecessor had claimed.
                self._targets[trial_id] = _node_from_attr(inherited)
            if not first or inherited is not None or "fixed_params" in trial.system_attrs:
                # One lock hold from learning this node to claiming its child, so no other
                # thread can reserve the child this trial is about to explore.
                self._tree(study).add_internal(node, param_name, n)
                return value_at(param_distribution, self._choose(study, trial, node, param_name, n))
            self._tree(study).add_internal(node, param_name, n)
        self._reserve(study, trial, node)
        with self._lock:
            return value_at(param_distribution, self._choose(study, trial, node, param_name, n))

    def _choose(self, study: Study, trial: FrozenTrial, node: Node, name: str, n: int) -> int:
        """Follow the trial's reserved path, or explore below it (caller holds the lock)."""
        target = self._targets.get(trial._trial_id)
        if target is not None:
            for param, index in target:
                if param == name:
                    return index
        return self._explore(study, trial, node, name, n)

    def _explore(self, study: Study, trial: FrozenTrial, node: Node, name: str, n: int) -> int:
        """Pick a child of ``node`` below this trial's reserved node (caller holds the lock)."""
        tree = self._tree(study)
        order = list(range(n))
        self._rng.shuffle(order)
        for index in order:
            child = child_of(node, name, index)
            if child in tree.known or child in tree.own or child in tree.foreign:
                continue
            tree.drop_frontier(child)
            if self._claim(study, child, trial._trial_id):
                tree.own.add(child)
                return index
            tree.foreign.add(child)
        # Only reachable when enqueued parameters led into a crowded part of the tree.
        _logger.warning(
            f"BruteForceSampler: every value of {name!r} in trial {trial.number} is taken; "
            "this trial may repeat a combination."
        )
        return order[0]

    def _reserve(self, study: Study, trial: FrozenTrial, node: Node) -> None:
        """Claim a frontier node under ``node`` for ``trial``, waiting while all are busy."""
        parts = set(node)
        delay = self._poll_interval
        checked_orphans = False
        peek = False
        while True:
            with self._lock:
                tree = self._tree(study)
                self._sync(study, tree)
                if peek:
                    self._learn_running(study, tree)
                skipped: list[Node] = []
                while tree.frontier:
                    candidate = tree.frontier[self._rng.randrange(len(tree.frontier))]
                    tree.drop_frontier(candidate)
                    if not parts.issubset(candidate):
                        skipped.append(candidate)
                        continue
                    if self._claim(study, candidate, trial._trial_id):
                        tree.own.add(candidate)
                        self._targets[trial._trial_id] = candidate
                        study._storage.set_trial_system_attr(
                            trial._trial_id, _TARGET_ATTR, [list(p) for p in candidate]
                        )
                        for other in skipped:
                            tree.add_frontier(other)
                        return
                    tree.foreign.add(candidate)
                for other in skipped:
                    tree.add_frontier(other)
                busy = bool(tree.own or tree.foreign)
                if busy and not self._avoid_premature_stop and tree.only_leaves_pending():
                    # Optuna's looser criterion: what is left is most likely single combinations
                    # that their holders are evaluating; do not wait for them (a holder that died
                    # without heartbeats would make this worker wait forever).
                    busy = False
            if not busy:
                self._surplus(study, trial)
            if not peek:
                peek = True  # look at the paths of running trials before waiting
                continue
            if checked_orphans:
                with self._lock:
                    self._drop_orphans(study, tree)
                checked_orphans = False
                continue
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)
            checked_orphans = self._only_running_trial(study)
            _fail_stale_trials(study)

    def _learn_running(self, study: Study, tree: _Tree) -> None:
        """Learn from other workers' running trials: each parameter they have already set
        shows a node that asks it (their child there is claimed, so siblings are safe to take).
        This is what lets a branch held by a dead or slow trial be shared."""
        running = study._storage.get_all_trials(
            study._study_id, deepcopy=False, states=(TrialState.RUNNING,)
        )
        for t in running:
            if t._trial_id in self._started or t.system_attrs.get(SURPLUS_ATTR):
                continue
            path = path_of(t)
            if not path:
                continue
            node = tree.add_path(path[:-1], complete=False)
            name, index, n = path[-1]
            tree.add_internal(node, name, n)
            current = child_of(node, name, index)
            if current not in tree.known:
                tree.drop_frontier(current)
                tree.foreign.add(current)
                tree.parent[current] = node

    def _only_running_trial(self, study: Study) -> bool:
        running = study._storage.get_n_trials(study._study_id, TrialState.RUNNING)
        return running <= 1

    def _drop_orphans(self, study: Study, tree: _Tree) -> None:
        """No other trial is running: claims still unresolved belong to dead trials."""
        self._sync(study, tree)
        for node in list(tree.foreign):
            tree.mark_known(node)

    def _surplus(self, study: Study, trial: FrozenTrial) -> None:
        study._storage.set_trial_system_attr(trial._trial_id, SURPLUS_ATTR, True)
        with self._lock:
            self._surplus_ids.add(trial._trial_id)
        _stop(study)
        raise TrialPruned(
            "BruteForceSampler: every combination has been evaluated or is being evaluated by "
            "another trial; this trial has nothing left to do."
        )

    def _claim(self, study: Study, node: Node, trial_id: int) -> bool:
        try:
            return study._storage.claim(study._study_id, claim_key(node), trial_id)
        except NotImplementedError:
            return True

    # ---- learning the tree -----------------------------------------------------------------
    def _tree(self, study: Study) -> _Tree:
        tree = self._trees.get(study._study_id)
        if tree is None:
            tree = self._trees[study._study_id] = _Tree()
        return tree

    def _sync(self, study: Study, tree: _Tree) -> None:
        """Add trials finished since the last call (caller holds the lock)."""
        trials, tree.watermark = study._storage.get_finished_trials_since(
            study._study_id, tree.watermark
        )
        for t in trials:
            if t._trial_id in tree.seen_trials:
                continue
            tree.seen_trials.add(t._trial_id)
            self._learn(tree, t)

    def _learn(self, tree: _Tree, trial: FrozenTrial) -> None:
        if trial.system_attrs.get(SURPLUS_ATTR):
            return
        tree.add_path(path_of(trial))
        target = trial.system_attrs.get(_TARGET_ATTR)
        if target is not None:
            # Counted as tried even if the trial failed before reaching it.
            tree.mark_known(_node_from_attr(target))

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        """Record the finished combination; stop the study when nothing is left to start."""
        with self._lock:
            trial_id = trial._trial_id
            self._started.discard(trial_id)
            target = self._targets.pop(trial_id, None)
            if trial_id in self._surplus_ids:
                self._surplus_ids.discard(trial_id)
                return
            tree = self._tree(study)
            tree.add_path(path_of(trial))
            if target is not None:
                tree.mark_known(target)  # even if the trial failed before reaching it
            self._sync(study, tree)
            done = not tree.frontier and not tree.own
            if done and tree.foreign:
                # Branches held by other workers' running trials may hide combinations nobody
                # has started (siblings of what those trials chose): learn them before stopping.
                self._learn_running(study, tree)
                done = not tree.frontier
            if self._avoid_premature_stop:
                done = done and not tree.foreign
        if done:
            _stop(study)


def _node_from_attr(value: Any) -> Node:
    return tuple(sorted((str(k), int(v)) for k, v in value))


def _stop(study: Study) -> None:
    try:
        study.stop()
    except RuntimeError:  # ask-and-tell: there is no optimize loop to stop
        pass


def _fail_stale_trials(study: Study) -> None:
    from skipjack.storages._heartbeat import fail_stale_trials
    from skipjack.storages._heartbeat import is_heartbeat_enabled

    if is_heartbeat_enabled(study._storage):
        fail_stale_trials(study)

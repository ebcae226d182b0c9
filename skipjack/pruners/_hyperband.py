"""Hyperband: several successive-halving brackets side by side, each trial in one of them.

Li et al., "Hyperband: A Novel Bandit-Based Approach to Hyperparameter Optimization", JMLR 18
(2018), Algorithm 1, run asynchronously as in Optuna. With ``R = max_resource / min_resource``
and ``eta = reduction_factor`` there are ``s_max + 1 = floor(log_eta(R)) + 1`` brackets. Bracket
``b`` is a successive-halving pruner with ``min_early_stopping_rate = b``: the higher the
bracket, the later its first cut. Bracket ``b`` receives a share of the trials proportional to
``ceil((s_max + 1) * eta ** s / (s + 1))`` with ``s = s_max - b`` (the ``n`` of Algorithm 1),
so brackets that cut early get more trials.

A trial's bracket is a hash of the study name and the trial number, so every worker, in any
process, puts a trial in the same bracket without talking to the others. A trial competes only
with trials of its bracket, and samplers see only its bracket's trials (see ``_filter.py``).
"""

from __future__ import annotations

import binascii
import math
from typing import TYPE_CHECKING

from skipjack.pruners._base import BasePruner
from skipjack.pruners._checks import check_int
from skipjack.pruners._steps import max_complete_last_step
from skipjack.pruners._successive_halving import SuccessiveHalvingPruner

if TYPE_CHECKING:
    from skipjack.study import Study
    from skipjack.trial import FrozenTrial

__all__ = ["HyperbandPruner"]


def bracket_of(study_name: str, number: int, budgets: tuple[int, ...]) -> int:
    """The bracket of trial ``number``: a CRC32 hash of ``"<study_name>_<number>"`` modulo the
    total budget, cut into consecutive ranges of ``budgets[b]`` values for bracket ``b``."""
    n = binascii.crc32(f"{study_name}_{number}".encode()) % sum(budgets)
    for bracket_id, budget in enumerate(budgets):
        n -= budget
        if n < 0:
            return bracket_id
    raise AssertionError("unreachable: the hash is below the total budget")


class BracketMembership:
    """A picklable predicate: does trial ``number`` belong to one bracket of a study?"""

    def __init__(self, study_name: str, budgets: tuple[int, ...], bracket_id: int) -> None:
        self.study_name = study_name
        self.budgets = budgets
        self.bracket_id = bracket_id

    def __call__(self, number: int) -> bool:
        return bracket_of(self.study_name, number, self.budgets) == self.bracket_id


class _Brackets:
    """The brackets of a HyperbandPruner once the maximum resource is known."""

    def __init__(
        self, min_resource: int, max_resource: int, reduction_factor: int, bootstrap_count: int
    ) -> None:
        # Optuna's float expression, kept so that every study splits into the same number of
        # brackets as in Optuna (an exact integer log differs at e.g. R = 243, eta = 3, where
        # the float log gives 4.999...).
        n_brackets = math.floor(math.log(max_resource / min_resource, reduction_factor)) + 1
        # With "auto", a study whose trials stop before ``min_resource`` gets no bracket at
        # all; like Optuna, the pruner then never prunes.
        n_brackets = max(n_brackets, 0)
        budgets = []
        for bracket_id in range(n_brackets):
            s = n_brackets - 1 - bracket_id
            budgets.append(math.ceil(n_brackets * reduction_factor**s / (s + 1)))
        self.budgets: tuple[int, ...] = tuple(budgets)
        self.pruners = [
            SuccessiveHalvingPruner(
                min_resource=min_resource,
                reduction_factor=reduction_factor,
                min_early_stopping_rate=bracket_id,
                bootstrap_count=bootstrap_count,
            )
            for bracket_id in range(n_brackets)
        ]


class HyperbandPruner(BasePruner):
    """Hyperband: successive halving in several brackets with different first cuts.

    Each trial is assigned to one bracket by a hash of the study name and its number; bracket
    ``b`` prunes like ``SuccessiveHalvingPruner(min_resource, reduction_factor,
    min_early_stopping_rate=b, bootstrap_count)`` among the trials of that bracket only, and the
    study's sampler sees only the trials of the bracket of the trial it samples for. Early
    brackets cut hard and get more trials; the last never prunes before ``max_resource``.

    Args:
        min_resource: Steps in the first rung of bracket 0, an int of at least 1.
        max_resource: The number of steps a completed trial runs (``last step + 1``), an int of
            at least ``min_resource``; or ``"auto"``: once the first trial completes, one more
            than the largest last step among COMPLETE trials. The brackets are fixed then; until
            then nothing is pruned and samplers see every trial.
        reduction_factor: An int of at least 2 (``eta`` in the paper).
        bootstrap_count: An int of at least 0, passed to each bracket's successive halving.
            Needs an explicit ``max_resource``.

    Raises:
        TypeError: if an argument has the wrong type.
        ValueError: if an argument is out of range, or ``bootstrap_count > 0`` with
            ``max_resource="auto"``.

    Example:
        >>> import skipjack as optuna
        >>> pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=81)
        >>> study = optuna.create_study(pruner=pruner)
    """

    def __init__(
        self,
        min_resource: int = 1,
        max_resource: str | int = "auto",
        reduction_factor: int = 3,
        bootstrap_count: int = 0,
    ) -> None:
        check_int("min_resource", min_resource, 1, "an int >= 1")
        if not (isinstance(max_resource, str) and max_resource == "auto"):
            if isinstance(max_resource, str):
                raise ValueError(
                    f"`max_resource` must be 'auto' or an int >= min_resource, but got "
                    f"{max_resource!r}."
                )
            check_int(
                "max_resource",
                max_resource,
                min_resource,
                f"'auto' or an int >= min_resource ({min_resource})",
            )
        check_int("reduction_factor", reduction_factor, 2, "an int >= 2")
        check_int("bootstrap_count", bootstrap_count, 0, "an int >= 0")
        if bootstrap_count > 0 and max_resource == "auto":
            raise ValueError(
                f"`bootstrap_count` is {bootstrap_count}, but a positive `bootstrap_count` "
                "needs an explicit int `max_resource`, not 'auto'."
            )
        self._min_resource = min_resource
        self._max_resource = max_resource
        self._reduction_factor = reduction_factor
        self._bootstrap_count = bootstrap_count
        # Set once (atomically) when the maximum resource is known.
        self._brackets: _Brackets | None = None

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(min_resource={self._min_resource!r}, "
            f"max_resource={self._max_resource!r}, "
            f"reduction_factor={self._reduction_factor!r}, "
            f"bootstrap_count={self._bootstrap_count!r})"
        )

    def _try_initialization(self, study: Study) -> _Brackets | None:
        """The brackets, built on first use; None while ``max_resource='auto'`` has no
        COMPLETE trial with a report to learn from."""
        brackets = self._brackets
        if brackets is not None:
            return brackets
        if not isinstance(self._max_resource, str):
            max_resource = int(self._max_resource)
        else:
            last_step = max_complete_last_step(study)
            if last_step is None:
                return None
            max_resource = last_step + 1
        brackets = _Brackets(
            int(self._min_resource), max_resource, self._reduction_factor, self._bootstrap_count
        )
        # Two threads may both get here; they build the same brackets, and either one is kept.
        self._brackets = brackets
        return brackets

    def _get_bracket_id(self, study: Study, trial: FrozenTrial) -> int:
        """The bracket of ``trial`` (0 until the brackets exist)."""
        brackets = self._brackets
        if brackets is None or not brackets.budgets:
            return 0
        return bracket_of(study.study_name, trial.number, brackets.budgets)

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        """Ask the successive halving of the trial's bracket, on the trials of that bracket."""
        from skipjack.pruners._filter import bracket_study

        brackets = self._try_initialization(study)
        if brackets is None or not brackets.pruners:
            return False
        bracket_id = bracket_of(study.study_name, trial.number, brackets.budgets)
        bracket = bracket_study(study, brackets.budgets, bracket_id)
        return brackets.pruners[bracket_id].prune(bracket, trial)

"""Exceptions raised by skipjack.

The tree::

    Exception
    └── OptunaError                      base of every skipjack error (name kept for compatibility)
        ├── TrialPruned                  raised by an objective to stop a trial as PRUNED
        ├── CLIUsageError                bad command-line usage of the ``skipjack`` command
        ├── StorageInternalError         a storage backend failed in a way the caller cannot fix
        ├── DuplicatedStudyError         a study with that name already exists
        └── UpdateFinishedTrialError     (also a RuntimeError) a write to a finished trial
    Warning
    └── ExperimentalWarning              the feature may change without a deprecation period

``skipjack.TrialPruned`` and, when Optuna is installed, ``optuna.TrialPruned`` both prune a trial:
integrations written for Optuna raise Optuna's own class.
"""

from __future__ import annotations

__all__ = [
    "CLIUsageError",
    "DuplicatedStudyError",
    "ExperimentalWarning",
    "OptunaError",
    "StorageInternalError",
    "TrialPruned",
    "UpdateFinishedTrialError",
]


class OptunaError(Exception):
    """Base class of every error skipjack raises on purpose."""


class TrialPruned(OptunaError):
    """Raise this from an objective function to end the trial as PRUNED.

    Typically raised right after ``trial.should_prune()`` returned ``True``. The study records the
    trial's last reported intermediate value as its value and carries on with the next trial.
    """


class CLIUsageError(OptunaError):
    """The ``skipjack`` command was called with arguments it cannot act on."""


class StorageInternalError(OptunaError):
    """A storage backend failed (for example a database error) and the operation was not done."""


class DuplicatedStudyError(OptunaError):
    """A study with the requested name already exists in the storage.

    Pass ``load_if_exists=True`` to ``create_study`` to load the existing study instead.
    """


class UpdateFinishedTrialError(OptunaError, RuntimeError):
    """A write was attempted on a trial that is already COMPLETE, PRUNED or FAIL."""


class ExperimentalWarning(Warning):
    """Emitted when an experimental feature is used; its interface may change."""


def _is_trial_pruned(exc: BaseException) -> bool:
    """Return whether ``exc`` is skipjack's or Optuna's ``TrialPruned``.

    Optuna is not imported here: a class named ``TrialPruned`` defined in a module of the ``optuna``
    package is recognised by name, so a user who has Optuna installed pays nothing if it is unused.
    """
    if isinstance(exc, TrialPruned):
        return True
    for cls in type(exc).__mro__:
        if cls.__name__ == "TrialPruned" and cls.__module__.split(".")[0] == "optuna":
            return True
    return False

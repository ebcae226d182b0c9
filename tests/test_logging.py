from __future__ import annotations

import logging

import skipjack


def test_levels_and_verbosity_roundtrip() -> None:
    assert skipjack.logging.INFO == logging.INFO
    old = skipjack.logging.get_verbosity()
    try:
        skipjack.logging.set_verbosity(skipjack.logging.ERROR)
        assert skipjack.logging.get_verbosity() == logging.ERROR
        assert not skipjack.logging.get_logger("skipjack.study").isEnabledFor(logging.WARNING)
    finally:
        skipjack.logging.set_verbosity(old)


def test_default_handler_can_be_removed_and_restored() -> None:
    root = logging.getLogger("skipjack")
    skipjack.logging.get_logger("skipjack.x")
    n = len(root.handlers)
    skipjack.logging.disable_default_handler()
    assert len(root.handlers) == n - 1
    skipjack.logging.enable_default_handler()
    assert len(root.handlers) == n


def test_propagation_toggles() -> None:
    root = logging.getLogger("skipjack")
    skipjack.logging.enable_propagation()
    assert root.propagate
    skipjack.logging.disable_propagation()
    assert not root.propagate


def test_formatter_matches_optuna_shape() -> None:
    record = logging.LogRecord("skipjack", logging.INFO, "f", 1, "hello", None, None)
    text = skipjack.logging.create_default_formatter().format(record)
    assert text.startswith("[I ") and text.endswith("] hello")


def test_exception_tree() -> None:
    from skipjack import exceptions as e

    for cls in (e.TrialPruned, e.CLIUsageError, e.StorageInternalError,
                e.DuplicatedStudyError, e.UpdateFinishedTrialError):
        assert issubclass(cls, e.OptunaError)
    assert issubclass(e.UpdateFinishedTrialError, RuntimeError)
    assert issubclass(e.ExperimentalWarning, Warning)
    assert skipjack.TrialPruned is e.TrialPruned

"""Logging for skipjack: a library logger that only ever configures itself.

Messages go to the ``skipjack`` logger. By default a stream handler prints them to stderr at INFO
level with the same look as Optuna's (``[I 2026-01-01 12:00:00,000] Trial 0 finished ...``).
"""

from __future__ import annotations

import logging
from logging import CRITICAL
from logging import DEBUG
from logging import ERROR
from logging import FATAL
from logging import INFO
from logging import WARN
from logging import WARNING
import sys
import threading

__all__ = [
    "CRITICAL",
    "DEBUG",
    "ERROR",
    "FATAL",
    "INFO",
    "WARN",
    "WARNING",
    "create_default_formatter",
    "disable_default_handler",
    "disable_propagation",
    "enable_default_handler",
    "enable_propagation",
    "get_logger",
    "get_verbosity",
    "set_verbosity",
]

_LIBRARY_NAME = "skipjack"
_lock = threading.Lock()
_default_handler: logging.Handler | None = None


def create_default_formatter() -> logging.Formatter:
    """Return the formatter of the default handler: level initial, time stamp, message."""
    return logging.Formatter("[%(levelname)1.1s %(asctime)s] %(message)s")


def _root() -> logging.Logger:
    return logging.getLogger(_LIBRARY_NAME)


def _configure_library_root_logger() -> None:
    global _default_handler
    with _lock:
        if _default_handler is not None:
            return
        _default_handler = logging.StreamHandler(sys.stderr)
        _default_handler.setFormatter(create_default_formatter())
        root = _root()
        root.addHandler(_default_handler)
        root.setLevel(INFO)
        root.propagate = False


def _reset_library_root_logger() -> None:
    global _default_handler
    with _lock:
        if _default_handler is None:
            return
        root = _root()
        root.removeHandler(_default_handler)
        root.setLevel(logging.NOTSET)
        _default_handler = None


def get_logger(name: str) -> logging.Logger:
    """Return a logger under the library logger, configuring the library logger on first use."""
    _configure_library_root_logger()
    return logging.getLogger(name)


def get_verbosity() -> int:
    """Return the level of the library logger, e.g. ``skipjack.logging.INFO``."""
    _configure_library_root_logger()
    return _root().getEffectiveLevel()


def set_verbosity(verbosity: int) -> None:
    """Set the level of the library logger, e.g. ``set_verbosity(skipjack.logging.WARNING)``."""
    _configure_library_root_logger()
    _root().setLevel(verbosity)


def disable_default_handler() -> None:
    """Stop the default stderr handler from printing skipjack's messages."""
    _configure_library_root_logger()
    assert _default_handler is not None
    _root().removeHandler(_default_handler)


def enable_default_handler() -> None:
    """Print skipjack's messages through the default stderr handler (the default)."""
    _configure_library_root_logger()
    assert _default_handler is not None
    _root().addHandler(_default_handler)


def disable_propagation() -> None:
    """Keep skipjack's messages from reaching the root logger's handlers (the default)."""
    _configure_library_root_logger()
    _root().propagate = False


def enable_propagation() -> None:
    """Pass skipjack's messages on to the root logger's handlers as well."""
    _configure_library_root_logger()
    _root().propagate = True

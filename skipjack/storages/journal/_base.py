"""The backend contract of the journal storage: append records, read them back in order."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any
import warnings

__all__ = ["BaseJournalBackend", "BaseJournalLogStorage", "DeferredSyncSupport"]


class BaseJournalBackend(abc.ABC):
    """Where a :class:`~skipjack.storages.journal.JournalStorage` keeps its log of operations.

    A backend is an append-only sequence of JSON-serializable records, numbered from 0. It must
    be safe to use from several processes at once: records appended by one process become
    visible to every reader, in one order that all readers agree on. Everything else (replay,
    caching, heartbeats, claims) lives in the storage above it.
    """

    @abc.abstractmethod
    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        """Return the records numbered ``log_number_from`` and later, in log order.

        A record that is still being written is left out; a later call returns it.
        """

    @abc.abstractmethod
    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        """Append ``logs`` to the end of the log, atomically with respect to other writers."""


class DeferredSyncSupport(abc.ABC):
    """A backend whose appends may leave making the records durable to a later append.

    ``append_logs`` returns once its records are durable (e.g. fsynced); records appended with
    ``append_logs_deferred`` are visible to every reader at once but become durable only with
    the next ``append_logs`` (which flushes everything before it, in log order) or when the
    operating system writes them out. The storage defers the records of running trials.
    """

    @abc.abstractmethod
    def append_logs_deferred(self, logs: list[dict[str, Any]]) -> None:
        """Append ``logs`` like ``append_logs`` without waiting for them to be durable."""


class BaseJournalLogStorage(BaseJournalBackend):
    """Deprecated name of :class:`BaseJournalBackend` (renamed in Optuna 4.0)."""

    def __init__(self) -> None:
        warnings.warn(
            "BaseJournalLogStorage is deprecated; subclass "
            "skipjack.storages.journal.BaseJournalBackend instead.",
            FutureWarning,
            stacklevel=2,
        )

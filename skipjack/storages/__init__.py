"""Storages: where studies and trials live, shared by every worker of a study."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any as _Any

from skipjack.storages import journal
from skipjack.storages._base import BaseStorage
from skipjack.storages._callbacks import RetryFailedTrialCallback
from skipjack.storages._callbacks import RetryHeartbeatStaleTrialCallback
from skipjack.storages._get import get_storage
from skipjack.storages._heartbeat import BaseHeartbeat
from skipjack.storages._heartbeat import fail_stale_trials
from skipjack.storages._in_memory import InMemoryStorage
from skipjack.storages.journal._base import BaseJournalLogStorage
from skipjack.storages.journal._file import DeprecatedJournalFileOpenLock as JournalFileOpenLock
from skipjack.storages.journal._file import (
    DeprecatedJournalFileSymlinkLock as JournalFileSymlinkLock,
)
from skipjack.storages.journal._file import JournalFileStorage
from skipjack.storages.journal._redis import JournalRedisStorage
from skipjack.storages.journal._storage import JournalStorage

if TYPE_CHECKING:
    from skipjack.storages._rdb import RDBStorage

__all__ = [
    "BaseHeartbeat",
    "BaseJournalLogStorage",
    "BaseStorage",
    "InMemoryStorage",
    "JournalFileOpenLock",
    "JournalFileStorage",
    "JournalFileSymlinkLock",
    "JournalRedisStorage",
    "JournalStorage",
    "RDBStorage",
    "RetryFailedTrialCallback",
    "RetryHeartbeatStaleTrialCallback",
    "fail_stale_trials",
    "get_storage",
    "journal",
]


def __getattr__(name: str) -> _Any:
    # RDBStorage is imported on first use so that `import skipjack` does not load SQLAlchemy.
    if name == "RDBStorage":
        from skipjack.storages._rdb import RDBStorage

        return RDBStorage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

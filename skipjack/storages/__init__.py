"""Storages: where studies and trials live, shared by every worker of a study."""

from skipjack.storages import journal
from skipjack.storages._base import BaseStorage
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
    "fail_stale_trials",
    "get_storage",
    "journal",
]

"""Journal storage: studies kept as a shared log of operations, in Optuna's journal format.

``JournalStorage`` replays the log; a backend keeps it: a file (with a symlink or open-file
lock) or Redis.
"""

from skipjack.storages.journal._base import BaseJournalBackend
from skipjack.storages.journal._file import JournalFileBackend
from skipjack.storages.journal._lock import JournalFileOpenLock
from skipjack.storages.journal._lock import JournalFileSymlinkLock
from skipjack.storages.journal._redis import JournalRedisBackend
from skipjack.storages.journal._storage import JournalStorage

__all__ = [
    "BaseJournalBackend",
    "JournalFileBackend",
    "JournalFileOpenLock",
    "JournalFileSymlinkLock",
    "JournalRedisBackend",
    "JournalStorage",
]

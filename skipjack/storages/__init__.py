"""Storages: where studies and trials live, shared by every worker of a study."""

from skipjack.storages._base import BaseStorage
from skipjack.storages._get import get_storage
from skipjack.storages._heartbeat import BaseHeartbeat
from skipjack.storages._heartbeat import fail_stale_trials
from skipjack.storages._in_memory import InMemoryStorage

__all__ = ["BaseHeartbeat", "BaseStorage", "InMemoryStorage", "fail_stale_trials", "get_storage"]

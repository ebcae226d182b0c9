"""RDBStorage: Optuna-compatible relational database storage."""

from skipjack.storages._rdb._storage import RDBStorage

__all__ = ["RDBStorage"]

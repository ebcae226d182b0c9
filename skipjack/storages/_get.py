"""Turn the ``storage=`` argument (None, URL or object) into a storage object."""

from __future__ import annotations

from typing import Any

from skipjack.storages._base import BaseStorage


def get_storage(storage: None | str | BaseStorage) -> BaseStorage:
    """Return ``storage`` as a storage object.

    ``None`` gives a new :class:`InMemoryStorage`; a string is a database URL (RDBStorage);
    a storage object is returned as it is. Objects with the storage methods but another base
    class (e.g. written against Optuna's BaseStorage) are accepted too.
    """
    if storage is None:
        from skipjack.storages._in_memory import InMemoryStorage

        return InMemoryStorage()
    if isinstance(storage, str):
        return _rdb_from_url(storage)
    if isinstance(storage, BaseStorage) or _looks_like_storage(storage):
        return storage
    raise TypeError(
        f"storage must be None, a database URL string or a storage object, got {storage!r}."
    )


def _looks_like_storage(obj: Any) -> bool:
    needed = ("create_new_study", "create_new_trial", "get_all_trials", "set_trial_param")
    return all(callable(getattr(obj, name, None)) for name in needed)


def _rdb_from_url(url: str) -> BaseStorage:
    # Imported here so that `import skipjack` does not import SQLAlchemy.
    from skipjack.storages._rdb import RDBStorage

    return RDBStorage(url)

"""The storage conformance suite: one class of contract tests any storage can run on itself.

Subclass :class:`StorageConformance` in a pytest test module and say how to build a fresh
storage; pytest then collects every contract test for that storage::

    from skipjack.storages import InMemoryStorage
    from skipjack.testing.storages import StorageConformance


    class TestInMemoryStorage(StorageConformance):
        def create_storage(self):
            return InMemoryStorage()

The suite covers the whole :class:`~skipjack.storages.BaseStorage` contract: studies (names,
duplicates, deletion, attributes, directions), trials (templates in every state, parameters and
distribution compatibility, state changes including the WAITING->RUNNING race, refusal to update
finished trials, intermediate values, attributes), reads (ordering, state filters, copies,
counts, best trial), numbering under concurrent creation, and skipjack's incremental reads and
claims. A storage is done when it passes unchanged.

This module needs pytest; ``import skipjack`` does not import it.
"""

from __future__ import annotations

from skipjack.testing._storage_base import StorageFixture
from skipjack.testing._storage_extras import ClaimContract
from skipjack.testing._storage_extras import IncrementalReadContract
from skipjack.testing._storage_reads import TrialReadContract
from skipjack.testing._storage_studies import StudyContract
from skipjack.testing._storage_trials import TrialWriteContract

__all__ = [
    "ClaimContract",
    "IncrementalReadContract",
    "StorageConformance",
    "StorageFixture",
    "StudyContract",
    "TrialReadContract",
    "TrialWriteContract",
]


class StorageConformance(
    StudyContract,
    TrialWriteContract,
    TrialReadContract,
    IncrementalReadContract,
    ClaimContract,
):
    """Every storage contract test. Override ``create_storage()`` (and ``dispose_storage()``
    when a storage needs cleaning up); set ``supports_claims = False`` only for a backend that
    cannot claim atomically, which the suite then checks raises NotImplementedError.

    The groups it is made of (``StudyContract``, ``TrialWriteContract``, ...) can also be
    subclassed one by one.
    """

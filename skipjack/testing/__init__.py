"""Test helpers shipped with skipjack, for checking third-party components against its contracts.

:mod:`skipjack.testing.storages` holds the storage conformance suite. These modules need
pytest; ``import skipjack`` never imports them.
"""

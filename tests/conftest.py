"""Settings shared by the whole test suite."""

from __future__ import annotations

import os

from hypothesis import settings

# No per-example deadline: timing on a loaded machine (or under xdist) is not what the property
# tests check. HYPOTHESIS_PROFILE=thorough runs many more examples.
settings.register_profile("default", deadline=None)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


# ---- database servers ----------------------------------------------------------------------
# Server-backed storage tests run for real against the local services that
# ../shared/services.sh starts. On a laptop without them they skip, saying why; in CI
# (CI=true) an unreachable server is a failure, never a skip.
POSTGRES_URL = os.environ.get(
    "SKIPJACK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MYSQL_URL = os.environ.get("SKIPJACK_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("SKIPJACK_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def unavailable_service(name: str, reason: str) -> None:
    """Fail (in CI) or skip (elsewhere) a test whose server cannot be reached."""
    import pytest

    message = f"{name} is not reachable ({reason}); start it with ../shared/services.sh"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)

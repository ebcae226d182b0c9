"""Settings shared by the whole test suite."""

from __future__ import annotations

import os

from hypothesis import settings

# No per-example deadline: timing on a loaded machine (or under xdist) is not what the property
# tests check. HYPOTHESIS_PROFILE=thorough runs many more examples.
settings.register_profile("default", deadline=None)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

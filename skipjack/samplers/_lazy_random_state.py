"""A NumPy random state that is created only when first used."""

from __future__ import annotations

import numpy as np

__all__ = ["LazyRandomState"]


class LazyRandomState:
    """Hold a :class:`numpy.random.RandomState`, creating it on first access of :attr:`rng`.

    With a seed the state is created (and seeded) right away, so the stream is reproducible.
    Without one, creation waits until the first draw: a sampler that is copied before it is
    ever used (for example once per worker thread) then gets independent entropy in each copy
    instead of several copies of one stream.

    Args:
        seed: Seed of the generator, or ``None`` for fresh OS entropy at first use.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._rng: np.random.RandomState | None = None
        if seed is not None:
            self.rng.seed(seed=seed)

    @property
    def rng(self) -> np.random.RandomState:
        """The random state, created on first access."""
        if self._rng is None:
            self._rng = np.random.RandomState()
        return self._rng

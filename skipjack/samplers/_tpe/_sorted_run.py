"""One parameter's kernels in sorted order, kept across suggestions (``_incremental.py``)."""

from __future__ import annotations

import numpy as np

__all__ = ["SortedRun"]


class SortedRun:
    """One parameter's live kernels in sorted order, with their values, in arrays with room
    to grow: an insertion or a deletion shifts the tail in place."""

    def __init__(self) -> None:
        self.n = 0
        self._kernels = np.zeros(64, dtype=np.intp)
        self._values = np.zeros(64)

    @property
    def kernels(self) -> np.ndarray:
        """Kernel indices in sorted order (a view, valid until the next change)."""
        return self._kernels[: self.n]

    @property
    def values(self) -> np.ndarray:
        """Their values (a view, valid until the next change)."""
        return self._values[: self.n]

    def reset(self, kernels: np.ndarray, values: np.ndarray) -> None:
        """Replace the contents with ``kernels`` and their ``values`` (already sorted)."""
        self.n = 0
        self._room(len(kernels))
        self._kernels[: len(kernels)] = kernels
        self._values[: len(kernels)] = values
        self.n = len(kernels)

    def insert(self, at: int, kernel: int, value: float) -> None:
        """Insert ``kernel`` with ``value`` at place ``at``."""
        self._room(self.n + 1)
        n = self.n
        self._kernels[at + 1 : n + 1] = self._kernels[at:n]
        self._values[at + 1 : n + 1] = self._values[at:n]
        self._kernels[at] = kernel
        self._values[at] = value
        self.n = n + 1

    def delete(self, at: int) -> None:
        """Remove the entry at place ``at``."""
        n = self.n
        self._kernels[at : n - 1] = self._kernels[at + 1 : n]
        self._values[at : n - 1] = self._values[at + 1 : n]
        self.n = n - 1

    def _room(self, size: int) -> None:
        if size > len(self._kernels):
            grown = max(size, 2 * len(self._kernels))
            kernels, values = np.zeros(grown, dtype=np.intp), np.zeros(grown)
            kernels[: self.n], values[: self.n] = self.kernels, self.values
            self._kernels, self._values = kernels, values

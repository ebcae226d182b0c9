"""Per-thread scratch arrays for the Parzen estimator's large temporaries."""

from __future__ import annotations

import threading

import numpy as np

# Scratch slots for the (points, kernels) temporaries of one evaluation.
_JOINT, _TERM, _JOINT32 = 0, 1, 2
_scratch = threading.local()


def _buffer(slot: int, shape: tuple[int, int], dtype: type = np.float64) -> np.ndarray:
    """An uninitialised array of ``shape`` backed by this thread's scratch ``slot``.

    The (points x kernels) temporaries of an evaluation grow by a few kernels per trial. Fresh
    arrays of that size come from ``mmap`` each time (the allocator's threshold is crossed
    again and again) and every page faults in anew, which costs more than the arithmetic. The
    buffer is valid until the next request of the same slot in this thread.
    """
    size = shape[0] * shape[1]
    buffers: dict[tuple[int, type], np.ndarray] | None = getattr(_scratch, "buffers", None)
    if buffers is None:
        buffers = _scratch.buffers = {}
    buffer = buffers.get((slot, dtype))
    if buffer is None or len(buffer) < size:
        capacity = size if buffer is None else max(size, len(buffer) + len(buffer) // 4)
        buffer = buffers[(slot, dtype)] = np.empty(capacity, dtype=dtype)
    return buffer[:size].reshape(shape)

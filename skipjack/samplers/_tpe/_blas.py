"""Matrix products kept on the calling thread.

OpenBLAS splits a matrix product over threads once its size (rows x inner x columns) passes a
threshold (about 2.6e5 multiply-adds in NumPy's bundled build). The products of a Parzen
estimator's evaluation (24 points x a few features x thousands of kernels) sit just above it,
where threading gains nothing, and on a busy machine (another process, or another worker of
the same study, on the other cores) a product then waits for a second thread to be scheduled:
the mean cost grows tenfold and single calls take milliseconds. Splitting the columns keeps
every call below the threshold, at the price of a few more calls.
"""

from __future__ import annotations

import numpy as np

__all__ = ["matmul_on_this_thread"]

# Multiply-adds per call, safely below OpenBLAS's threading threshold.
_PER_CALL = 200_000


def matmul_on_this_thread(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``np.matmul(a, b, out=out)`` for 2-d ``a`` (m, f) and ``b`` (f, n), in column blocks
    small enough to run single-threaded."""
    m, inner = a.shape
    n = b.shape[1]
    step = max(1, _PER_CALL // max(1, m * inner))
    if step >= n:
        return np.matmul(a, b, out=out)
    for start in range(0, n, step):
        stop = min(start + step, n)
        np.matmul(a, b[:, start:stop], out=out[:, start:stop])
    return out

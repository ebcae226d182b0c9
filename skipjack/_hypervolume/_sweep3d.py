"""Exact 3-D hypervolume by a sweep over the last objective, in O(n log n).

Points are visited by increasing third objective. The (x, y) projections visited so far
dominate a 2-D region kept as a staircase (x increasing, y decreasing); each visited point
adds the area it newly covers, and the slab up to the next point's third objective adds the
current area times its thickness (Fonseca, Paquete and Lopez-Ibanez, 2006, "An improved
dimension-sweep algorithm for the hypervolume indicator"). Dominated and repeated points need
no filtering: they add no area.
"""

from __future__ import annotations

from bisect import bisect_left
from bisect import bisect_right

import numpy as np

__all__ = ["hypervolume_3d"]


def hypervolume_3d(points: np.ndarray, reference: np.ndarray) -> float:
    """Volume that ``points`` (shape ``(n, 3)``, all strictly below ``reference``) dominate."""
    n = len(points)
    if n == 0:
        return 0.0
    ordered = points[np.argsort(points[:, 2], kind="stable")]
    ref_x, ref_y, ref_z = (float(v) for v in reference)
    xs_in, ys_in, zs_in = (ordered[:, j].tolist() for j in range(3))
    zs_in.append(ref_z)
    xs: list[float] = []  # the staircase, x increasing
    ys: list[float] = []  # and y decreasing along it
    area = volume = 0.0
    for i in range(n):
        px, py = xs_in[i], ys_in[i]
        left = bisect_right(xs, px) - 1
        if left < 0 or ys[left] > py:  # not dominated in (x, y) by the staircase
            lo = bisect_left(xs, px)
            hi = lo
            while hi < len(xs) and ys[hi] >= py:
                hi += 1
            # The new point covers [px, right) x [py, top) less what the points it hides
            # (lo..hi-1, now dropped from the staircase) already covered there.
            right = xs[hi] if hi < len(xs) else ref_x
            top = ys[lo - 1] if lo > 0 else ref_y
            gain = (right - px) * (top - py)
            for j in range(lo, hi):
                next_x = xs[j + 1] if j + 1 < hi else right
                gain -= (next_x - xs[j]) * (top - ys[j])
            area += gain
            xs[lo:hi] = [px]
            ys[lo:hi] = [py]
        volume += area * (zs_in[i + 1] - zs_in[i])
    return volume

"""Exact hypervolume: the measure of the region a point set dominates below a reference point.

Two objectives are a sum of rectangles after one sort; three use an O(n log n) sweep
(``_sweep3d``). More objectives use the slicing recursion of "hypervolume by slicing
objectives" (While et al., 2006) down to three: sort by the last objective and add, per slab
between consecutive values, the (d-1)-dimensional hypervolume of the points already passed,
times the slab's thickness. Only the Pareto front takes part.
"""

from __future__ import annotations

import numpy as np

from skipjack._hypervolume._sweep3d import hypervolume_3d
from skipjack.study._multi_objective import _is_pareto_front

__all__ = ["compute_hypervolume"]


def compute_hypervolume(
    loss_vals: np.ndarray, reference_point: np.ndarray, assume_pareto: bool = False
) -> float:
    """Return the hypervolume that ``loss_vals`` dominate, bounded by ``reference_point``.

    Args:
        loss_vals: ``(n_points, n_objectives)`` values, lower is better.
        reference_point: ``(n_objectives,)`` upper corner; points not strictly below it in every
            objective add nothing.
        assume_pareto: Skip the Pareto filtering when the caller knows the points are a front.
    """
    points = np.asarray(loss_vals, dtype=float)
    reference = np.asarray(reference_point, dtype=float)
    if points.ndim != 2 or reference.shape != (points.shape[1],):
        raise ValueError(
            f"loss_vals must be (n_points, n_objectives) and reference_point (n_objectives,), "
            f"got {points.shape} and {reference.shape}."
        )
    points = points[np.all(points < reference, axis=1)]
    if len(points) == 0:
        return 0.0
    if points.shape[1] == 3 and np.isfinite(points).all() and np.isfinite(reference).all():
        return hypervolume_3d(points, reference)  # dominated points cost the sweep little
    if not assume_pareto:
        points = np.unique(points[_is_pareto_front(points, assume_unique_lexsorted=False)], axis=0)
    return _hv(points, reference)


def _hv(points: np.ndarray, reference: np.ndarray) -> float:
    n_objectives = points.shape[1]
    if n_objectives == 1:
        return float(reference[0] - points[:, 0].min())
    if n_objectives == 2:
        order = np.argsort(points[:, 0], kind="stable")
        x = points[order, 0]
        y = np.minimum.accumulate(points[order, 1])
        widths = np.diff(np.append(x, reference[0]))
        return float(np.sum(widths * (reference[1] - y)))
    if n_objectives == 3 and np.isfinite(points).all() and np.isfinite(reference).all():
        return hypervolume_3d(points, reference)
    order = np.argsort(points[:, -1], kind="stable")
    ordered = points[order]
    cuts = np.append(ordered[1:, -1], reference[-1])
    total = 0.0
    for i in range(len(ordered)):
        thickness = cuts[i] - ordered[i, -1]
        if thickness <= 0:
            continue
        prefix = ordered[: i + 1, :-1]
        if n_objectives > 4 or not np.isfinite(prefix).all():
            prefix = np.unique(
                prefix[_is_pareto_front(prefix, assume_unique_lexsorted=False)], axis=0
            )
        total += thickness * _hv(prefix, reference[:-1])
    return total

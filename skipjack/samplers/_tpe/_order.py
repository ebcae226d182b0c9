"""Sorted order of a parameter's observations, kept incrementally across suggestions.

A kernel's bandwidth depends on its neighbours in sorted order, so every fit sorts each
parameter's observations. Sorting thousands of floats afresh for every suggestion costs more
than the rest of the fit (its comparisons are unpredictable branches), although only a trial
or two arrive in between. :class:`SortedColumn` keeps the rows of one history column in
``(value, row)`` order and merges new rows in; :func:`observation_orders` cuts the order of
any subset of rows out of it in linear time.
"""

from __future__ import annotations

from collections.abc import Mapping
import threading

import numpy as np

__all__ = ["SortedColumn", "observation_orders"]


class SortedColumn:
    """Rows of one history column holding a value (not NaN), in ``(value, row)`` order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.n = 0  # rows of the column processed
        self.rows = np.zeros(0, dtype=np.intp)
        self._values = np.zeros(0)

    def update(self, column: np.ndarray) -> np.ndarray:
        """Merge in the rows of ``column`` (the whole column, rows never change) not seen yet
        and return the sorted rows. Thread-safe; the returned array is never modified."""
        with self._lock:
            if len(column) > self.n:
                fresh = column[self.n :]
                present = np.flatnonzero(~np.isnan(fresh))
                if len(present):
                    values = fresh[present]
                    rows = present + self.n
                    order = np.argsort(values, kind="stable")
                    values, rows = values[order], rows[order]
                    # Equal values keep row order: new rows go after the old ones.
                    at = np.searchsorted(self._values, values, side="right")
                    self.rows = np.insert(self.rows, at, rows)
                    self._values = np.insert(self._values, at, values)
                self.n = len(column)
            return self.rows


def observation_orders(
    sorted_rows: Mapping[str, np.ndarray], rows: np.ndarray, extent: int
) -> dict[str, np.ndarray] | None:
    """Stable sorting order, per parameter, of the observations taken at ``rows``.

    ``rows`` must be increasing and hold a value of every parameter; observation ``i`` is row
    ``rows[i]``, so ordering by ``(value, row)`` is the stable order by value. ``extent``
    bounds every row number involved. ``None`` when some parameter's sorted rows do not cover
    ``rows``.
    """
    member = np.zeros(extent, dtype=bool)
    member[rows] = True
    position = np.empty(extent, dtype=np.intp)
    position[rows] = np.arange(len(rows))
    orders = {}
    for name, ordered in sorted_rows.items():
        picked = ordered[member[ordered]]
        if len(picked) != len(rows):
            return None
        orders[name] = position[picked]
    return orders

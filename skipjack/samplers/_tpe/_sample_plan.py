"""What drawing candidates from a Parzen estimator needs, computed once per estimator.

The sampler reuses a good estimator while the good set is unchanged, so everything a draw needs
that does not depend on the random numbers (the mixture's cdf, each kernel's standardized
domain ends mirrored into the lower tail and their ``log Phi``, categorical cumulative tables)
is computed on the first draw and kept: a draw is then one block of uniforms, one search, one
gather and a few in-place passes.
"""

from __future__ import annotations

from collections.abc import Sequence
import functools
from typing import TYPE_CHECKING

import numpy as np

from skipjack.samplers._tpe import _truncnorm

if TYPE_CHECKING:
    from skipjack.samplers._tpe._parzen_estimator import _Numeric

__all__ = ["SamplePlan"]


def _row_set(rows: list[int]) -> slice | np.ndarray | None:
    """An index for these rows of a matrix: ``None`` for none, a slice (a view) when they are
    consecutive, else an index array."""
    if not rows:
        return None
    if rows[-1] - rows[0] == len(rows) - 1:
        return slice(rows[0], rows[-1] + 1)
    return np.array(rows)


def _column(values: list[float]) -> np.ndarray:
    """A read-only column vector."""
    column = np.array(values, dtype=float).reshape(-1, 1)
    column.flags.writeable = False
    return column


class _Layout:
    """The part of a :class:`SamplePlan` fixed by the search space (not by the kernels):
    numeric and categorical rows, bounds, grids. Cached per space (:func:`_layout`)."""

    def __init__(
        self,
        names: tuple[str, ...],
        numeric: tuple[tuple[str, tuple[float, float, bool, float | None, float, float]], ...],
        categorical: tuple[tuple[str, int], ...],
    ) -> None:
        self.numeric = [name for name, _ in numeric]
        params = [p for _, p in numeric]
        d = len(params)
        self.model_low = _column([p[0] for p in params])
        self.model_high = _column([p[1] for p in params])
        self.log_rows = _row_set([row for row, p in enumerate(params) if p[2]])
        grid = [row for row, p in enumerate(params) if p[3] is not None]
        self.grid_rows = _row_set(grid)
        self.grid_step = _column([params[row][3] for row in grid])  # type: ignore[misc]
        self.grid_low = _column([params[row][4] for row in grid])
        self.value_low = _column([p[4] for p in params])
        self.value_high = _column([p[5] for p in params])
        # Categorical cumulative probabilities follow the 7 numeric blocks in the table.
        self.categorical = []
        start = 7 * d
        for name, n_choices in categorical:
            choices = np.arange(n_choices, dtype=float)
            choices.flags.writeable = False
            self.categorical.append((name, start, start + n_choices, choices))
            start += n_choices
        self.n_rows = start
        self.in_order = self.numeric + [c[0] for c in self.categorical] == list(names)


@functools.lru_cache(maxsize=256)
def _layout(
    names: tuple[str, ...],
    numeric: tuple[tuple[str, tuple[float, float, bool, float | None, float, float]], ...],
    categorical: tuple[tuple[str, int], ...],
) -> _Layout:
    """The :class:`_Layout` of a space; a space recurs at every suggestion."""
    return _Layout(names, numeric, categorical)


class SamplePlan:
    """What :meth:`_ParzenEstimator.sample` needs of one estimator, computed on its first draw.

    ``table`` has one column per kernel. For the ``d`` numeric parameters it stacks seven
    ``(d, n_kernels)`` blocks: ``log Phi`` of the lower and upper ends of the kernel's
    standardized domain mirrored into the lower tail, the sign that undoes the mirroring, the
    standardized domain ends ``a`` and ``b``, ``mu`` and ``sigma``; then, per categorical, its
    kernels' cumulative choice probabilities. One gather of the table's columns by the drawn
    kernels gives every per-draw quantity. The arithmetic is the per-draw algorithm's
    (:func:`_truncnorm.sample`), done once per kernel: the draws are the same bits.
    """

    __slots__ = ("cdf", "layout", "table")

    def __init__(
        self,
        mixture: np.ndarray,
        names: Sequence[str],
        numeric: Sequence[tuple[str, _Numeric]],
        categorical: Sequence[tuple[str, np.ndarray]],
    ) -> None:
        """``mixture``: the kernels' weights; ``numeric``: each numeric parameter's kernels;
        ``categorical``: each categorical's ``log_table`` (choices x kernels)."""
        cdf = np.add.accumulate(mixture)
        cdf /= cdf[-1]
        self.cdf = cdf
        # (low, high, log, step, value_low, value_high) per numeric parameter.
        layout = self.layout = _layout(
            tuple(names),
            tuple((name, kernels[2:8]) for name, kernels in numeric),
            tuple((name, log_table.shape[0]) for name, log_table in categorical),
        )
        table = self.table = np.empty((layout.n_rows, len(cdf)))
        d = len(numeric)
        if d:
            mu, sigma = table[5 * d : 6 * d], table[6 * d : 7 * d]
            for row, (_, kernels) in enumerate(numeric):
                mu[row] = kernels.mu
                sigma[row] = kernels.sigma
            a, b = table[3 * d : 4 * d], table[4 * d : 5 * d]
            np.subtract(layout.model_low, mu, out=a)
            a /= sigma
            np.subtract(layout.model_high, mu, out=b)
            b /= sigma
            _truncnorm.sample_bounds(a, b, out=table[: 3 * d].reshape(3, d, -1))
        if layout.categorical:
            tables = [log_table for _, log_table in categorical]
            for (_, start, stop, _), log_table in zip(layout.categorical, tables):
                block = table[start:stop]
                np.exp(log_table, out=block)
                np.cumsum(block, axis=0, out=block)

    def to_values(self, draws: np.ndarray) -> None:
        """Turn model-domain draws (rows: numeric parameters) into the distributions' values,
        in place: exponentiate logged rows, round grid rows onto the grid, clip to the domain."""
        layout = self.layout
        if layout.log_rows is not None:
            if isinstance(layout.log_rows, slice):
                block = draws[layout.log_rows]
                np.exp(block, out=block)
            else:
                draws[layout.log_rows] = np.exp(draws[layout.log_rows])
        if layout.grid_rows is not None:
            block = draws[layout.grid_rows]
            block -= layout.grid_low
            block /= layout.grid_step
            # ``rint`` is what ``np.round`` runs for zero decimals, without its overhead.
            np.rint(block, out=block)
            block *= layout.grid_step
            block += layout.grid_low
            if not isinstance(layout.grid_rows, slice):
                draws[layout.grid_rows] = block
        # ``np.clip``'s result, at a third of its call overhead.
        np.maximum(draws, layout.value_low, out=draws)
        np.minimum(draws, layout.value_high, out=draws)

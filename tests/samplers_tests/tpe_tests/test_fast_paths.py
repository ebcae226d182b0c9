"""The shortcuts of the TPE hot path against plain reference computations.

Kernel grouping, the radix sort of grid values, incrementally sorted columns, the linear-time
single-objective split and the segment-heap HSSP must give what the direct formulas give.
"""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import numpy as np
import pytest
from scipy import stats

from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe._hssp import hypervolume
from skipjack.samplers._tpe._hssp import reference_point
from skipjack.samplers._tpe._hssp import solve_hssp
from skipjack.samplers._tpe._order import SortedColumn
from skipjack.samplers._tpe._order import observation_orders
from skipjack.samplers._tpe._parzen_estimator import _Numeric
from skipjack.samplers._tpe._parzen_estimator import _ParzenEstimator
from skipjack.samplers._tpe._ratio import log_density_ratio
from skipjack.samplers._tpe._split import _best_single


def reference_bandwidths(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Bandwidths by the textbook rule: stable sort, larger neighbour gap, edge rule, clip."""
    n = len(x)
    order = np.argsort(x, kind="stable")
    s = x[order]
    padded = np.concatenate([[low], s, [high]])
    sigma_sorted = np.array(
        [max(padded[i + 1] - padded[i], padded[i + 2] - padded[i + 1]) for i in range(n)]
    )
    if n >= 2:
        sigma_sorted[0] = s[1] - s[0]
        sigma_sorted[-1] = s[-1] - s[-2]
    sigma = np.empty(n)
    sigma[order] = sigma_sorted
    return np.clip(sigma, (high - low) / min(100.0, n + 2.0), high - low)


def reference_grid_log_pdf(
    obs: np.ndarray, weights: np.ndarray, dist: IntDistribution, points: np.ndarray
) -> np.ndarray:
    """Mixture of truncated normals integrated over each grid cell, in the model domain."""
    half = 0.5 * dist.step
    tr = np.log if dist.log else (lambda v: v)
    low, high = tr(dist.low - half), tr(dist.high + half)
    mu = np.append(tr(obs), 0.5 * (low + high))
    sigma = np.append(reference_bandwidths(tr(obs), low, high), high - low)
    w = np.append(weights, 1.0)
    w = w / w.sum()
    total = np.zeros(len(points))
    for wk, m, s in zip(w, mu, sigma):
        dist_k = stats.truncnorm((low - m) / s, (high - m) / s, loc=m, scale=s)
        total += wk * (dist_k.cdf(tr(points + half)) - dist_k.cdf(tr(points - half)))
    return np.log(total)


@pytest.mark.parametrize(
    "dist",
    [IntDistribution(1, 12), IntDistribution(0, 60, step=5), IntDistribution(1, 64, log=True)],
)
def test_grouped_grid_kernels_match_the_direct_mixture(dist: IntDistribution) -> None:
    rng = np.random.RandomState(0)
    grid = np.arange(dist.low, dist.high + 1, dist.step, dtype=float)
    # Many observations on few grid points: heavy ties, so the kernels are grouped.
    obs = rng.choice(grid[: max(3, len(grid) // 3)], size=150)
    weights = rng.uniform(0.1, 1.0, size=len(obs))
    pe = _ParzenEstimator({"i": obs}, {"i": dist}, weights)
    kernels = pe._kernels["i"]
    assert isinstance(kernels, _Numeric) and kernels.groups is not None
    assert len(kernels.groups[0]) < len(obs) // 2
    got = pe.log_pdf({"i": grid})
    np.testing.assert_allclose(got, reference_grid_log_pdf(obs, weights, dist, grid), rtol=1e-5)


def test_grid_values_off_the_grid_are_still_sorted_correctly() -> None:
    # Values suggested under step=1 but modelled under step=2: the radix sort by grid index
    # would misorder them, so the estimator must notice and sort the values themselves.
    dist = IntDistribution(0, 100, step=2)
    rng = np.random.RandomState(1)
    obs = rng.randint(0, 101, size=200).astype(float)
    pe = _ParzenEstimator({"i": obs}, {"i": dist}, np.ones(len(obs)))
    kernels = pe._kernels["i"]
    assert isinstance(kernels, _Numeric)
    expected = reference_bandwidths(obs, -1.0, 101.0)
    np.testing.assert_allclose(kernels.sigma[:-1], expected)


@pytest.mark.parametrize("n", [5, 200])
def test_given_orders_change_nothing(n: int) -> None:
    space: dict[str, BaseDistribution] = {
        "x": FloatDistribution(-5.0, 5.0),
        "l": FloatDistribution(1e-4, 1.0, log=True),
        "i": IntDistribution(0, 20),
        "c": CategoricalDistribution(["a", "b", "c"]),
    }
    rng = np.random.RandomState(2)
    obs = {
        "x": np.round(rng.uniform(-5, 5, n), 1),  # ties on purpose
        "l": np.exp(rng.uniform(math.log(1e-4), 0.0, n)),
        "i": rng.randint(0, 21, n).astype(float),
        "c": rng.randint(0, 3, n).astype(float),
    }
    weights = rng.uniform(0.1, 1.0, n)
    orders = {k: np.argsort(obs[k], kind="stable") for k in ("x", "l", "i")}
    plain = _ParzenEstimator(obs, space, weights)
    fast = _ParzenEstimator(obs, space, weights, orders=orders)
    points = plain.sample(np.random.RandomState(3), 40)
    np.testing.assert_array_equal(plain.log_pdf(points), fast.log_pdf(points))


def test_scratch_buffers_do_not_leak_between_estimators() -> None:
    space = {"x": FloatDistribution(0.0, 1.0), "i": IntDistribution(0, 30)}
    rng = np.random.RandomState(4)
    big = {"x": rng.uniform(0, 1, 3000), "i": rng.randint(0, 31, 3000).astype(float)}
    small = {"x": rng.uniform(0, 1, 40), "i": rng.randint(0, 31, 40).astype(float)}
    a = _ParzenEstimator(big, space, np.ones(3000))
    b = _ParzenEstimator(small, space, np.ones(40))
    points = b.sample(rng, 24)
    first = a.log_pdf(points).copy()
    ratio = log_density_ratio(b, a, points).copy()
    # Interleaved evaluations reuse the same buffers; earlier results must be unaffected.
    assert np.array_equal(a.log_pdf(points), first)
    np.testing.assert_allclose(ratio, b.log_pdf(points) - a.log_pdf(points), rtol=1e-6)


# ---- incrementally sorted columns -------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.integers(0, 6)), min_size=1, max_size=60),
    cuts=st.lists(st.integers(0, 60), max_size=4),
    picks=st.lists(st.booleans(), min_size=60, max_size=60),
)
def test_sorted_column_orders_equal_a_stable_argsort(
    values: list[int | None], cuts: list[int], picks: list[bool]
) -> None:
    column = np.array([np.nan if v is None else float(v) for v in values])
    index = SortedColumn()
    for cut in sorted(c for c in cuts if c <= len(column)):  # grown in several steps
        index.update(column[:cut])
    ordered = index.update(column)
    rows = np.array([i for i in range(len(column)) if picks[i] and not np.isnan(column[i])])
    rows = rows.astype(np.intp)
    orders = observation_orders({"p": ordered}, rows, len(column))
    assert orders is not None
    np.testing.assert_array_equal(orders["p"], np.argsort(column[rows], kind="stable"))


def test_observation_orders_refuse_rows_the_index_lacks() -> None:
    index = SortedColumn()
    ordered = index.update(np.array([3.0, np.nan, 1.0]))
    assert observation_orders({"p": ordered}, np.array([0, 1], dtype=np.intp), 3) is None


# ---- single-objective split ---------------------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(
    losses=st.lists(st.sampled_from([0.0, 1.0, 1.0, 2.0, -math.inf, math.inf, 3.5]), min_size=1),
    n_below=st.integers(1, 30),
)
def test_best_single_takes_the_smallest_with_earlier_ties(
    losses: list[float], n_below: int
) -> None:
    loss = np.array(losses)
    n_below = min(n_below, len(loss))
    numbers = np.arange(len(loss))[::-1].copy()  # ties go to the smaller *number*
    expected = set(np.lexsort((numbers, loss))[:n_below].tolist())
    assert set(_best_single(loss, numbers, n_below).tolist()) == expected


# ---- 2-objective HSSP ---------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(n=st.integers(10, 60), k=st.integers(1, 20), seed=st.integers(0, 10_000))
def test_hssp_2d_matches_brute_force_greedy_on_larger_fronts(n: int, k: int, seed: int) -> None:
    rng = np.random.RandomState(seed)
    x = np.sort(rng.uniform(0, 1, n))
    front = np.stack([x, (1 - x) ** rng.uniform(0.5, 2.0)], axis=1)[rng.permutation(n)]
    ref = reference_point(front)
    k = min(k, n - 1)
    chosen = solve_hssp(front, k, ref)
    picked: list[int] = []
    for _ in range(k):
        rest = [i for i in range(n) if i not in picked]
        gains = [hypervolume(front[picked + [i]], ref) for i in rest]
        picked.append(rest[int(np.argmax(gains))])
    assert sorted(chosen.tolist()) == sorted(picked)

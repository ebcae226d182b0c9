"""Crossovers: how a child's numeric parameters are drawn from its parents'.

Every crossover works on *transformed* numeric parameters: one row per parent, one column per
parameter, log-scaled parameters in log space, stepped ones on a continuous range widened by half
a step (see :mod:`skipjack.samplers.nsgaii._transform`). The returned child may leave the
bounds; the sampler clips it back and rounds it onto the parameter's grid. Categorical
parameters never reach a crossover: they are always exchanged by a uniform crossover.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING
import warnings

import numpy as np

from skipjack.exceptions import ExperimentalWarning

if TYPE_CHECKING:
    from skipjack.study import Study

__all__ = [
    "BLXAlphaCrossover",
    "BaseCrossover",
    "SBXCrossover",
    "SPXCrossover",
    "UNDXCrossover",
    "UniformCrossover",
    "VSBXCrossover",
]


class BaseCrossover(abc.ABC):
    """Abstract base class of crossovers.

    Subclasses define :attr:`n_parents` and :meth:`crossover`.
    """

    def __str__(self) -> str:
        return type(self).__name__

    @property
    @abc.abstractmethod
    def n_parents(self) -> int:
        """How many parents one child needs."""
        raise NotImplementedError

    @abc.abstractmethod
    def crossover(
        self,
        parents_params: np.ndarray,
        rng: np.random.RandomState,
        study: Study,
        search_space_bounds: np.ndarray,
    ) -> np.ndarray:
        """Return one child's transformed parameters.

        Args:
            parents_params: ``(n_parents, n_params)`` transformed parameters of the parents.
            rng: Random generator to draw from.
            study: The study being optimized.
            search_space_bounds: ``(n_params, 2)`` lower and upper transformed bounds.
        """
        raise NotImplementedError


def _warn_experimental(cls: type, version: str) -> None:
    """Warn as Optuna does for classes it marks experimental."""
    warnings.warn(
        f"{cls.__name__} is experimental (supported from v{version}). "
        "The interface can change in the future.",
        ExperimentalWarning,
        stacklevel=3,
    )


def _check_probability(name: str, value: float, *, allow_zero: bool = True) -> None:
    low_ok = value >= 0.0 if allow_zero else value > 0.0
    if not (low_ok and value <= 1.0):
        interval = "[0.0, 1.0]" if allow_zero else "(0.0, 1.0]"
        raise ValueError(
            f"`{name}` must be a float value within the range {interval}, got {value}."
        )


def _default_eta(eta: float | None, study: Study) -> float:
    if eta is not None:
        return eta
    return 20.0 if len(study.directions) > 1 else 2.0


class UniformCrossover(BaseCrossover):
    """Take each parameter from one of two parents.

    Args:
        swapping_prob: Probability of taking a parameter from the second parent instead of the
            first, in ``[0, 1]``.
    """

    n_parents = 2

    def __init__(self, swapping_prob: float = 0.5) -> None:
        _check_probability("swapping_prob", swapping_prob)
        self._swapping_prob = swapping_prob

    def crossover(
        self,
        parents_params: np.ndarray,
        rng: np.random.RandomState,
        study: Study,
        search_space_bounds: np.ndarray,
    ) -> np.ndarray:
        """Return a child mixing the two parents' parameters column by column."""
        n_params = len(search_space_bounds)
        from_second = rng.rand(n_params) < self._swapping_prob
        return np.where(from_second, parents_params[1], parents_params[0])


class BLXAlphaCrossover(BaseCrossover):
    """Blend crossover BLX-alpha (Eshelman and Schaffer, 1993).

    Each parameter is drawn uniformly from the parents' range widened by ``alpha`` times its
    width on both sides.

    Args:
        alpha: Relative widening of the parents' range.
    """

    n_parents = 2

    def __init__(self, alpha: float = 0.5) -> None:
        _warn_experimental(type(self), "3.0.0")
        self._alpha = alpha

    def crossover(
        self,
        parents_params: np.ndarray,
        rng: np.random.RandomState,
        study: Study,
        search_space_bounds: np.ndarray,
    ) -> np.ndarray:
        """Return a child drawn uniformly from the widened parents' box."""
        low = parents_params.min(axis=0)
        high = parents_params.max(axis=0)
        spread = self._alpha * (high - low)
        low, high = low - spread, high + spread
        return low + (high - low) * rng.rand(len(search_space_bounds))


def _mix_genes(
    child1: np.ndarray,
    child2: np.ndarray,
    parents_params: np.ndarray,
    rng: np.random.RandomState,
    uniform_crossover_prob: float,
    use_child_gene_prob: float,
) -> np.ndarray:
    """Per parameter, keep the parents' or the children's pair, swapped or not; return one.

    This is the gene-wise exchange used by SBX and VSBX: each parameter takes the crossover
    result with probability ``use_child_gene_prob`` (else the parents' values), and the two
    values of the pair trade places with probability ``uniform_crossover_prob``.
    """
    n_params = parents_params.shape[1]
    use_child = rng.rand(n_params) < use_child_gene_prob
    swap = rng.rand(n_params) < uniform_crossover_prob
    first = np.where(use_child, child1, parents_params[0])
    second = np.where(use_child, child2, parents_params[1])
    first, second = np.where(swap, second, first), np.where(swap, first, second)
    return first if rng.rand() < 0.5 else second


class SBXCrossover(BaseCrossover):
    """Simulated binary crossover with bounds (Deb and Agrawal, 1995; Deb et al., 2007).

    The spread factor beta is drawn from a polynomial distribution truncated so that both
    children stay inside the bounds (the bounded variant of Deb and Goyal, eqs. 3-5).

    Args:
        eta: Distribution index; large values keep children near their parents. ``None``
            means 20 for multi-objective studies and 2 otherwise.
        uniform_crossover_prob: Probability of swapping a parameter between the two children.
        use_child_gene_prob: Probability of using the crossover result for a parameter rather
            than the parents' values, in ``(0, 1]``.
    """

    n_parents = 2

    def __init__(
        self,
        eta: float | None = None,
        uniform_crossover_prob: float = 0.5,
        use_child_gene_prob: float = 0.5,
    ) -> None:
        _warn_experimental(type(self), "3.0.0")
        if eta is not None and eta < 0.0:
            raise ValueError(f"The value of `eta` must be greater than or equal to 0.0, got {eta}.")
        _check_probability("uniform_crossover_prob", uniform_crossover_prob)
        _check_probability("use_child_gene_prob", use_child_gene_prob, allow_zero=False)
        self._eta = eta
        self._uniform_crossover_prob = uniform_crossover_prob
        self._use_child_gene_prob = use_child_gene_prob

    def crossover(
        self,
        parents_params: np.ndarray,
        rng: np.random.RandomState,
        study: Study,
        search_space_bounds: np.ndarray,
    ) -> np.ndarray:
        """Return one of the two SBX children, mixed gene-wise with the parents."""
        eta = _default_eta(self._eta, study)
        lower, upper = search_space_bounds[:, 0], search_space_bounds[:, 1]
        x_min = parents_params.min(axis=0)
        x_max = parents_params.max(axis=0)
        diff = np.clip(x_max - x_min, 1e-10, None)
        u = rng.rand(len(search_space_bounds))

        def spread(beta: np.ndarray) -> np.ndarray:
            # alpha = 2 - beta^-(eta+1); beta_q from the truncated polynomial distribution.
            alpha = 2.0 - np.power(beta, -(eta + 1.0))
            inside = u <= 1.0 / alpha
            with np.errstate(divide="ignore", invalid="ignore"):
                low_branch = np.power(u * alpha, 1.0 / (eta + 1.0))
                high_branch = np.power(1.0 / (2.0 - u * alpha), 1.0 / (eta + 1.0))
            return np.where(inside, low_branch, high_branch)

        beta_q1 = spread(1.0 + 2.0 * (x_min - lower) / diff)
        beta_q2 = spread(1.0 + 2.0 * (upper - x_max) / diff)
        child1 = 0.5 * ((x_min + x_max) - beta_q1 * diff)
        child2 = 0.5 * ((x_min + x_max) + beta_q2 * diff)
        return _mix_genes(
            child1,
            child2,
            parents_params,
            rng,
            self._uniform_crossover_prob,
            self._use_child_gene_prob,
        )


class VSBXCrossover(SBXCrossover):
    """Vectorized SBX without bound truncation (the "VSBX" of Tomioka et al., 2020).

    The same arguments as :class:`SBXCrossover`; the spread factors come from the unbounded
    polynomial distribution, and each child is a signed blend of both parents.
    """

    def crossover(
        self,
        parents_params: np.ndarray,
        rng: np.random.RandomState,
        study: Study,
        search_space_bounds: np.ndarray,
    ) -> np.ndarray:
        """Return one of the two VSBX children, mixed gene-wise with the parents."""
        eta = _default_eta(self._eta, study)
        eps = 1e-10
        u = rng.rand(len(search_space_bounds))
        beta1 = np.power(1.0 / np.maximum(2.0 * u, eps), 1.0 / (eta + 1.0))
        beta2 = np.power(1.0 / np.maximum(2.0 * (1.0 - u), eps), 1.0 / (eta + 1.0))
        x1, x2 = parents_params[0], parents_params[1]
        if rng.rand() <= 0.5:
            child1 = 0.5 * ((1.0 + beta1) * x1 + (1.0 - beta2) * x2)
        else:
            child1 = 0.5 * ((1.0 - beta1) * x1 + (1.0 + beta2) * x2)
        if rng.rand() <= 0.5:
            child2 = 0.5 * ((3.0 - beta1) * x1 - (1.0 - beta2) * x2)
        else:
            child2 = 0.5 * (-(1.0 - beta1) * x1 + (3.0 - beta2) * x2)
        return _mix_genes(
            child1,
            child2,
            parents_params,
            rng,
            self._uniform_crossover_prob,
            self._use_child_gene_prob,
        )


class UNDXCrossover(BaseCrossover):
    """Unimodal normal distribution crossover (Ono and Kobayashi, 1997; Kita et al., 1999).

    The child is normal around the midpoint of parents 1 and 2: along the line through them
    with deviation ``sigma_xi`` times their distance, and across it with deviation
    ``sigma_eta`` times the distance of parent 3 from that line.

    Args:
        sigma_xi: Spread along the primary search line.
        sigma_eta: Spread orthogonal to it; ``None`` means ``0.35 / sqrt(n_params)``.
    """

    n_parents = 3

    def __init__(self, sigma_xi: float = 0.5, sigma_eta: float | None = None) -> None:
        _warn_experimental(type(self), "3.0.0")
        self._sigma_xi = sigma_xi
        self._sigma_eta = sigma_eta

    def crossover(
        self,
        parents_params: np.ndarray,
        rng: np.random.RandomState,
        study: Study,
        search_space_bounds: np.ndarray,
    ) -> np.ndarray:
        """Return a child drawn from the UNDX distribution of the three parents."""
        n = len(search_space_bounds)
        x1, x2, x3 = parents_params[0], parents_params[1], parents_params[2]
        midpoint = 0.5 * (x1 + x2)
        d = x1 - x2
        sigma_eta = 0.35 / np.sqrt(n) if self._sigma_eta is None else self._sigma_eta
        # Variances as in Optuna's implementation (the paper's sigma^2 used as a deviation).
        etas = rng.normal(0.0, sigma_eta**2, size=n)
        xi = rng.normal(0.0, self._sigma_xi**2)
        child = midpoint + xi * d
        if n == 1:
            return child
        v12 = x2 - x1
        e12 = v12 / max(float(np.linalg.norm(v12)), 1e-10)
        v13 = x3 - x1
        distance = float(np.linalg.norm(v13 - np.dot(v13, e12) * e12))
        # Orthonormal basis of the complement of e12: QR of [e12, I] with e12 leading.
        basis = np.identity(n)
        if np.any(e12 != 0):
            basis[0] = e12
        q, _ = np.linalg.qr(basis.T)
        orthogonal = q.T[1:]
        return child + distance * (etas[: n - 1] @ orthogonal)


class SPXCrossover(BaseCrossover):
    """Simplex crossover (Tsutsui, Yamamura and Higuchi, 1999) with three parents.

    The parents' simplex is expanded by ``epsilon`` around its centroid and the child is drawn
    uniformly from it.

    Args:
        epsilon: Expansion rate; ``None`` means ``sqrt(n_params + 2)``.
    """

    n_parents = 3

    def __init__(self, epsilon: float | None = None) -> None:
        _warn_experimental(type(self), "3.0.0")
        self._epsilon = epsilon

    def crossover(
        self,
        parents_params: np.ndarray,
        rng: np.random.RandomState,
        study: Study,
        search_space_bounds: np.ndarray,
    ) -> np.ndarray:
        """Return a child drawn uniformly from the expanded simplex."""
        n = self.n_parents - 1
        centroid = parents_params.mean(axis=0)  # G, eq. (1)
        r = np.power(rng.rand(n), 1.0 / (np.arange(n) + 1.0))  # r_k, eq. (2)
        epsilon = np.sqrt(len(search_space_bounds) + 2) if self._epsilon is None else self._epsilon
        x = centroid + epsilon * (parents_params - centroid)  # x_k, eq. (3)
        c = np.zeros(parents_params.shape[1])
        for k in range(1, self.n_parents):  # C_k, eq. (4)
            c = r[k - 1] * (x[k - 1] - x[k] + c)
        return x[-1] + c  # eq. (5)

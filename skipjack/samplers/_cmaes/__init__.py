"""CMA-ES sampler on the ``cmaes`` library, with its state kept as JSON in the storage."""

from skipjack.samplers._cmaes._sampler import CmaEsSampler

__all__ = ["CmaEsSampler"]

"""Search spaces derived from a study's history, used by samplers with relative algorithms.

``_GroupDecomposedSearchSpace`` and ``_SearchSpaceGroup`` are importable from here, as in
Optuna, for samplers that group parameters; they are private and not part of ``__all__``.
"""

from skipjack.search_space._group_decomposed import (
    _GroupDecomposedSearchSpace as _GroupDecomposedSearchSpace,
)
from skipjack.search_space._group_decomposed import _SearchSpaceGroup as _SearchSpaceGroup
from skipjack.search_space._intersection import IntersectionSearchSpace
from skipjack.search_space._intersection import intersection_search_space

__all__ = ["IntersectionSearchSpace", "intersection_search_space"]

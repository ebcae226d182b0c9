"""Search-space distributions and their serialized forms.

A distribution describes the set of values one parameter may take: a float range
(:class:`FloatDistribution`), an integer range (:class:`IntDistribution`) or a fixed list of
choices (:class:`CategoricalDistribution`). Each distribution also defines the *internal
representation* of a parameter value, the single float that storages keep:

* float parameters are stored as themselves,
* integer parameters are stored as the same number in float form,
* categorical parameters are stored as the index of the choice.

:func:`distribution_to_json` and :func:`json_to_distribution` read and write the JSON form Optuna
keeps in its RDB tables and journal files, byte for byte.

Compared with Optuna, construction is stricter: bounds must be finite real numbers (integers for
:class:`IntDistribution`), and categorical choices must be ``None``, ``bool``, ``int``, ``float``
or ``str`` (or the matching NumPy scalars, which are stored as the plain Python value).
"""

from skipjack.distributions._base import BaseDistribution
from skipjack.distributions._base import CategoricalChoiceType
from skipjack.distributions._base import CategoricalDistribution
from skipjack.distributions._base import FloatDistribution
from skipjack.distributions._base import IntDistribution
from skipjack.distributions._deprecated import DiscreteUniformDistribution
from skipjack.distributions._deprecated import IntLogUniformDistribution
from skipjack.distributions._deprecated import IntUniformDistribution
from skipjack.distributions._deprecated import LogUniformDistribution
from skipjack.distributions._deprecated import UniformDistribution
from skipjack.distributions._deprecated import (
    _convert_old_distribution_to_new_distribution as _convert_old_distribution_to_new_distribution,
)
from skipjack.distributions._deprecated import _get_single_value as _get_single_value
from skipjack.distributions._deprecated import _is_distribution_log as _is_distribution_log
from skipjack.distributions._deprecated import check_distribution_compatibility
from skipjack.distributions._json import DISTRIBUTION_CLASSES
from skipjack.distributions._json import distribution_to_json
from skipjack.distributions._json import json_to_distribution

__all__ = [
    "BaseDistribution",
    "CategoricalChoiceType",
    "CategoricalDistribution",
    "DISTRIBUTION_CLASSES",
    "DiscreteUniformDistribution",
    "FloatDistribution",
    "IntDistribution",
    "IntLogUniformDistribution",
    "IntUniformDistribution",
    "LogUniformDistribution",
    "UniformDistribution",
    "check_distribution_compatibility",
    "distribution_to_json",
    "json_to_distribution",
]

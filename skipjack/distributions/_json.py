"""The JSON form of distributions that Optuna keeps in RDB tables and journal files."""

from __future__ import annotations

import json
from typing import Any

from skipjack.distributions._base import BaseDistribution
from skipjack.distributions._base import CategoricalDistribution
from skipjack.distributions._base import FloatDistribution
from skipjack.distributions._base import IntDistribution
from skipjack.distributions._base import _check_real
from skipjack.distributions._base import _float_grid_high
from skipjack.distributions._base import _on_float_grid
from skipjack.distributions._base import _warn_high_adjusted
from skipjack.distributions._deprecated import DiscreteUniformDistribution
from skipjack.distributions._deprecated import IntLogUniformDistribution
from skipjack.distributions._deprecated import IntUniformDistribution
from skipjack.distributions._deprecated import LogUniformDistribution
from skipjack.distributions._deprecated import UniformDistribution

DISTRIBUTION_CLASSES: tuple[type[BaseDistribution], ...] = (
    IntDistribution,
    IntLogUniformDistribution,
    IntUniformDistribution,
    FloatDistribution,
    UniformDistribution,
    LogUniformDistribution,
    DiscreteUniformDistribution,
    CategoricalDistribution,
)
"""Every distribution class :func:`json_to_distribution` can rebuild, by class name."""

_CLASSES_BY_NAME: dict[str, type[BaseDistribution]] = {
    cls.__name__: cls for cls in DISTRIBUTION_CLASSES
}


# ---------------------------------------------------------------------------------------------
# JSON form and helpers
# ---------------------------------------------------------------------------------------------


def distribution_to_json(dist: BaseDistribution) -> str:
    """Serialize a distribution as ``{"name": <class name>, "attributes": {...}}``.

    The output is byte-identical to Optuna's, so storages written by either library agree.
    """
    return json.dumps({"name": type(dist).__name__, "attributes": dist._asdict()})


def json_to_distribution(json_str: str) -> BaseDistribution:
    """Rebuild a distribution from its JSON form.

    Accepts the ``{"name": ..., "attributes": ...}`` form for the current classes and for the
    deprecated ones (which are rebuilt as the deprecated class, with a ``FutureWarning``, as
    Optuna does), and the abbreviated form
    ``{"type": "float" | "int" | "categorical", "low", "high", "step", "log", "choices"}``.

    Raises:
        ValueError: if the class name or type is unknown or the text is not a JSON object.
    """
    data = json.loads(json_str)
    if not isinstance(data, dict):
        raise ValueError(f"A distribution must be a JSON object, but got {json_str!r}.")

    if "name" in data:
        name = data["name"]
        cls = _CLASSES_BY_NAME.get(name) if isinstance(name, str) else None
        if cls is None:
            known = ", ".join(sorted(_CLASSES_BY_NAME))
            raise ValueError(f"Unknown distribution class {name!r}; known classes are {known}.")
        # CategoricalDistribution turns the JSON list of choices back into a tuple itself.
        attributes = dict(data.get("attributes", {}))
        if issubclass(cls, FloatDistribution):
            return _float_from_stored(cls, attributes)
        return cls(**attributes)

    if "type" not in data:
        raise ValueError(
            f"A distribution JSON object needs a `name` or a `type` key, but got {json_str!r}."
        )
    kind = data["type"]
    if kind == "categorical":
        return CategoricalDistribution(data["choices"])
    if kind == "float":
        return FloatDistribution(
            data["low"], data["high"], log=data.get("log", False), step=data.get("step")
        )
    if kind == "int":
        step = data.get("step")
        return IntDistribution(
            data["low"], data["high"], log=data.get("log", False), step=1 if step is None else step
        )
    raise ValueError(
        f"Unknown distribution type {kind!r}; expected 'float', 'int' or 'categorical'."
    )


def _float_from_stored(
    cls: type[FloatDistribution], attributes: dict[str, Any]
) -> FloatDistribution:
    """Rebuild a stored float distribution without moving a ``high`` that is already on the grid.

    Optuna re-runs the grid adjustment on read, which can shift a stored ``high`` down by one step
    and leave stored parameter values outside the distribution.
    """
    step_key = "q" if issubclass(cls, DiscreteUniformDistribution) else "step"
    if attributes.get(step_key) is None or "low" not in attributes or "high" not in attributes:
        return cls(**attributes)
    stored_high = attributes["high"]
    # Build with high=low (always on the grid) so that every other attribute is validated.
    dist = cls(**{**attributes, "high": attributes["low"]})
    high = _check_real(cls.__name__, "high", stored_high)
    if high < dist.low:
        raise ValueError(
            f"`low <= high` must hold, but got low={attributes['low']!r} and high={stored_high!r}."
        )
    assert dist.step is not None
    # A stored high was moved onto the grid when the distribution was built, but the decimal
    # test may now place it just off the grid (e.g. [0, 1.9990000000000003] with
    # step=0.0010000000000000002) and would drop the top grid point.
    if _on_float_grid(dist.low, high, dist.step):
        dist.high = high
    else:
        dist.high = _float_grid_high(dist.low, high, dist.step)
        if dist.high != high:
            _warn_high_adjusted(attributes["low"], stored_high, dist.step, dist.high)
    return dist

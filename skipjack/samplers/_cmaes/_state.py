"""JSON form of a ``cmaes`` optimizer, so its state can live in shared storage without pickle.

Optuna stores the optimizer as a hex-encoded pickle in trial system attributes: anyone who can
write the database can then run code in every worker that reads it. Here the state is reduced to
plain data (numbers, lists, ``None``) and rebuilt only into one of a fixed set of classes, whose
attributes are filled in from that data; nothing in the stored text can name a class or callable.

The optimizer's own ``__getstate__`` (the attribute dict ``pickle`` would use, minus the random
generator) is the source of truth, so a new ``cmaes`` release that adds attributes keeps working.

Format 2 stores each numeric array as the base64 text of its little-endian bytes, with its dtype
and shape: writing a few hundred floats as decimal JSON numbers cost more than the CMA-ES update
itself. Format 1 (arrays as JSON lists) is still read.
"""

from __future__ import annotations

import base64
import json
import math
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeAlias

import numpy as np

if TYPE_CHECKING:
    import cmaes

__all__ = ["CmaClass", "decode_optimizer", "encode_optimizer", "join_chunks", "split_chunks"]

CmaClass: TypeAlias = "cmaes.CMA | cmaes.SepCMA | cmaes.CMAwM"


def _classes() -> dict[str, Any]:
    """The only classes a stored state may be rebuilt into; the names are ours, not paths.

    ``cmaes`` imports SciPy, so it is imported on first use rather than with skipjack.
    """
    import cmaes

    return {"CMA": cmaes.CMA, "SepCMA": cmaes.SepCMA, "CMAwM": cmaes.CMAwM}


_FORMAT = 2
_READABLE_FORMATS = (1, 2)
# MySQL's TEXT holds 65,535 bytes; stay well under it per attribute.
CHUNK_LENGTH = 16_000


_PLAIN: dict[type, Any] = {float: float, np.float64: float, int: int, bool: bool, np.bool_: bool}


def _encode_value(value: Any) -> Any:
    plain = _PLAIN.get(type(value))
    if plain is not None:  # the common scalars, without the isinstance chain below
        return plain(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"Cannot store a {value.dtype} array of a CMA-ES optimizer as JSON.")
        if value.dtype.str[0] == ">":
            value = value.astype(value.dtype.newbyteorder("<"))
        data = base64.b64encode(value.tobytes()).decode("ascii")  # C order, any layout
        return {"b64": data, "shape": list(value.shape), "dtype": value.dtype.str}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if value is None:
        return None
    for name, cls in _classes().items():
        if type(value) is cls:
            return {"optimizer": _encode_object(name, value)}
    raise TypeError(f"Cannot store a {type(value).__name__} of a CMA-ES optimizer as JSON.")


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "b64" in value or "ndarray" in value:
            return _decode_array(value)
        if "optimizer" in value:
            return _decode_object(value["optimizer"])
        raise ValueError("Malformed CMA-ES state in storage.")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise ValueError(f"Unexpected {type(value).__name__} in a stored CMA-ES state.")


def _decode_array(value: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(value["dtype"])
    if dtype.kind not in "biuf":
        raise ValueError(f"Unexpected array dtype {dtype} in a stored CMA-ES state.")
    shape = tuple(int(n) for n in value["shape"])
    if "ndarray" in value:  # format 1
        return np.asarray(value["ndarray"], dtype=dtype).reshape(shape)
    data = base64.b64decode(value["b64"], validate=True)
    if len(data) != dtype.itemsize * math.prod(shape):
        raise ValueError("Malformed array in a stored CMA-ES state.")
    # A writable native-order copy: the optimizer updates its arrays in place.
    return (
        np.frombuffer(data, dtype=dtype).astype(dtype.newbyteorder("="), copy=True).reshape(shape)
    )


def _state_attrs(optimizer: Any) -> dict[str, Any]:
    getstate = getattr(optimizer, "__getstate__", None)
    attrs = getstate() if getstate is not None else vars(optimizer)
    if attrs is None:  # object.__getstate__ of a plain instance without slots
        attrs = vars(optimizer)
    return {k: v for k, v in attrs.items() if k != "_rng"}


def _encode_object(name: str, optimizer: Any) -> dict[str, Any]:
    encoded = {k: _encode_value(v) for k, v in _state_attrs(optimizer).items()}
    return {"class": name, "attrs": encoded}


def _decode_object(data: dict[str, Any]) -> Any:
    cls = _classes().get(data.get("class", ""))
    if cls is None:
        raise ValueError(f"Unknown optimizer class {data.get('class')!r} in a stored CMA-ES state.")
    attrs = {str(k): _decode_value(v) for k, v in data["attrs"].items()}
    optimizer = cls.__new__(cls)
    if "__setstate__" in vars(cls):
        optimizer.__setstate__(attrs)  # sets a fresh ``_rng``; the sampler reseeds it
    else:
        optimizer.__dict__.update(attrs)
    return optimizer


def encode_optimizer(optimizer: CmaClass) -> str:
    """Return the JSON text of ``optimizer``'s state."""
    name = type(optimizer).__name__
    payload = {"format": _FORMAT, **_encode_object(name, optimizer)}
    # Stdlib json writes NaN/Infinity tokens (unused scratch arrays may hold them). The payload
    # is a tree built above, so the check for reference cycles can be skipped.
    return json.dumps(payload, separators=(",", ":"), check_circular=False)


def decode_optimizer(text: str) -> CmaClass:
    """Rebuild an optimizer from :func:`encode_optimizer`'s output."""
    payload = json.loads(text)
    if not isinstance(payload, dict) or payload.get("format") not in _READABLE_FORMATS:
        raise ValueError("Unsupported CMA-ES state format in storage.")
    return _decode_object(payload)


def split_chunks(text: str, prefix: str) -> dict[str, str]:
    """Split ``text`` into attributes ``{prefix}:0``, ``{prefix}:1``, ... of bounded length."""
    n = max(1, math.ceil(len(text) / CHUNK_LENGTH))
    return {f"{prefix}:{i}": text[i * CHUNK_LENGTH : (i + 1) * CHUNK_LENGTH] for i in range(n)}


def join_chunks(attrs: dict[str, Any], prefix: str) -> str | None:
    """Inverse of :func:`split_chunks`; ``None`` when ``attrs`` holds no chunk of ``prefix``."""
    parts: list[str] = []
    i = 0
    while (part := attrs.get(f"{prefix}:{i}")) is not None:
        parts.append(part)
        i += 1
    return "".join(parts) if parts else None

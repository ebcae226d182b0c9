"""skipjack mirrors the public names of Optuna 5.0's modules.

For every mirrored module, each public name of Optuna's module must exist in skipjack's
counterpart, unless it is listed in ``PENDING`` with the issue that will bring it. Pending names are
asserted to be still missing, so the table has to shrink as features land: a name that appears in
skipjack while still listed here fails the test instead of passing silently.

The real ``optuna`` package (a test dependency) is the reference; nothing here is hard-coded from
skipjack's own output.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType
from types import UnionType
from typing import Any

import pytest

MIRRORED_MODULES = (
    "optuna",
    "optuna.distributions",
    "optuna.exceptions",
    "optuna.logging",
    "optuna.trial",
    "optuna.study",
    "optuna.samplers",
    "optuna.pruners",
    "optuna.storages",
    "optuna.search_space",
)

# Public names the heuristic below cannot see (typing aliases, subpackages a user imports from).
EXTRA_PUBLIC_NAMES = {
    "optuna.distributions": {"CategoricalChoiceType"},
    "optuna.storages": {"journal"},
}

_LATER = "not in issue 2; no issue filed yet"
_NOT_PLANNED = "not planned: Optuna's gRPC storage proxy"

# "<optuna module>.<name>": why skipjack does not have it yet.
PENDING: dict[str, str] = {
    "optuna.artifacts": _LATER,
    "optuna.importance": _LATER,
    "optuna.integration": _LATER,
    "optuna.visualization": _LATER,
    "optuna.storages.GrpcStorageProxy": _NOT_PLANNED,
    "optuna.storages.run_grpc_proxy_server": _NOT_PLANNED,
}

# Attributes a package may hold without listing them in ``__all__``.
_HARMLESS_NAMES = {"annotations", "TYPE_CHECKING"}


def _counterpart_name(optuna_module_name: str) -> str:
    return "skipjack" + optuna_module_name[len("optuna") :]


def _optuna_public_names(module: ModuleType) -> set[str]:
    """Optuna's public names: ``__all__`` plus what the module itself defines.

    ``__all__`` alone is not enough: ``optuna.logging.__all__`` lists only the level constants,
    and ``optuna.distributions`` has none. Names imported from elsewhere (``typing.Any``,
    ``optuna._deprecated.deprecated_class``) and stdlib modules do not count.
    """
    names = {n for n in getattr(module, "__all__", ()) if not n.startswith("_")}
    if "__version__" in getattr(module, "__all__", ()):
        names.add("__version__")
    for name, obj in vars(module).items():
        if name.startswith("_") or isinstance(obj, ModuleType) or name in _HARMLESS_NAMES:
            continue
        if getattr(obj, "__module__", None) == module.__name__:
            names.add(name)
        elif name.isupper() and not callable(obj):
            names.add(name)
    names |= EXTRA_PUBLIC_NAMES.get(module.__name__, set())
    return names


def _skipjack_module(optuna_module_name: str) -> ModuleType:
    name = _counterpart_name(optuna_module_name)
    try:
        return importlib.import_module(name)
    except ImportError as e:  # pragma: no cover - reported as a failure, not a skip
        pytest.fail(f"{name} cannot be imported (mirrors {optuna_module_name}): {e!r}")


def _kind(obj: Any) -> str:
    if isinstance(obj, UnionType) or type(obj).__module__ == "typing":
        return "type alias"  # Union[...] and X | Y are interchangeable spellings
    if isinstance(obj, ModuleType):
        return "module"
    if isinstance(obj, type):
        return "class"
    if callable(obj):
        return "callable"
    return "value"


@pytest.mark.parametrize("module_name", MIRRORED_MODULES)
def test_every_public_optuna_name_exists(module_name: str) -> None:
    reference = importlib.import_module(module_name)
    ours = _skipjack_module(module_name)
    missing = sorted(
        name
        for name in _optuna_public_names(reference)
        if f"{module_name}.{name}" not in PENDING and not hasattr(ours, name)
    )
    assert not missing, (
        f"{ours.__name__} lacks public names of {module_name}: {missing}. Implement them or, if a "
        "later issue owns them, add them to PENDING with the issue."
    )


@pytest.mark.parametrize("module_name", MIRRORED_MODULES)
def test_public_names_have_optunas_kind(module_name: str) -> None:
    """A class stays a class, a function a callable, a module a module."""
    reference = importlib.import_module(module_name)
    ours = _skipjack_module(module_name)
    wrong = []
    for name in sorted(_optuna_public_names(reference)):
        if not hasattr(ours, name):
            continue
        expected, actual = _kind(getattr(reference, name)), _kind(getattr(ours, name))
        if expected != actual:
            wrong.append(f"{name}: Optuna has a {expected}, skipjack a {actual}")
    assert not wrong, f"{ours.__name__}: " + "; ".join(wrong)


@pytest.mark.parametrize("qualified_name", sorted(PENDING))
def test_pending_names_are_still_missing(qualified_name: str) -> None:
    module_name, _, name = qualified_name.rpartition(".")
    reference = importlib.import_module(module_name)
    assert name in _optuna_public_names(reference), (
        f"PENDING lists {qualified_name}, which is not a public name of Optuna; fix the table."
    )
    ours = _skipjack_module(module_name)
    assert not hasattr(ours, name), (
        f"{ours.__name__}.{name} now exists: remove {qualified_name!r} from PENDING "
        f"({PENDING[qualified_name]})."
    )


def test_optuna_aliases_stay_aliases() -> None:
    """Where Optuna exposes one object under two paths (optuna.Trial is optuna.trial.Trial),
    skipjack's two paths must give one object too, not two copies of a class."""
    by_identity: dict[int, list[tuple[str, str]]] = {}
    for module_name in MIRRORED_MODULES:
        reference = importlib.import_module(module_name)
        for name in _optuna_public_names(reference):
            if f"{module_name}.{name}" in PENDING or not hasattr(reference, name):
                continue
            obj = getattr(reference, name)
            if isinstance(obj, (type, ModuleType)) or inspect.isfunction(obj):
                by_identity.setdefault(id(obj), []).append((module_name, name))
    split = []
    for places in by_identity.values():
        if len(places) < 2:
            continue
        ours = {
            (m, n): getattr(importlib.import_module(_counterpart_name(m)), n, None)
            for m, n in places
        }
        if len({id(o) for o in ours.values()}) > 1:
            split.append(" vs ".join(f"{_counterpart_name(m)}.{n}" for m, n in ours))
    assert not split, "these should be the same object: " + "; ".join(split)


@pytest.mark.parametrize("module_name", MIRRORED_MODULES)
def test_class_hierarchy_mirrors_optuna(module_name: str) -> None:
    """If Optuna's class derives from another public class of the same module, ours does too
    (e.g. TrialPruned from OptunaError, RandomSampler from BaseSampler)."""
    reference = importlib.import_module(module_name)
    ours = _skipjack_module(module_name)
    public = _optuna_public_names(reference)
    classes = {
        n: getattr(reference, n)
        for n in public
        if isinstance(getattr(reference, n, None), type) and hasattr(ours, n)
    }
    broken = [
        f"{child} should subclass {parent}"
        for child, child_cls in classes.items()
        for parent, parent_cls in classes.items()
        if child != parent
        and issubclass(child_cls, parent_cls)
        and not issubclass(getattr(ours, child), getattr(ours, parent))
    ]
    assert not broken, f"{ours.__name__}: " + "; ".join(sorted(broken))


def _skipjack_modules() -> list[str]:
    return [_counterpart_name(m) for m in MIRRORED_MODULES]


@pytest.mark.parametrize("module_name", _skipjack_modules())
def test_all_lists_only_existing_public_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        assert not hasattr(module, "__path__"), f"package {module_name} must define __all__"
        return
    assert len(exported) == len(set(exported)), f"{module_name}.__all__ has duplicates"
    private = [n for n in exported if n.startswith("_") and n != "__version__"]
    assert not private, f"{module_name}.__all__ exports private names: {private}"
    absent = [n for n in exported if not hasattr(module, n)]
    assert not absent, f"{module_name}.__all__ lists names it does not define: {absent}"


@pytest.mark.parametrize("module_name", MIRRORED_MODULES)
def test_all_covers_optunas_all(module_name: str) -> None:
    """``from optuna.x import *`` and ``from skipjack.x import *`` bring the same names."""
    reference = importlib.import_module(module_name)
    ours = _skipjack_module(module_name)
    if not hasattr(reference, "__all__") or not hasattr(ours, "__all__"):
        return
    missing = sorted(
        n
        for n in reference.__all__
        if (not n.startswith("_") or n == "__version__")
        and hasattr(ours, n)
        and n not in ours.__all__
    )
    assert not missing, f"{ours.__name__}.__all__ lacks {missing}, which Optuna's __all__ has"


@pytest.mark.parametrize("module_name", _skipjack_modules())
def test_nothing_leaks_from_packages(module_name: str) -> None:
    """A package's public attributes are its ``__all__`` and its own submodules, nothing else
    (no stray ``np`` or helper imported into ``__init__``)."""
    module = importlib.import_module(module_name)
    if not hasattr(module, "__path__") or not hasattr(module, "__all__"):
        return
    leaked = sorted(
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and name not in module.__all__
        and name not in _HARMLESS_NAMES
        and not (isinstance(obj, ModuleType) and obj.__name__ == f"{module_name}.{name}")
    )
    assert not leaked, f"{module_name} exposes names missing from __all__: {leaked}"

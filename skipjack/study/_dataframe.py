"""``Study.trials_dataframe``: one row per trial, one column per trial attribute (or sub-key)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    import pandas as pd

    from skipjack.study.study import Study
    from skipjack.trial._frozen import FrozenTrial

__all__ = ["trials_dataframe"]

_DEFAULT_ATTRS = (
    "number",
    "value",
    "datetime_start",
    "datetime_complete",
    "duration",
    "params",
    "user_attrs",
    "system_attrs",
    "state",
)

# A column is a pair (attribute column, sub-key); "" marks an attribute with no sub-keys.
_Column = tuple[str, Any]


def _import_pandas() -> Any:
    try:
        import pandas
    except ImportError as error:
        raise ImportError(
            "trials_dataframe needs pandas, which is not installed. Install it with "
            "`pip install skipjack[pandas]` (or `pip install pandas`)."
        ) from error
    return pandas


def trials_dataframe(
    study: Study,
    attrs: tuple[str, ...] = _DEFAULT_ATTRS,
    multi_index: bool = False,
) -> pd.DataFrame:
    """Return the study's trials as a pandas DataFrame, one row per trial in number order.

    ``attrs`` names FrozenTrial attributes; a leading underscore is dropped from the column name.
    Dict attributes (``params``, ``user_attrs``, ...) get one column per key, list attributes
    one per index, and ``values`` one per objective, named after ``study.metric_names`` when
    set. In a multi-objective study ``value`` stands for ``values``. ``state`` holds the state's
    name (``"COMPLETE"``). Columns are flattened to ``params_x`` unless ``multi_index`` is true,
    in which case they are pairs such as ``("params", "x")``. A study without trials gives an
    empty DataFrame.
    """
    pandas = _import_pandas()
    trials = study.get_trials(deepcopy=False)
    if not trials:
        return pandas.DataFrame()

    n_objectives = len(study.directions)
    if n_objectives > 1:
        attrs = tuple("values" if attr == "value" else attr for attr in attrs)
    records, columns = _records_and_columns(trials, attrs, n_objectives, study.metric_names)

    frame = pandas.DataFrame(records, columns=pandas.MultiIndex.from_tuples(columns))
    if not multi_index:
        frame.columns = [_flat_name(column) for column in columns]
    return frame


def _records_and_columns(
    trials: Sequence[FrozenTrial],
    attrs: tuple[str, ...],
    n_objectives: int,
    metric_names: list[str] | None,
) -> tuple[list[dict[_Column, Any]], list[_Column]]:
    """Turn trials into row dicts keyed by column, and list the columns in display order."""
    headers = {attr: attr[1:] if attr.startswith("_") else attr for attr in attrs}
    seen: dict[str, set[_Column]] = {}
    records = []
    for trial in trials:
        record: dict[_Column, Any] = {}
        for attr, header in headers.items():
            cells = _cells(getattr(trial, attr), attr, header, n_objectives, metric_names)
            record.update(cells)
            seen.setdefault(attr, set()).update(cells)
        records.append(record)

    columns: list[_Column] = []
    for attr in attrs:
        if attr not in seen:
            continue
        if attr == "values" and metric_names is not None:
            columns.extend((headers[attr], name) for name in metric_names)
        else:
            columns.extend(sorted(seen[attr]))
    return records, columns


def _cells(
    value: Any, attr: str, header: str, n_objectives: int, metric_names: list[str] | None
) -> dict[_Column, Any]:
    """The cells one attribute of one trial contributes to its row."""
    if isinstance(value, TrialState):
        return {(header, ""): value.name}
    if isinstance(value, dict):
        return {(header, key): item for key, item in value.items()}
    if attr == "values":
        # Trials without values (FAIL, PRUNED, RUNNING) still fill every objective column.
        items = [None] * n_objectives if value is None else value
        keys: Sequence[Any] = range(len(items)) if metric_names is None else metric_names
        return {(header, key): item for key, item in zip(keys, items)}
    if isinstance(value, list):
        return {(header, index): item for index, item in enumerate(value)}
    if attr == "value" and metric_names is not None:
        return {(header, metric_names[0]): value}
    return {(header, ""): value}


def _flat_name(column: _Column) -> str:
    """Join a column pair with "_", leaving out empty parts: ("params", "x") -> "params_x"."""
    return "_".join(part for part in map(str, column) if part)

from __future__ import annotations

import datetime
import sys
from typing import Any
import warnings

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
import optuna
import pandas as pd
import pytest

from skipjack import distributions as sj_distributions
from skipjack.study._dataframe import trials_dataframe
from skipjack.study._study_direction import StudyDirection
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)


class FakeStudy:
    """The part of Study that trials_dataframe reads."""

    def __init__(
        self,
        trials: list[FrozenTrial],
        directions: list[StudyDirection],
        metric_names: list[str] | None = None,
    ) -> None:
        self._trials = trials
        self.directions = directions
        self.metric_names = metric_names
        self.deepcopy_args: list[bool] = []

    def get_trials(self, deepcopy: bool = True, states: Any = None) -> list[FrozenTrial]:
        self.deepcopy_args.append(deepcopy)
        return list(self._trials)


def to_skipjack(trial: optuna.trial.FrozenTrial) -> FrozenTrial:
    """The same trial, field for field, as a skipjack FrozenTrial."""
    distributions = {
        name: sj_distributions.json_to_distribution(optuna.distributions.distribution_to_json(dist))
        for name, dist in trial.distributions.items()
    }
    return FrozenTrial(
        number=trial.number,
        state=TrialState(trial.state.value),
        value=None,
        values=trial.values,
        datetime_start=trial.datetime_start,
        datetime_complete=trial.datetime_complete,
        params=dict(trial.params),
        distributions=distributions,
        user_attrs=dict(trial.user_attrs),
        system_attrs=dict(trial.system_attrs),
        intermediate_values=dict(trial.intermediate_values),
        trial_id=trial._trial_id,
    )


def mirror(study: optuna.Study) -> FakeStudy:
    directions = [StudyDirection(d.value) for d in study.directions]
    return FakeStudy([to_skipjack(t) for t in study.trials], directions, study.metric_names)


DISTS = {
    "x": optuna.distributions.FloatDistribution(-5.0, 5.0),
    "n": optuna.distributions.IntDistribution(1, 10),
    "opt": optuna.distributions.CategoricalDistribution(["adam", "sgd", None]),
}


def populated_optuna_study(directions: list[Any]) -> optuna.Study:
    """Trials in every state, with parameters, attributes and steps that vary between trials."""
    study = optuna.create_study(directions=directions)
    n_obj = len(directions)
    create = optuna.trial.create_trial
    state = optuna.trial.TrialState
    study.add_trial(
        create(
            values=[1.5] * n_obj,
            params={"x": 0.5, "n": 3},
            distributions={"x": DISTS["x"], "n": DISTS["n"]},
            user_attrs={"tag": "a", "score": 1},
            intermediate_values={0: 3.0, 2: 1.0},
        )
    )
    study.add_trial(
        create(
            state=state.PRUNED,
            params={"opt": "sgd"},
            distributions={"opt": DISTS["opt"]},
            system_attrs={"fixed_params": {"opt": "sgd"}},
            intermediate_values={1: 4.0},
        )
    )
    study.add_trial(create(state=state.FAIL, user_attrs={"error": "boom"}))
    study.add_trial(
        create(state=state.RUNNING, params={"x": -1.0}, distributions={"x": DISTS["x"]})
    )
    study.add_trial(create(state=state.WAITING))
    study.add_trial(
        create(
            values=[float(i) for i in range(n_obj)],
            params={"x": 2.0, "n": 10, "opt": None},
            distributions=DISTS,
            constraints={"c": -0.5},
        )
    )
    return study


ATTRS_CASES: list[tuple[str, ...]] = [
    (
        "number",
        "value",
        "datetime_start",
        "datetime_complete",
        "duration",
        "params",
        "user_attrs",
        "system_attrs",
        "state",
    ),
    ("number", "values", "state"),
    ("state", "params", "number", "_trial_id", "intermediate_values"),
    ("value", "user_attrs"),
    ("number",),
]


@pytest.mark.parametrize("directions", [["minimize"], ["maximize", "minimize", "minimize"]])
@pytest.mark.parametrize("attrs", ATTRS_CASES)
@pytest.mark.parametrize("multi_index", [False, True])
@pytest.mark.parametrize("with_metric_names", [False, True])
def test_matches_optuna(
    directions: list[str], attrs: tuple[str, ...], multi_index: bool, with_metric_names: bool
) -> None:
    study = populated_optuna_study(directions)
    if with_metric_names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([f"m{i}" for i in range(len(directions))][::-1])
    expected = study.trials_dataframe(attrs=attrs, multi_index=multi_index)
    ours = trials_dataframe(mirror(study), attrs=attrs, multi_index=multi_index)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(ours, expected)


def test_default_column_names_and_cells() -> None:
    study = populated_optuna_study(["minimize"])
    frame = trials_dataframe(mirror(study))  # type: ignore[arg-type]
    assert list(frame.columns) == [
        "number",
        "value",
        "datetime_start",
        "datetime_complete",
        "duration",
        "params_n",
        "params_opt",
        "params_x",
        "user_attrs_error",
        "user_attrs_score",
        "user_attrs_tag",
        "system_attrs_constraints:c",
        "system_attrs_fixed_params",
        "state",
    ]
    assert frame["state"].tolist() == [
        "COMPLETE",
        "PRUNED",
        "FAIL",
        "RUNNING",
        "WAITING",
        "COMPLETE",
    ]
    assert frame["number"].tolist() == [0, 1, 2, 3, 4, 5]
    assert frame.loc[0, "value"] == 1.5
    assert pd.isna(frame.loc[1, "value"])
    assert frame.loc[1, "params_opt"] == "sgd"
    assert pd.isna(frame.loc[4, "datetime_start"])
    assert isinstance(frame.loc[0, "duration"], pd.Timedelta)


def test_multi_objective_names_and_multi_index() -> None:
    study = populated_optuna_study(["maximize", "minimize"])
    fake = mirror(study)
    flat = trials_dataframe(fake)  # type: ignore[arg-type]
    assert "value" not in flat.columns
    assert {"values_0", "values_1"} <= set(flat.columns)
    assert pd.isna(flat.loc[2, "values_1"])  # the FAIL trial fills every objective column

    fake.metric_names = ["accuracy", "latency"]
    named = trials_dataframe(fake, multi_index=True)  # type: ignore[arg-type]
    assert isinstance(named.columns, pd.MultiIndex)
    assert ("values", "accuracy") in named.columns
    assert ("params", "x") in named.columns
    assert ("number", "") in named.columns
    assert named[("values", "latency")].tolist()[-1] == 1.0


def test_single_objective_metric_name_goes_on_value() -> None:
    study = populated_optuna_study(["minimize"])
    fake = mirror(study)
    fake.metric_names = ["loss"]
    assert "value_loss" in trials_dataframe(fake, attrs=("number", "value")).columns  # type: ignore[arg-type]


def test_empty_study_gives_empty_frame() -> None:
    frame = trials_dataframe(FakeStudy([], [StudyDirection.MINIMIZE]))  # type: ignore[arg-type]
    assert isinstance(frame, pd.DataFrame)
    assert frame.empty
    assert len(frame.columns) == 0


def test_reads_trials_without_copying() -> None:
    fake = mirror(populated_optuna_study(["minimize"]))
    trials_dataframe(fake)  # type: ignore[arg-type]
    assert fake.deepcopy_args and not any(fake.deepcopy_args)


def test_missing_pandas_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` raise ImportError
    with pytest.raises(ImportError, match=r"pip install skipjack\[pandas\]"):
        trials_dataframe(FakeStudy([], [StudyDirection.MINIMIZE]))  # type: ignore[arg-type]


# Random trials: parameters, attributes and states drawn per trial, compared with Optuna.
_values = st.one_of(
    st.integers(-3, 3), st.floats(-1e3, 1e3, allow_nan=False), st.text(max_size=3), st.none()
)
_trial_specs = st.lists(
    st.fixed_dictionaries(
        {
            "state": st.sampled_from(["COMPLETE", "PRUNED", "FAIL", "RUNNING"]),
            "x": st.none() | st.floats(0.0, 1.0),
            "user_attrs": st.dictionaries(st.sampled_from(["a", "b", "c_d"]), _values, max_size=3),
            "system_attrs": st.dictionaries(st.sampled_from(["s", "t"]), _values, max_size=2),
            "value": st.floats(-10.0, 10.0),
        }
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(_trial_specs, st.booleans())
def test_random_trials_match_optuna(specs: list[dict[str, Any]], multi_index: bool) -> None:
    study = optuna.create_study()
    for spec in specs:
        state = optuna.trial.TrialState[spec["state"]]
        params = {} if spec["x"] is None else {"x": spec["x"]}
        trial = optuna.trial.create_trial(
            state=state,
            value=spec["value"] if state == optuna.trial.TrialState.COMPLETE else None,
            params=params,
            distributions={"x": DISTS["x"]} if params else {},
            user_attrs=spec["user_attrs"],
            system_attrs=spec["system_attrs"],
        )
        study.add_trial(trial)
    expected = study.trials_dataframe(multi_index=multi_index)
    ours = trials_dataframe(mirror(study), multi_index=multi_index)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(ours, expected)


def test_datetimes_and_duration_are_kept() -> None:
    start = datetime.datetime(2024, 1, 2, 3, 4, 5)
    trial = FrozenTrial(
        number=0,
        state=TrialState.COMPLETE,
        value=1.0,
        datetime_start=start,
        datetime_complete=start + datetime.timedelta(seconds=90),
        params={},
        distributions={},
        user_attrs={},
        system_attrs={},
        intermediate_values={},
        trial_id=0,
    )
    frame = trials_dataframe(FakeStudy([trial], [StudyDirection.MINIMIZE]))  # type: ignore[arg-type]
    assert frame.loc[0, "datetime_start"] == pd.Timestamp(start)
    assert frame.loc[0, "duration"] == pd.Timedelta(seconds=90)


@pytest.mark.parametrize("directions", [["minimize"], ["minimize", "maximize"]])
def test_objective_columns_exist_when_no_trial_has_values(directions: list[Any]) -> None:
    study = optuna.create_study(directions=directions)
    study.add_trial(optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL))
    expected = study.trials_dataframe()
    ours = trials_dataframe(mirror(study))  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(ours, expected)
    value_columns = ["value"] if len(directions) == 1 else ["values_0", "values_1"]
    assert all(c in ours.columns for c in value_columns)

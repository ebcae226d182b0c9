from __future__ import annotations

import copy
import pickle
import re
import threading
from typing import Any

import pytest

import skipjack
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.exceptions import DuplicatedStudyError
from skipjack.samplers import RandomSampler
from skipjack.storages import InMemoryStorage
from skipjack.study import StudyDirection
from skipjack.trial import FrozenTrial
from skipjack.trial import TrialState
from skipjack.trial import create_trial


def quadratic(trial: skipjack.Trial) -> float:
    x = trial.suggest_float("x", -10, 10)
    return (x - 2) ** 2


class TestCreateAndLoad:
    def test_unnamed_study_gets_a_no_name_uuid(self) -> None:
        study = skipjack.create_study()
        assert re.fullmatch(r"no-name-[0-9a-f-]{36}", study.study_name)

    def test_directions(self) -> None:
        assert skipjack.create_study().direction == StudyDirection.MINIMIZE
        assert skipjack.create_study(direction="maximize").direction == StudyDirection.MAXIMIZE
        s = skipjack.create_study(directions=["minimize", StudyDirection.MAXIMIZE])
        assert s.directions == [StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE]
        with pytest.raises(RuntimeError):
            _ = s.direction

    @pytest.mark.parametrize(
        "kwargs, exc, match",
        [
            (dict(direction="minimise"), ValueError, "minimise"),
            (dict(direction="minimize", directions=["minimize"]), ValueError, "only one"),
            (dict(directions=[]), ValueError, "at least one"),
            (dict(directions=["maximize", "up"]), ValueError, "'up'"),
            (dict(directions="maximize"), TypeError, "list"),
            (dict(direction=StudyDirection.NOT_SET), ValueError, "NOT_SET"),
            (dict(storage=3), TypeError, "storage"),
        ],
    )
    def test_bad_arguments_raise_before_creating(
        self, kwargs: dict, exc: type, match: str
    ) -> None:
        with pytest.raises(exc, match=match):
            skipjack.create_study(**kwargs)

    def test_create_study_is_keyword_only(self) -> None:
        with pytest.raises(TypeError):
            skipjack.create_study(None)  # type: ignore[misc]

    def test_duplicate_name_and_load_if_exists(self) -> None:
        storage = InMemoryStorage()
        a = skipjack.create_study(study_name="s", storage=storage, direction="maximize")
        with pytest.raises(DuplicatedStudyError):
            skipjack.create_study(study_name="s", storage=storage)
        b = skipjack.create_study(study_name="s", storage=storage, load_if_exists=True)
        assert b._study_id == a._study_id and b.direction == StudyDirection.MAXIMIZE

    def test_load_if_exists_warns_on_conflicting_direction(self) -> None:
        storage = InMemoryStorage()
        skipjack.create_study(study_name="s", storage=storage, direction="maximize")
        with pytest.warns(UserWarning, match="maximize"):
            skipjack.create_study(
                study_name="s", storage=storage, direction="minimize", load_if_exists=True
            )

    def test_load_delete_and_names(self) -> None:
        storage = InMemoryStorage()
        skipjack.create_study(study_name="a", storage=storage).optimize(quadratic, n_trials=3)
        skipjack.create_study(study_name="b", storage=storage)
        assert sorted(skipjack.get_all_study_names(storage)) == ["a", "b"]
        loaded = skipjack.load_study(study_name="a", storage=storage)
        assert len(loaded.trials) == 3
        with pytest.raises(ValueError, match="2 studies"):
            skipjack.load_study(study_name=None, storage=storage)
        skipjack.delete_study(study_name="a", storage=storage)
        assert skipjack.get_all_study_names(storage) == ["b"]
        assert skipjack.load_study(study_name=None, storage=storage).study_name == "b"
        with pytest.raises(KeyError):
            skipjack.load_study(study_name="a", storage=storage)

    def test_copy_study(self) -> None:
        src, dst = InMemoryStorage(), InMemoryStorage()
        s = skipjack.create_study(study_name="s", storage=src, direction="maximize")
        s.set_user_attr("owner", "me")
        s.optimize(quadratic, n_trials=5)
        skipjack.copy_study(
            from_study_name="s", from_storage=src, to_storage=dst, to_study_name="t"
        )
        t = skipjack.load_study(study_name="t", storage=dst)
        assert t.direction == StudyDirection.MAXIMIZE
        assert t.user_attrs == {"owner": "me"}
        assert [(x.params, x.values, x.state) for x in t.trials] == [
            (x.params, x.values, x.state) for x in s.trials
        ]

    def test_summaries(self) -> None:
        storage = InMemoryStorage()
        s = skipjack.create_study(study_name="s", storage=storage)
        s.optimize(quadratic, n_trials=4)
        (summary,) = skipjack.get_all_study_summaries(storage)
        assert summary.study_name == "s" and summary.n_trials == 4
        assert summary.best_trial is not None
        assert summary.best_trial.value == s.best_value


class TestBest:
    def test_best_for_each_direction(self) -> None:
        for direction, pick in (("minimize", min), ("maximize", max)):
            study = skipjack.create_study(direction=direction, sampler=RandomSampler(seed=1))
            study.optimize(quadratic, n_trials=20)
            values = [t.value for t in study.trials]
            assert study.best_value == pick(values)
            assert study.best_trial.value == study.best_value
            assert study.best_params == study.best_trial.params

    def test_best_trial_without_complete_trials_raises(self) -> None:
        study = skipjack.create_study()
        with pytest.raises(ValueError):
            _ = study.best_trial

    def test_best_trial_only_feasible_under_constraints(self) -> None:
        study = skipjack.create_study()
        dist = {"x": FloatDistribution(0, 10)}
        study.add_trial(create_trial(params={"x": 1}, distributions=dist, value=1.0,
                                     constraints={"c": 1.0}))
        study.add_trial(create_trial(params={"x": 2}, distributions=dist, value=2.0,
                                     constraints={"c": -1.0}))
        assert study.best_trial.value == 2.0
        study2 = skipjack.create_study()
        study2.add_trial(create_trial(params={"x": 1}, distributions=dist, value=1.0,
                                      constraints={"c": 1.0}))
        with pytest.raises(ValueError, match="feasible"):
            _ = study2.best_trial

    def test_best_trials_pareto_front(self) -> None:
        study = skipjack.create_study(directions=["minimize", "minimize"])
        for v in ([1, 4], [2, 2], [4, 1], [3, 3], [2, 5]):
            study.add_trial(create_trial(values=v))
        front = sorted(t.values for t in study.best_trials)
        assert front == [[1, 4], [2, 2], [4, 1]]
        with pytest.raises(RuntimeError):
            _ = study.best_trial

    def test_best_trial_is_a_copy(self) -> None:
        study = skipjack.create_study()
        study.optimize(quadratic, n_trials=3)
        best = study.best_trial
        best.params["x"] = 1e9
        assert study.best_trial.params["x"] != 1e9


class TestAskTell:
    def test_ask_tell_roundtrip(self) -> None:
        study = skipjack.create_study()
        trial = study.ask()
        x = trial.suggest_float("x", 0, 1)
        frozen = study.tell(trial, x * 2)
        assert isinstance(frozen, FrozenTrial)
        assert frozen.state == TrialState.COMPLETE and frozen.value == x * 2
        assert study.trials[0].value == x * 2

    def test_ask_with_fixed_distributions(self) -> None:
        study = skipjack.create_study()
        dists = {
            "opt": CategoricalDistribution(["adam", "sgd"]),
            "lr": FloatDistribution(1e-4, 1e-1, log=True),
        }
        trial = study.ask(fixed_distributions=dists)
        assert set(trial.params) == {"opt", "lr"}

    def test_tell_by_number_by_frozen_trial_and_states(self) -> None:
        study = skipjack.create_study()
        _t0, t1, t2 = study.ask(), study.ask(), study.ask()
        study.tell(0, 1.0)
        t1.report(0.3, 2)
        frozen1 = study._storage.get_trial(t1._trial_id)
        assert study.tell(frozen1, state=TrialState.PRUNED).value == 0.3
        assert study.tell(t2, state=TrialState.FAIL).values is None
        assert [t.state for t in study.trials] == [
            TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL,
        ]

    def test_tell_errors(self) -> None:
        study = skipjack.create_study()
        trial = study.ask()
        with pytest.raises(ValueError, match="required"):
            study.tell(trial, state=TrialState.COMPLETE)
        with pytest.raises(ValueError, match="None"):
            study.tell(trial, 1.0, state=TrialState.FAIL)
        with pytest.raises(ValueError):
            study.tell(trial, 1.0, state=TrialState.RUNNING)
        with pytest.raises(ValueError, match="no trial number 99"):
            study.tell(99, 1.0)
        with pytest.raises(TypeError):
            study.tell("0", 1.0)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="not acceptable"):
            study.tell(trial, float("nan"), state=TrialState.COMPLETE)
        study.tell(trial, 1.0)
        with pytest.raises(ValueError, match="COMPLETE"):
            study.tell(trial, 2.0)
        assert study.tell(trial, 2.0, skip_if_finished=True).value == 1.0

    def test_tell_invalid_values_without_state_fails_with_warning(self) -> None:
        study = skipjack.create_study()
        for bad in (float("nan"), "abc", None, [1.0, 2.0]):
            trial = study.ask()
            with pytest.warns(UserWarning):
                frozen = study.tell(trial, bad)
            assert frozen.state == TrialState.FAIL and frozen.values is None

    def test_tell_multi_objective(self) -> None:
        study = skipjack.create_study(directions=["minimize", "maximize"])
        trial = study.ask()
        assert study.tell(trial, [1.0, 2.0]).values == [1.0, 2.0]


class TestEnqueueAndAdd:
    def test_enqueued_trials_run_first_in_order(self) -> None:
        study = skipjack.create_study()
        study.enqueue_trial({"x": 1.0})
        study.enqueue_trial({"x": 2.0}, user_attrs={"src": "manual"})
        study.optimize(quadratic, n_trials=3)
        xs = [t.params["x"] for t in study.trials]
        assert xs[:2] == [1.0, 2.0]
        assert study.trials[1].user_attrs == {"src": "manual"}

    def test_skip_if_exists(self) -> None:
        study = skipjack.create_study()
        study.enqueue_trial({"x": 1.0})
        study.enqueue_trial({"x": 1.0}, skip_if_exists=True)
        study.enqueue_trial({"x": 1}, skip_if_exists=True)  # 1 == 1.0 numerically
        study.enqueue_trial({"x": 3.0}, skip_if_exists=True)
        assert len(study.trials) == 2

    def test_enqueue_requires_dict(self) -> None:
        with pytest.raises(TypeError, match="dict"):
            skipjack.create_study().enqueue_trial([("x", 1.0)])  # type: ignore[arg-type]

    def test_seed_reenqueue_recipe(self) -> None:
        # Mark a stuck RUNNING trial FAIL by passing the FrozenTrial, then re-enqueue its params.
        study = skipjack.create_study()
        trial = study.ask()
        trial.suggest_float("x", 0, 1)
        for t in study.trials:
            if t.state == TrialState.RUNNING:
                study.tell(t, state=TrialState.FAIL)
                study.enqueue_trial(t.params)
        study.optimize(quadratic, n_trials=1)
        assert study.trials[0].state == TrialState.FAIL
        assert study.trials[1].params == study.trials[0].params

    def test_add_trial_and_add_trials(self) -> None:
        study = skipjack.create_study()
        dist = {"x": FloatDistribution(-10, 10)}
        study.add_trials(
            [create_trial(params={"x": float(i)}, distributions=dist, value=float(i))
             for i in range(3)]
        )
        study.add_trial(create_trial(state=TrialState.FAIL))
        assert [t.number for t in study.trials] == [0, 1, 2, 3]
        assert study.best_value == 0.0
        with pytest.raises(ValueError, match="objectives"):
            study.add_trial(create_trial(values=[1.0, 2.0]))


class TestAttributes:
    def test_user_attrs_and_metric_names(self) -> None:
        study = skipjack.create_study(directions=["minimize", "maximize"])
        study.set_user_attr("k", [1, 2])
        assert study.user_attrs == {"k": [1, 2]}
        assert study.metric_names is None
        study.set_metric_names(["loss", "acc"])
        assert study.metric_names == ["loss", "acc"]
        with pytest.raises(ValueError, match="one name per objective"):
            study.set_metric_names(["loss"])

    def test_get_trials_states_and_deepcopy(self) -> None:
        study = skipjack.create_study()
        study.optimize(quadratic, n_trials=3)
        study.ask()
        assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 3
        assert len(study.get_trials(states=(TrialState.RUNNING,))) == 1
        copies = study.get_trials(deepcopy=True)
        copies[0].params["x"] = 99.0
        assert study.trials[0].params["x"] != 99.0

    def test_pickle_roundtrip_resumes(self, tmp_path: Any) -> None:
        study = skipjack.create_study(sampler=RandomSampler(seed=3))
        study.optimize(quadratic, n_trials=5)
        path = tmp_path / "study.pkl"
        path.write_bytes(pickle.dumps(study))
        resumed = pickle.loads(path.read_bytes())
        assert resumed.best_value == study.best_value
        resumed.optimize(quadratic, n_trials=5)
        assert len(resumed.trials) == 10
        assert copy.copy(study).study_name == study.study_name

    def test_trials_dataframe_delegates(self) -> None:
        pytest.importorskip("pandas")
        study = skipjack.create_study()
        study.optimize(quadratic, n_trials=3)
        df = study.trials_dataframe()
        assert list(df["number"]) == [0, 1, 2]
        assert "params_x" in df.columns

    def test_storage_threads_share_one_study(self) -> None:
        study = skipjack.create_study()
        threads = [threading.Thread(target=study.optimize, args=(quadratic, 10))
                   for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(t.number for t in study.trials) == list(range(40))


def test_third_party_sampler_duck_typed() -> None:
    class Constant:
        def infer_relative_search_space(self, study: Any, trial: Any) -> dict:
            return {}

        def sample_relative(self, study: Any, trial: Any, space: Any) -> dict:
            return {}

        def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
            return 0.5

        def before_trial(self, study: Any, trial: Any) -> None:
            pass

        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            pass

        def reseed_rng(self) -> None:
            pass

    study = skipjack.create_study(sampler=Constant())  # type: ignore[arg-type]
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    assert [t.params["x"] for t in study.trials] == [0.5, 0.5]


def test_private_get_trials_used_by_third_party_samplers() -> None:
    study = skipjack.create_study()
    study.optimize(quadratic, n_trials=3)
    study.ask()
    complete = study._get_trials(deepcopy=False, states=(TrialState.COMPLETE,), use_cache=True)
    assert [t.number for t in complete] == [0, 1, 2]
    assert len(study._get_trials()) == 4

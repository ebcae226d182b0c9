from __future__ import annotations

import pytest

import skipjack
from skipjack.ablation import ablation_report
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import IntDistribution
from skipjack.trial import TrialState
from skipjack.trial import create_trial

OPT = CategoricalDistribution(["adam", "sgd"])
LR = IntDistribution(1, 2)


def _study(direction: str = "minimize") -> skipjack.Study:
    study = skipjack.create_study(direction=direction, study_name="abl")
    # opt: adam -> 1, 3 ; sgd -> 5, 7   lr: 1 -> 1, 5 ; 2 -> 3, 7
    for opt, lr, value in [("adam", 1, 1.0), ("adam", 2, 3.0), ("sgd", 1, 5.0), ("sgd", 2, 7.0)]:
        study.add_trial(
            create_trial(
                params={"opt": opt, "lr": lr},
                distributions={"opt": OPT, "lr": LR},
                value=value,
            )
        )
    study.add_trial(
        create_trial(
            params={"opt": "adam", "lr": 1},
            distributions={"opt": OPT, "lr": LR},
            state=TrialState.FAIL,
        )
    )
    return study


def test_levels_effect_size_and_eta_squared() -> None:
    report = ablation_report(_study())
    assert report.n_trials == 4
    assert report.best_value == 1.0
    assert report.best_params == {"opt": "adam", "lr": 1}
    opt = report.factor("opt")
    assert [(lv.value, lv.count, lv.mean, lv.best) for lv in opt.levels] == [
        ("adam", 2, 2.0, 1.0),
        ("sgd", 2, 6.0, 5.0),
    ]
    assert opt.effect_size == pytest.approx(4.0)
    # grand mean 4; SS_total = 9+1+1+9 = 20; SS_between(opt) = 2*4 + 2*4 = 16
    assert opt.eta_squared == pytest.approx(16 / 20)
    lr = report.factor("lr")
    assert lr.effect_size == pytest.approx(2.0)
    assert lr.eta_squared == pytest.approx(4 / 20)
    with pytest.raises(KeyError):
        report.factor("nope")


def test_best_follows_direction() -> None:
    report = ablation_report(_study("maximize"))
    assert report.best_value == 7.0
    assert [lv.best for lv in report.factor("opt").levels] == [3.0, 7.0]


def test_conditional_factor_uses_only_trials_that_have_it() -> None:
    study = skipjack.create_study()
    study.add_trial(create_trial(params={"opt": "adam"}, distributions={"opt": OPT}, value=1.0))
    study.add_trial(
        create_trial(
            params={"opt": "sgd", "lr": 2}, distributions={"opt": OPT, "lr": LR}, value=3.0
        )
    )
    lr = ablation_report(study).factor("lr")
    assert lr.n_trials == 1 and lr.eta_squared == 0.0 and lr.effect_size == 0.0


def test_table_lists_every_factor_and_level() -> None:
    text = str(ablation_report(_study()))
    assert "'abl'" in text
    for token in ("opt", "lr", "'adam'", "'sgd'", "effect size", "eta^2"):
        assert token in text


def test_multi_objective_needs_target() -> None:
    study = skipjack.create_study(directions=["minimize", "minimize"])
    with pytest.raises(ValueError, match="target"):
        ablation_report(study)
    report = ablation_report(study, target=lambda t: t.value or 0.0)
    assert report.n_trials == 0 and report.factors == []

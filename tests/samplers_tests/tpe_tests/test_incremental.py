"""The bad estimator kept across suggestions must be the estimator built afresh, kernel for
kernel, whatever sequence of additions and removals reaches its set of observations."""

from __future__ import annotations

import numpy as np
import pytest

import skipjack
from skipjack.distributions import BaseDistribution
from skipjack.distributions import CategoricalDistribution
from skipjack.distributions import FloatDistribution
from skipjack.distributions import IntDistribution
from skipjack.samplers._tpe import _sampler
from skipjack.samplers._tpe._blas import matmul_on_this_thread
from skipjack.samplers._tpe._incremental import IncrementalMixture
from skipjack.samplers._tpe._parzen_estimator import _ParzenEstimator

SPACE: dict[str, BaseDistribution] = {
    "x": FloatDistribution(-3.0, 5.0),
    "lr": FloatDistribution(1e-4, 1.0, log=True),
    "depth": IntDistribution(1, 12),
    "units": IntDistribution(8, 128, step=8),
    "width": IntDistribution(2, 64, log=True),
    "act": CategoricalDistribution(["a", "b", "c"]),
}


def _history(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Internal values of ``n`` trials; grid values repeat, so sorted orders have ties."""
    return {
        "x": np.round(rng.uniform(-3.0, 5.0, n), 1),  # ties on a float parameter too
        "lr": np.exp(rng.uniform(np.log(1e-4), 0.0, n)),
        "depth": rng.integers(1, 13, n).astype(float),
        "units": 8.0 * rng.integers(1, 17, n),
        "width": rng.integers(2, 65, n).astype(float),
        "act": rng.integers(0, 3, n).astype(float),
    }


def _points(rng: np.random.Generator, space: dict[str, BaseDistribution]) -> dict:
    return {name: _history(rng, 40)[name] for name in space}


def _at(observations: dict[str, np.ndarray]):  # type: ignore[no-untyped-def]
    """The ``values`` callable of ``IncrementalMixture.update`` over gathered columns."""
    return lambda at: {name: column[at] for name, column in observations.items()}


def _weights(n: int) -> np.ndarray:
    return np.linspace(0.2, 1.0, n) if n else np.zeros(0)


@pytest.mark.parametrize(
    "names",
    [list(SPACE), ["x", "lr"], ["depth", "units", "act"], ["x", "act"], ["width", "lr"]],
)
@pytest.mark.parametrize("consider_endpoints", [False, True])
def test_matches_a_fresh_estimator_through_additions_and_removals(
    names: list[str], consider_endpoints: bool
) -> None:
    space = {name: SPACE[name] for name in names}
    rng = np.random.default_rng(len(names) + 10 * consider_endpoints)
    values = _history(rng, 700)
    mixture = IncrementalMixture(space, 1.0, consider_endpoints)
    members = np.sort(rng.choice(700, 300, replace=False))
    for step in range(40):
        if step == 25:  # a large change: rebuilt
            members = np.sort(rng.choice(700, 350, replace=False))
        else:
            outside = np.setdiff1d(np.arange(700), members)
            added = rng.choice(outside, rng.integers(0, 4), replace=False)
            removed = rng.choice(members, rng.integers(0, 3) if step % 3 == 0 else 0)
            members = np.sort(np.setdiff1d(np.union1d(members, added), removed))
        observations = {name: values[name][members] for name in space}
        weights = _weights(len(members))
        mixture.update(members, _at(observations), weights)
        fresh = _ParzenEstimator(
            observations, space, weights, prior_weight=1.0, consider_endpoints=consider_endpoints
        )
        points = _points(rng, space)
        np.testing.assert_allclose(
            mixture.log_pdf(points), fresh.log_pdf(points), rtol=0, atol=2e-5
        )


def test_new_rows_between_old_ones_take_their_trial_order_among_ties() -> None:
    # All observations tie on the grid, so which kernel gets which bandwidth depends on the
    # order of ties, which is the trial order; the weights tell the kernels apart.
    space = {"depth": IntDistribution(1, 12), "x": FloatDistribution(0.0, 1.0)}
    mixture = IncrementalMixture(space, 1.0, False)
    rows = np.arange(0, 600, 2)  # even rows first, odd rows slip in between later
    depth = np.where(np.arange(600) % 5 == 0, 3.0, 7.0)
    x = np.linspace(0.0, 1.0, 600)
    points = {"depth": np.array([3.0, 7.0, 5.0]), "x": np.array([0.1, 0.5, 0.9])}
    for extra in range(1, 30, 2):
        rows = np.sort(np.append(rows, extra))
        weights = np.linspace(0.01, 1.0, len(rows))
        observations = {"depth": depth[rows], "x": x[rows]}
        mixture.update(rows, _at(observations), weights)
        fresh = _ParzenEstimator(observations, space, weights)
        np.testing.assert_allclose(
            mixture.log_pdf(points), fresh.log_pdf(points), rtol=0, atol=2e-5
        )


def test_what_it_cannot_model() -> None:
    assert IncrementalMixture.supports(SPACE, True, 1.0)
    assert not IncrementalMixture.supports(SPACE, False, 1.0)
    assert not IncrementalMixture.supports(SPACE, True, 0.0)  # categorical with no prior
    assert IncrementalMixture.supports({"x": SPACE["x"]}, True, 0.0)
    fine_grid = {"n": IntDistribution(0, 10_000)}  # too many cells to tabulate
    assert not IncrementalMixture.supports(fine_grid, True, 1.0)


@pytest.mark.parametrize("others_running", [False, True])
def test_sampler_suggests_the_same_with_and_without_it(
    monkeypatch: pytest.MonkeyPatch, others_running: bool
) -> None:
    """With ``others_running``, other workers' trials stay RUNNING for a while (so the constant
    liar mixes their values into the bad set), then finish and keep their kernels."""

    def suggest(trial: skipjack.Trial) -> tuple[float, int, str]:
        x = trial.suggest_float("x", -5.0, 5.0)
        n = trial.suggest_int("n", 1, 20)
        kind = trial.suggest_categorical("kind", ["p", "q"])
        return x, n, kind

    def objective(trial: skipjack.Trial) -> float:
        x, n, kind = suggest(trial)
        return (x - 1.0) ** 2 + abs(n - 7) + (kind == "q")

    def run() -> list[dict]:
        study = skipjack.create_study(sampler=skipjack.samplers.TPESampler(seed=3))
        if not others_running:
            study.optimize(objective, n_trials=320)
            return [t.params for t in study.trials]
        study.optimize(objective, n_trials=20)
        for _ in range(3):
            other = study.ask()
            objective(other)
            late = study.ask()
            objective(late)
            study.optimize(objective, n_trials=110)
            study.tell(other, 3.0)  # finishes in the bad set
            study.tell(late, skipjack.trial.TrialState.FAIL)  # leaves the observations
        return [t.params for t in study.trials]

    used: list[bool] = []
    original = _sampler.TPESampler._incremental

    def spy(self: _sampler.TPESampler, space: dict, n_observations: int) -> bool:
        used.append(original(self, space, n_observations))
        return used[-1]

    monkeypatch.setattr(_sampler.TPESampler, "_incremental", spy)
    kept = run()
    assert any(used)  # the last trials ran with the kept estimator
    monkeypatch.setattr(_sampler.TPESampler, "_incremental", lambda *args: False)
    assert run() == kept


def test_rows_leaving_and_coming_back_many_times() -> None:
    # As in multi-objective studies, where trials move between the good and the bad set:
    # removed kernels are retired in place until a rebuild compacts them.
    space = {name: SPACE[name] for name in ("x", "units", "act")}
    rng = np.random.default_rng(7)
    values = _history(rng, 400)
    mixture = IncrementalMixture(space, 1.0, False)
    base = np.arange(0, 400, 2)
    wandering = np.arange(1, 400, 2)[:40]
    points = _points(rng, space)
    for step in range(120):
        members = np.sort(np.concatenate([base, rng.choice(wandering, 20, replace=False)]))
        if step % 7 == 0:  # now and then only one of them changes
            members = np.sort(np.concatenate([base, wandering[:20]]))
        observations = {name: values[name][members] for name in space}
        weights = _weights(len(members))
        mixture.update(members, _at(observations), weights)
        if step % 5 == 0:
            fresh = _ParzenEstimator(observations, space, weights)
            np.testing.assert_allclose(
                mixture.log_pdf(points), fresh.log_pdf(points), rtol=0, atol=2e-5
            )


def test_good_model_is_reused_only_while_its_inputs_are_unchanged() -> None:
    sampler = skipjack.samplers.TPESampler(seed=0)
    history = object()
    space = {"x": SPACE["x"]}
    options = {"prior_weight": 1.0, "consider_magic_clip": True, "consider_endpoints": False}
    rows = np.array([3, 5, 8])
    observations = {"x": np.array([0.5, 1.0, 2.0])}
    weights = np.ones(3)

    def model(
        history: object,
        space: dict,
        rows: np.ndarray,
        observed: dict,
        weights: np.ndarray,
        evaluator: bool = True,
    ) -> tuple:
        return sampler._good_model(
            history,
            space,
            rows,
            lambda: observed,
            weights,
            options,
            evaluator,  # type: ignore[arg-type]
        )

    first, none_yet = model(history, space, rows, observations, weights)
    assert none_yet is None  # made for an estimator used a third time only
    again, still_none = model(history, space, rows.copy(), observations, weights)
    assert again is first
    assert still_none is None
    third, first_mixture = model(history, space, rows, observations, weights)
    assert third is first
    assert first_mixture is not None
    assert model(history, space, rows, observations, weights)[1] is first_mixture
    points = {"x": np.array([0.7, 1.9, -2.0])}
    np.testing.assert_allclose(first_mixture.log_pdf(points), first.log_pdf(points), atol=1e-9)
    assert model(history, space, rows, observations, weights, evaluator=False)[1] is None
    moved = np.array([3, 5, 9])
    other_rows = model(history, space, moved, observations, weights)[0]
    assert other_rows is not first
    other_weights = model(history, space, moved, observations, np.full(3, 0.5))[0]
    assert other_weights is not other_rows
    other_history = model(object(), space, moved, observations, np.full(3, 0.5))[0]
    assert other_history is not other_weights


@pytest.mark.parametrize("shape", [(24, 8, 5000), (24, 41, 3000), (3, 2, 10), (24, 8, 1)])
def test_matrix_product_in_blocks_equals_numpys(shape: tuple[int, int, int]) -> None:
    m, inner, n = shape
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal((m, inner)), rng.standard_normal((inner, n + 7))[:, :n]
    out = np.empty((m, n))
    assert matmul_on_this_thread(a, b, out) is out
    np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)

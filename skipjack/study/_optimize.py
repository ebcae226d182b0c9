"""The optimize loop: run trials one after another, or in threads, until told to stop."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait
import copy
import gc
import os
import sys
import time
from typing import TYPE_CHECKING
from typing import Any
import warnings

from skipjack import logging as _logging
from skipjack.exceptions import _is_trial_pruned
from skipjack.study._progress import ProgressBar
from skipjack.study._tell import tell_with_warning
from skipjack.trial._frozen import FrozenTrial
from skipjack.trial._state import TrialState

if TYPE_CHECKING:
    from skipjack.study.study import ObjectiveFuncType
    from skipjack.study.study import Study

_logger = _logging.get_logger(__name__)
Callback = Callable[["Study", FrozenTrial], None]


def _check_arguments(
    n_trials: Any, timeout: Any, n_jobs: Any, catch: Any
) -> tuple[type[BaseException], ...]:
    if n_trials is not None and (
        isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 0
    ):
        raise ValueError(
            f"optimize: n_trials must be a non-negative int or None, got {n_trials!r}."
        )
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
            timeout >= 0
        ):
            raise ValueError(
                f"optimize: timeout must be a non-negative number of seconds or None, "
                f"got {timeout!r}."
            )
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or (n_jobs < 1 and n_jobs != -1):
        raise ValueError(f"optimize: n_jobs must be a positive int or -1, got {n_jobs!r}.")
    if isinstance(catch, type) and issubclass(catch, BaseException):
        return (catch,)
    try:
        caught = tuple(catch)
    except TypeError:
        raise TypeError(
            f"optimize: catch must be an exception class or a tuple of them, got {catch!r}."
        ) from None
    for c in caught:
        if not (isinstance(c, type) and issubclass(c, BaseException)):
            raise TypeError(f"optimize: catch must hold exception classes, got {c!r}.")
    return caught


def optimize(
    study: Study,
    func: ObjectiveFuncType,
    n_trials: int | None = None,
    timeout: float | None = None,
    n_jobs: int = 1,
    catch: Iterable[type[Exception]] | type[Exception] = (),
    callbacks: Iterable[Callback] | None = None,
    gc_after_trial: bool = False,
    show_progress_bar: bool = False,
) -> None:
    """Implementation of :meth:`Study.optimize`; see there."""
    caught = _check_arguments(n_trials, timeout, n_jobs, catch)
    if not callable(func):
        raise TypeError(f"optimize: func must be callable, got {func!r}.")
    callbacks = list(callbacks) if callbacks is not None else []
    if getattr(study._thread_local, "in_optimize_loop", False):
        raise RuntimeError("Nested invocation of `Study.optimize` method isn't allowed.")
    if show_progress_bar and n_trials is None and timeout is not None and n_jobs != 1:
        warnings.warn(
            "The timeout-based progress bar is not supported with n_jobs != 1.",
            UserWarning,
            stacklevel=2,
        )
        show_progress_bar = False
    progress = ProgressBar(show_progress_bar, n_trials, timeout)
    study._stop_flag = False
    start = time.monotonic()
    try:
        if n_jobs == 1:
            _run_sequential(
                study, func, n_trials, timeout, caught, callbacks, gc_after_trial, start, progress
            )
        else:
            workers = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
            _run_threads(
                study, func, n_trials, timeout, caught, callbacks, gc_after_trial, start,
                progress, workers,
            )
    finally:
        study._thread_local.in_optimize_loop = False
        progress.close()


def _run_threads(
    study: Study,
    func: ObjectiveFuncType,
    n_trials: int | None,
    timeout: float | None,
    caught: tuple[type[BaseException], ...],
    callbacks: list[Callback],
    gc_after_trial: bool,
    start: float,
    progress: ProgressBar,
    workers: int,
) -> None:
    futures: set[Future[None]] = set()
    submitted = 0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        while not study._stop_flag:
            if timeout is not None and time.monotonic() - start >= timeout:
                break
            if n_trials is not None and submitted >= n_trials:
                break
            if len(futures) >= workers:
                done, futures = wait(futures, return_when=FIRST_COMPLETED)
                for f in done:
                    f.result()
            futures.add(
                pool.submit(
                    _run_sequential,
                    study, func, 1, timeout, caught, callbacks, gc_after_trial, start, progress,
                    True,
                )
            )
            submitted += 1
        for f in futures:
            f.result()


def _run_sequential(
    study: Study,
    func: ObjectiveFuncType,
    n_trials: int | None,
    timeout: float | None,
    caught: tuple[type[BaseException], ...],
    callbacks: list[Callback],
    gc_after_trial: bool,
    start: float,
    progress: ProgressBar,
    reseed: bool = False,
) -> None:
    study._thread_local.in_optimize_loop = True
    if reseed:
        study.sampler.reseed_rng()
    done = 0
    while not study._stop_flag:
        if n_trials is not None and done >= n_trials:
            break
        if timeout is not None and time.monotonic() - start >= timeout:
            break
        done += 1
        try:
            frozen = run_trial(study, func, caught)
        finally:
            if gc_after_trial:
                gc.collect()
        for callback in callbacks:
            callback(study, copy.deepcopy(frozen))
        if progress.enabled:
            progress.update(time.monotonic() - start, study)
    study._storage.remove_session()


def run_trial(
    study: Study,
    func: ObjectiveFuncType,
    caught: tuple[type[BaseException], ...],
) -> FrozenTrial:
    """Ask for a trial, evaluate ``func`` on it, tell the outcome, log it; return the trial.

    An exception from ``func`` FAILs the trial and is re-raised unless its type is in
    ``caught``; ``TrialPruned`` (skipjack's or Optuna's) PRUNEs it; Ctrl-C FAILs it and
    propagates.
    """
    # Stale trials of dead workers are failed by the heartbeat thread that ``ask`` starts (at
    # once, then every interval), under a claim so that one worker retries each.
    trial = study.ask()
    state: TrialState | None = None
    returned: Any = None
    error: BaseException | None = None
    exc_info: Any = None
    try:
        returned = func(trial)
    except (Exception, KeyboardInterrupt) as e:
        if _is_trial_pruned(e):
            state = TrialState.PRUNED
        else:
            state = TrialState.FAIL
            exc_info = sys.exc_info()
        error = e
    try:
        frozen, problem = tell_with_warning(
            study, trial, returned, state, suppress_warning=True
        )
    except Exception:
        study._stop_heartbeat(trial._trial_id)
        raise
    _log_outcome(study, frozen, error, problem, exc_info, returned)
    if frozen.state == TrialState.FAIL and error is not None and not isinstance(error, caught):
        raise error
    return frozen


def _log_outcome(
    study: Study,
    frozen: FrozenTrial,
    error: BaseException | None,
    problem: str | None,
    exc_info: Any,
    returned: Any,
) -> None:
    if frozen.state == TrialState.COMPLETE:
        assert frozen.values is not None
        study._log_completed_trial(frozen.values, frozen.number, frozen.params)
    elif frozen.state == TrialState.PRUNED:
        _logger.info(f"Trial {frozen.number} pruned. {error}")
    elif frozen.state == TrialState.FAIL:
        reason = repr(error) if error is not None else problem
        _logger.warning(
            f"Trial {frozen.number} failed with parameters: {frozen.params} because of the "
            f"following error: {reason}.",
            exc_info=exc_info,
        )
        _logger.warning(f"Trial {frozen.number} failed with value {returned!r}.")

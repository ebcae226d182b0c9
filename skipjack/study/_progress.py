"""A tqdm progress bar for ``Study.optimize(show_progress_bar=True)``; tqdm loads only then."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from skipjack.study.study import Study


class ProgressBar:
    """Counts finished trials (or elapsed seconds when only a timeout is set) and shows the
    best value so far. Does nothing when ``enabled`` is False."""

    def __init__(self, enabled: bool, n_trials: int | None, timeout: float | None) -> None:
        self._bar: Any = None
        self._by_time = n_trials is None and timeout is not None
        self._timeout = timeout
        self._lock = threading.Lock()
        if not enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            raise ImportError(
                "show_progress_bar=True needs tqdm: pip install tqdm (or skipjack[progress])."
            ) from None
        if self._by_time:
            self._bar = tqdm(total=timeout, bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s")
        else:
            self._bar = tqdm(total=n_trials)

    @property
    def enabled(self) -> bool:
        """Whether a bar is shown."""
        return self._bar is not None

    def update(self, elapsed_seconds: float, study: Study) -> None:
        """Advance by one trial (or to ``elapsed_seconds``) and show the best value."""
        if self._bar is None:
            return
        with self._lock:
            if self._by_time:
                assert self._timeout is not None
                self._bar.update(min(elapsed_seconds, self._timeout) - self._bar.n)
            else:
                self._bar.update(1)
            if len(study.directions) == 1:
                try:
                    best = study._get_best_trial()
                    self._bar.set_description(
                        f"Best trial: {best.number}. Best value: {best.value:.6g}"
                    )
                except ValueError:
                    pass

    def close(self) -> None:
        """Close the bar (no-op when disabled)."""
        if self._bar is not None:
            self._bar.close()

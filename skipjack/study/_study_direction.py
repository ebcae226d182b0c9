"""Whether a study minimizes or maximizes an objective."""

from __future__ import annotations

import enum

__all__ = ["StudyDirection"]


class StudyDirection(enum.IntEnum):
    """Direction of one objective; the integer values are Optuna's and are stored as is."""

    NOT_SET = 0
    MINIMIZE = 1
    MAXIMIZE = 2

    __str__ = enum.Enum.__str__

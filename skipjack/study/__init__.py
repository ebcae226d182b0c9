"""Studies: creating, loading and running optimization tasks."""

from skipjack.study import study
from skipjack.study._callbacks import MaxTrialsCallback
from skipjack.study._create import copy_study
from skipjack.study._create import create_study
from skipjack.study._create import delete_study
from skipjack.study._create import get_all_study_names
from skipjack.study._create import get_all_study_summaries
from skipjack.study._create import load_study
from skipjack.study._study_direction import StudyDirection
from skipjack.study._study_summary import StudySummary
from skipjack.study.study import Study

__all__ = [
    "MaxTrialsCallback",
    "Study",
    "StudyDirection",
    "StudySummary",
    "copy_study",
    "create_study",
    "delete_study",
    "get_all_study_names",
    "get_all_study_summaries",
    "load_study",
    "study",
]

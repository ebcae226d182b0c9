"""skipjack: hyperparameter optimization with Optuna's API.

``import skipjack as optuna`` runs ordinary Optuna scripts: define-by-run search spaces with
``trial.suggest_*``, studies with one or many objectives, samplers, pruners and storages.
"""

from skipjack import distributions
from skipjack import exceptions
from skipjack import logging
from skipjack import pruners
from skipjack import samplers
from skipjack import search_space
from skipjack import storages
from skipjack import study
from skipjack import trial
from skipjack import version
from skipjack.exceptions import TrialPruned
from skipjack.study import Study
from skipjack.study import copy_study
from skipjack.study import create_study
from skipjack.study import delete_study
from skipjack.study import get_all_study_names
from skipjack.study import get_all_study_summaries
from skipjack.study import load_study
from skipjack.trial import Trial
from skipjack.trial import create_trial
from skipjack.version import __version__

__all__ = [
    "Study",
    "Trial",
    "TrialPruned",
    "__version__",
    "copy_study",
    "create_study",
    "create_trial",
    "delete_study",
    "distributions",
    "exceptions",
    "get_all_study_names",
    "get_all_study_summaries",
    "load_study",
    "logging",
    "pruners",
    "samplers",
    "search_space",
    "storages",
    "study",
    "trial",
    "version",
]

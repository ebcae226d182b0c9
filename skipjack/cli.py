"""The ``skipjack`` command line.

Subcommands::

    skipjack studies --storage URL                         list studies
    skipjack ablation --storage URL --study-name NAME      print an ablation report
    skipjack storage upgrade --storage URL                 upgrade an RDB schema

``URL`` is a database URL (``sqlite:///x.db``, ``postgresql://...``) or a journal file given as
``journal:PATH`` or any path ending in ``.log``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from skipjack.storages import BaseStorage

__all__ = ["main"]


def _storage(url: str) -> BaseStorage:
    from skipjack.storages import JournalStorage
    from skipjack.storages import get_storage
    from skipjack.storages.journal import JournalFileBackend

    if url.startswith("journal:"):
        return JournalStorage(JournalFileBackend(url[len("journal:") :]))
    if url.endswith(".log") and "://" not in url:
        return JournalStorage(JournalFileBackend(url))
    return get_storage(url)


def _cmd_studies(args: argparse.Namespace) -> int:
    from skipjack.study import get_all_study_summaries

    summaries = get_all_study_summaries(_storage(args.storage), include_best_trial=False)
    print(f"{'name':<30}  {'direction':<12}  {'trials':>6}")
    for s in summaries:
        directions = ",".join(d.name.lower() for d in s.directions)
        print(f"{s.study_name:<30}  {directions:<12}  {s.n_trials:>6}")
    return 0


def _cmd_ablation(args: argparse.Namespace) -> int:
    from skipjack.ablation import ablation_report
    from skipjack.study import load_study

    study = load_study(study_name=args.study_name, storage=_storage(args.storage))
    print(ablation_report(study))
    return 0


def _cmd_storage_upgrade(args: argparse.Namespace) -> int:
    storage = _storage(args.storage)
    upgrade = getattr(storage, "upgrade", None)
    if upgrade is None:
        print(f"{type(storage).__name__} has no schema to upgrade.", file=sys.stderr)
        return 1
    upgrade()
    print("Storage is up to date.")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skipjack", description="skipjack command line.")
    sub = parser.add_subparsers(dest="command", required=True)

    studies = sub.add_parser("studies", help="List the studies of a storage.")
    studies.add_argument("--storage", required=True, help="Storage URL.")
    studies.set_defaults(func=_cmd_studies)

    ablation = sub.add_parser("ablation", help="Print the ablation report of a study.")
    ablation.add_argument("--storage", required=True, help="Storage URL.")
    ablation.add_argument("--study-name", required=True, help="Name of the study.")
    ablation.set_defaults(func=_cmd_ablation)

    storage = sub.add_parser("storage", help="Storage maintenance.")
    storage_sub = storage.add_subparsers(dest="storage_command", required=True)
    upgrade = storage_sub.add_parser("upgrade", help="Upgrade an RDB schema to this version.")
    upgrade.add_argument("--storage", required=True, help="Storage URL.")
    upgrade.set_defaults(func=_cmd_storage_upgrade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (``sys.argv[1:]`` by default); return the exit code."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

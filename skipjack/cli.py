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
    from skipjack.storages import RDBStorage

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
    from skipjack.storages import RDBStorage

    url = args.storage
    if url.startswith("journal:") or (url.endswith(".log") and "://" not in url):
        print("A journal storage has no schema to upgrade.", file=sys.stderr)
        return 1
    # Open without the revision check (it refuses older schemas) and without creating the
    # newest tables first: the upgrade steps create and fill them in their own order.
    storage = RDBStorage(url, skip_compatibility_check=True, skip_table_creation=True)
    try:
        before = _revision_or_none(storage)
        head = storage.get_head_version()
        if before is not None and before != head:
            print(f"Upgrading the storage schema from {before} to {head}...")
        storage.upgrade()
    except RuntimeError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    finally:
        storage.remove_session()
    print(f"Storage is up to date (schema revision {head}).")
    return 0


def _revision_or_none(storage: RDBStorage) -> str | None:
    """The stamped revision, or None for a database without any schema yet."""
    import sqlalchemy

    if not sqlalchemy.inspect(storage.engine).has_table("alembic_version"):
        return None
    return storage.get_current_version()


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

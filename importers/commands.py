"""What every import command does around the writer: progress bar, report, exit status."""

import sys
from collections.abc import Iterable, Iterator

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from importers.core import Source, SourceError
from importers.writer import import_site


def add_import_arguments(parser) -> None:
    """The options every import command takes."""
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be imported, write nothing"
    )
    parser.add_argument(
        "--keep-pingbacks",
        action="store_true",
        help="import pingbacks and trackbacks as comments (default: skip and count them)",
    )


def run_import(command: BaseCommand, source: Source, *, dry_run: bool, **options) -> None:
    """Import `source`, print the report, and fail (non-zero exit) if any item failed."""

    def progress(items: Iterator, total: int) -> Iterable:
        shown = sys.stderr.isatty()
        return tqdm(items, total=total, unit="post", file=sys.stderr, disable=not shown)

    try:
        report = import_site(source, dry_run=dry_run, progress=progress, **options)
    except SourceError as error:
        raise CommandError(str(error)) from None
    heading = "Dry run: nothing was written. It would import:" if dry_run else "Imported:"
    command.stdout.write(heading)
    for line in report.lines():
        command.stdout.write(line)
    if report.failures:
        raise CommandError(f"{len(report.failures)} item(s) failed; see above.")

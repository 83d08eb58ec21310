from django.core.management.base import BaseCommand, CommandError

from importers.commands import add_import_arguments, run_import
from importers.core import SourceError
from importers.wxr import WXRSource


class Command(BaseCommand):
    help = (
        "Import a WordPress export (WXR 1.0–1.2): posts, pages, authors, categories, tags, "
        "comments, attachments' addresses and old addresses."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the .xml file from WordPress's Tools → Export")
        add_import_arguments(parser)

    def handle(self, *args, file: str, dry_run: bool, keep_pingbacks: bool, **options) -> None:
        try:
            site = WXRSource(file)
        except SourceError as error:
            raise CommandError(str(error)) from None
        run_import(self, site, dry_run=dry_run, keep_pingbacks=keep_pingbacks)

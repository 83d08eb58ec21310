from django.core.management.base import BaseCommand, CommandError

from importers.commands import add_import_arguments, run_import
from importers.core import SourceError
from importers.typecho import TypechoSource


class Command(BaseCommand):
    help = (
        "Import a Typecho site: posts, pages, drafts, categories, tags, users, comments, "
        "attachments and old addresses. SOURCE is a SQLite file or a mysql:// or postgres:// URL."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("source", help="Typecho's SQLite file, or mysql://… or postgres://…")
        parser.add_argument("--prefix", default="typecho_", help="table prefix (typecho_)")
        add_import_arguments(parser)

    def handle(self, *args, source: str, prefix: str, dry_run: bool, **options) -> None:
        try:
            site = TypechoSource(source, prefix=prefix)
        except SourceError as error:
            raise CommandError(str(error)) from None
        try:
            run_import(self, site, dry_run=dry_run, keep_pingbacks=options["keep_pingbacks"])
        finally:
            site.close()

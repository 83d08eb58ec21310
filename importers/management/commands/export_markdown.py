from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from importers.export import export_site


class Command(BaseCommand):
    help = (
        "Export every post and page as Markdown files with YAML front matter, their comments, "
        "the categories and the uploaded files into DIR, in the format import_markdown reads."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("dir", help="the folder to write (made if missing)")

    def handle(self, *args, dir: str, **options) -> None:
        target = Path(dir)
        if target.exists() and not target.is_dir():
            raise CommandError(f"{target} exists and is not a folder.")
        if target.is_dir() and any(target.glob("*.md")):
            raise CommandError(f"{target} already holds .md files: export into an empty folder.")
        try:
            counts = export_site(target)
        except OSError as error:
            raise CommandError(f"cannot write {target}: {error.strerror or error}") from None
        summary = ", ".join(f"{number} {label}" for label, number in counts.items())
        self.stdout.write(f"Exported {summary} to {target}.")

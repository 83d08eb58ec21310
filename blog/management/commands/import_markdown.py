from django.core.management.base import BaseCommand, CommandError

from blog.importing import (
    ImportFileError,
    find_markdown_files,
    parse_file,
    reset_post_id_sequence,
    save_post,
)
from blog.models import Post
from blog.services import sync_all_citations


class Command(BaseCommand):
    help = "Import posts from Markdown files (or folders of them) with YAML front matter."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", help="Markdown files or folders")

    def handle(self, *args, paths: list[str], **options) -> None:
        files = find_markdown_files(paths)
        if not files:
            raise CommandError("No Markdown files found.")
        failures: list[tuple[str, str]] = []
        seen_ids: dict[int, str] = {}
        created = updated = 0
        imported: list[Post] = []
        for number, path in enumerate(files, start=1):
            try:
                source = parse_file(path)
                if source.id is not None and source.id in seen_ids:
                    raise ImportFileError(f"id {source.id} is also used by {seen_ids[source.id]}")
                post, is_new = save_post(source)
            except ImportFileError as error:
                failures.append((str(path), str(error)))
            except Exception as error:  # noqa: BLE001 - one bad file must not stop the batch
                failures.append((str(path), f"{type(error).__name__}: {error}"))
            else:
                if source.id is not None:
                    seen_ids[source.id] = str(path)
                imported.append(post)
                created += is_new
                updated += not is_new
            self.progress(number, len(files))
        reset_post_id_sequence()
        # A link to a post imported later in the run finds its target only now.
        sync_all_citations(imported)
        for path, reason in failures:
            self.stderr.write(f"{path}: {reason}")
        self.stdout.write(f"Imported {created} new and {updated} updated posts.")
        if failures:
            raise CommandError(f"{len(failures)} of {len(files)} files failed.")

    def progress(self, done: int, total: int) -> None:
        if total < 2:
            return
        width = 30
        filled = width * done // total
        bar = "#" * filled + "." * (width - filled)
        ending = "\n" if done == total else "\r"
        self.stderr.write(f"[{bar}] {done}/{total}", ending=ending)
        self.stderr.flush()

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from blog.importing import (
    ImportFileError,
    find_markdown_files,
    parse_file,
    reset_post_id_sequence,
    save_post,
)
from blog.models import Post
from blog.services import sync_all_citations
from importers.markdown import import_categories, import_post_comments, import_uploads


class Command(BaseCommand):
    help = (
        "Import posts from Markdown files (or folders of them) with YAML front matter; a folder "
        "written by export_markdown also brings back its comments, categories and uploads."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="+", help="Markdown files or folders")

    def handle(self, *args, paths: list[str], **options) -> None:
        files = find_markdown_files(paths)
        if not files:
            raise CommandError("No Markdown files found.")
        failures: list[tuple[str, str]] = []
        for folder in {path.parent for path in files}:
            try:
                import_categories(folder)
                import_uploads(folder)
            except ImportFileError as error:
                failures.append((str(folder), str(error)))
        seen_ids: dict[int, str] = {}
        created = updated = comments = 0
        imported: list[Post] = []
        for number, path in enumerate(files, start=1):
            try:
                source = parse_file(path)
                if source.id is not None and source.id in seen_ids:
                    raise ImportFileError(f"id {source.id} is also used by {seen_ids[source.id]}")
                with transaction.atomic():  # a post and its comments, or neither
                    post, is_new = save_post(source)
                    report = import_post_comments(post, path)
            except ImportFileError as error:
                failures.append((str(path), str(error)))
            except Exception as error:  # noqa: BLE001 - one bad file must not stop the batch
                failures.append((str(path), f"{type(error).__name__}: {error}"))
            else:
                if source.id is not None:
                    seen_ids[source.id] = str(path)
                imported.append(post)
                if report is not None:
                    for item, reason in report.changes + report.failures:
                        self.stderr.write(f"{path}: {item}: {reason}")
                    comments += sum(
                        n for label, n in report.counts.items() if label.startswith("comments")
                    )
                created += is_new
                updated += not is_new
            self.progress(number, len(files))
        reset_post_id_sequence()
        # A link to a post imported later in the run finds its target only now.
        sync_all_citations(imported)
        for path, reason in failures:
            self.stderr.write(f"{path}: {reason}")
        self.stdout.write(
            f"Imported {created} new and {updated} updated posts, and {comments} comments."
        )
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

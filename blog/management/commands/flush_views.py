from django.conf import settings
from django.core.management.base import BaseCommand

from blog.counting import journal
from blog.counting.buffer import flush_buffered_views


class Command(BaseCommand):
    help = (
        "Move the reads journaled on this machine, and with SPACES_VIEW_BUFFER=1 those buffered "
        "in Redis, into the database. Safe to run again after a crash and from "
        "several servers at once; schedule it every minute on each app server."
    )

    def handle(self, *args, **options) -> None:
        added, batches = journal.flush()
        self.stdout.write(f"Flushed {added} views from {batches} journal batches.")
        if settings.SPACES_VIEW_BUFFER:
            added, batches = flush_buffered_views()
            self.stdout.write(f"Flushed {added} views from {batches} Redis batches.")

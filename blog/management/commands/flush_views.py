from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from blog.counting.buffer import flush_buffered_views


class Command(BaseCommand):
    help = (
        "Move views buffered in Redis (SPACES_VIEW_BUFFER=1) into the database. Safe to run "
        "again after a crash and from several servers at once; schedule it every minute."
    )

    def handle(self, *args, **options) -> None:
        if not settings.REDIS_URL:
            raise CommandError("REDIS_URL is not set: there is no view buffer to flush.")
        added, batches = flush_buffered_views()
        self.stdout.write(f"Flushed {added} views from {batches} batches.")

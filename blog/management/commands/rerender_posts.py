from django.core.management.base import BaseCommand

from blog.caching.version import content_changed
from blog.models import Post
from blog.services import sync_citations


class Command(BaseCommand):
    help = "Render every post's Markdown again, and its citation links (after pipeline changes)."

    def handle(self, *args, **options) -> None:
        count = 0
        for post in Post.objects.iterator(chunk_size=200):
            post.render()
            Post.objects.filter(pk=post.pk).update(
                body_html=post.body_html,
                excerpt_html=post.excerpt_html,
                toc=post.toc,
                has_math=post.has_math,
                search_text=post.search_text,
            )
            sync_citations(post)
            count += 1
        content_changed()  # the updates above send no signal
        self.stdout.write(f"Rendered {count} posts again.")

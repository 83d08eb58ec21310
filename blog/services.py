"""Blog writes that touch several models."""

import re
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.db import transaction
from django.http.request import validate_host

from blog.caching.version import content_changed, post_scope
from blog.models import Citation, Post

ARTICLE_PATH = re.compile(r"/archives/([0-9]{1,18})/?")
# A hostile body could link to every id there is; a real post cites far fewer.
MAX_CITATIONS = 1000


class _HrefCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(value for name, value in attrs if name == "href" and value)


def site_hosts() -> list[str]:
    """Host names links to this site use: the canonical one, old ones, and ALLOWED_HOSTS."""
    hosts = [urlsplit(settings.SPACES_BASE_URL).hostname or ""]
    for entry in settings.SPACES_OLD_HOSTS:
        hosts.append(urlsplit(entry if "//" in entry else f"//{entry}").hostname or "")
    # "*" would make every site's /archives/<n> a link to this one.
    hosts += [host for host in settings.ALLOWED_HOSTS if host != "*"]
    return [host.lower() for host in hosts if host]


def linked_post_ids(html: str, page_path: str) -> list[int]:
    """Ids of this site's articles that links in `html` (shown at `page_path`) point to."""
    collector = _HrefCollector()
    collector.feed(html)
    collector.close()
    hosts = site_hosts()
    ids: dict[int, None] = {}
    for href in collector.hrefs:
        try:
            url = urlsplit(urljoin(page_path, href.strip()))
            host = url.hostname
        except ValueError:  # e.g. an unclosed IPv6 bracket
            continue
        if url.scheme not in {"", "http", "https"} or (url.netloc and not host):
            continue
        if host and not validate_host(host, hosts):
            continue
        if match := ARTICLE_PATH.fullmatch(url.path):
            ids[int(match[1])] = None
    return list(ids)[:MAX_CITATIONS]


def sync_citations(post: Post) -> None:
    """Record which other posts of this site `post`'s body links to, replacing the old record.

    Every existing target is kept, drafts too: pages filter by publication when they read, so
    publishing or unpublishing either side needs no new sync.
    """
    wanted = set(linked_post_ids(post.body_html, post.get_absolute_url())) - {post.pk}
    with transaction.atomic():
        # Concurrent saves of one post take turns, so neither sees the other's rows half-written.
        list(Post.objects.select_for_update().filter(pk=post.pk).values_list("pk"))
        targets = (
            set(Post.objects.filter(pk__in=wanted).values_list("pk", flat=True))
            if wanted
            else set()
        )
        cited = Citation.objects.filter(source=post)
        before = set(cited.values_list("target_id", flat=True))
        cited.delete()
        Citation.objects.bulk_create(Citation(source=post, target_id=pk) for pk in targets)
        if changed := before ^ targets:
            # Their articles list the posts that cite them.
            content_changed(*(post_scope(pk) for pk in changed))


def sync_all_citations(posts: Iterable[Post]) -> None:
    """Sync several posts, e.g. after an import in which posts link to ones imported later."""
    for post in posts:
        sync_citations(post)

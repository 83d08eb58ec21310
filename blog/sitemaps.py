"""/sitemap.xml: the home and archive pages, every published post, and the pages listing them."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max, QuerySet
from django.urls import reverse

from blog.models import Author, Category, Post, Tag


class SiteSitemap(Sitemap):
    """Locations on the canonical base URL when one is set, else on the request's host."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SPACES_BASE_URL).scheme or super().get_protocol(protocol)

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SPACES_BASE_URL).netloc or super().get_domain(site)


class PageSitemap(SiteSitemap):
    def items(self) -> list[str]:
        return ["blog:post_list", "blog:archive"]

    def location(self, item: str) -> str:
        return reverse(item)


class PostSitemap(SiteSitemap):
    def items(self) -> QuerySet:
        return (
            Post.objects.published()
            .only("id", "updated_at", "kind", "slug")
            .order_by("-published_at", "-id")
        )

    def lastmod(self, post: Post):
        return post.updated_at


class ListingSitemap(SiteSitemap):
    """Categories, tags or authors with a published post, last modified with their newest edit."""

    model: type[Author] | type[Category] | type[Tag]

    def items(self) -> QuerySet:
        return (
            self.model.objects.filter(posts__in=Post.objects.listed())
            .annotate(lastmod=Max("posts__updated_at"))
            .order_by("pk")
        )

    def lastmod(self, item: Author | Category | Tag):
        return item.lastmod


class CategorySitemap(ListingSitemap):
    model = Category


class TagSitemap(ListingSitemap):
    model = Tag


class AuthorSitemap(ListingSitemap):
    model = Author


SITEMAPS = {
    "pages": PageSitemap,
    "posts": PostSitemap,
    "categories": CategorySitemap,
    "tags": TagSitemap,
    "authors": AuthorSitemap,
}

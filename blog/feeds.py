"""RSS 2.0 and Atom feeds of the newest posts: the whole site's, and per category, tag, author."""

import copy
import re
from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.encoding import escape_uri_path
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html
from django.utils.translation import gettext as _

from blog.models import Author, Category, Post, Tag
from blog.site import absolute_url, listing_title

# Root-relative links and images in a post, which a feed reader would resolve against nothing.
_ROOT_RELATIVE_RE = re.compile(r'(\s(?:href|src)=")/(?!/)')


class PostFeed(Feed):
    """The site's newest posts as RSS 2.0: excerpt and a link, or the whole article (a setting)."""

    def __call__(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # One Feed instance serves every request, so a copy holds this request's absolute URLs.
        feed = copy.copy(self)
        feed.request = request
        return Feed.__call__(feed, request, *args, **kwargs)

    def get_object(self, request: HttpRequest, *args, **kwargs) -> None:
        return None

    def posts(self, subject):
        return Post.objects.listed()

    def items(self, subject) -> list[Post]:
        posts = self.posts(subject).with_authors().prefetch_related("categories", "tags")
        unused = "excerpt_html" if settings.SPACES_FEED_FULL_TEXT else "body_html"
        items = list(
            posts.defer("body", "toc", "search_text", unused).order_by("-published_at", "-id")[
                : settings.SPACES_FEED_ITEMS
            ]
        )
        if subject is not None and not items:
            raise Http404("Nothing published here yet.")
        return items

    def title(self, subject) -> str:
        return settings.SPACES_SITE_NAME

    def description(self, subject) -> str:
        return settings.SPACES_TAGLINE

    def link(self, subject) -> str:
        return absolute_url(self.request, reverse("blog:post_list"))

    def feed_url(self, subject) -> str:
        return absolute_url(self.request, escape_uri_path(self.request.path))

    def item_title(self, post: Post) -> str:
        return post.title

    def item_link(self, post: Post) -> str:
        return absolute_url(self.request, post.get_absolute_url())

    def item_guid(self, post: Post) -> str:
        # The permalink never changes with edits (unlike a slug or the edit time).
        return self.item_link(post)

    item_guid_is_permalink = True

    def item_description(self, post: Post) -> str:
        link = self.item_link(post)
        if settings.SPACES_FEED_FULL_TEXT:
            html = post.body_html
        else:
            html = post.excerpt_html + format_html(
                '<p><a href="{}">{}</a></p>', link, _("点击阅读全文...")
            )
        base = absolute_url(self.request, "/").rstrip("/")
        return _ROOT_RELATIVE_RE.sub(lambda m: f"{m[1]}{base}/", html)

    def item_author_name(self, post: Post) -> str:
        return ", ".join(author.display_name for author in post.ordered_authors)

    def item_author_link(self, post: Post) -> str | None:
        authors = post.ordered_authors
        return absolute_url(self.request, authors[0].get_absolute_url()) if authors else None

    def item_pubdate(self, post: Post) -> datetime:
        return post.published_at

    def item_updateddate(self, post: Post) -> datetime:
        return post.updated_at

    def item_categories(self, post: Post) -> list[str]:
        return [category.name for category in post.categories.all()] + [
            tag.name for tag in post.tags.all()
        ]


class AtomPostFeed(PostFeed):
    feed_type = Atom1Feed

    def subtitle(self, subject) -> str:
        return self.description(subject)


class SubjectFeed(PostFeed):
    """Posts of one category, tag or author; 404 when none is published."""

    model: type[Author] | type[Category] | type[Tag]
    lookup: str

    def get_object(self, request: HttpRequest, **kwargs) -> Author | Category | Tag:
        return get_object_or_404(self.model, **{self.lookup: kwargs[self.lookup]})

    def posts(self, subject):
        return subject.posts.listed()

    def title(self, subject: Author | Category | Tag) -> str:
        return f"{settings.SPACES_SITE_NAME} | {listing_title(subject)}"

    def link(self, subject) -> str:
        return absolute_url(self.request, subject.get_absolute_url())


class CategoryFeed(SubjectFeed):
    model, lookup = Category, "slug"

    def description(self, subject: Category) -> str:
        return subject.description or settings.SPACES_TAGLINE


class TagFeed(SubjectFeed):
    model, lookup = Tag, "name"


class AuthorFeed(SubjectFeed):
    model, lookup = Author, "slug"

    def description(self, subject: Author) -> str:
        return subject.bio or settings.SPACES_TAGLINE

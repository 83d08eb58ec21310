from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from django.conf import settings
from django.core.paginator import Page
from django.db.models import Q, prefetch_related_objects
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponsePermanentRedirect,
    QueryDict,
)
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

from blog.articles import article
from blog.caching.values import cached
from blog.caching.version import SITE
from blog.listings import Listing, url_maker
from blog.models import Author, Category, Post, Tag
from blog.rendering import Profile, render_body, render_markdown, site_image_sources
from blog.site import listing_title

PREVIEW_LIMITS = {Profile.POST: 1_000_000, Profile.COMMENT: 20_000}


def page_window(page: Page, around: int = 2) -> list[int | None]:
    """Page numbers to link: first, last and a window around the current one; None is a gap."""
    last = page.paginator.num_pages
    wanted = {1, last, *range(page.number - around, page.number + around + 1)}
    numbers: list[int | None] = []
    for number in sorted(n for n in wanted if 1 <= n <= last):
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


class PaginatedListMixin:
    """Listing pages: page size from settings and page links, `blog:<url_name>` for the first
    page and `blog:<url_name>_page` for the others, both with `url_kwargs()`."""

    context_object_name = "posts"
    template_name = "blog/post_list.html"
    url_name: str

    def get_paginate_by(self, queryset) -> int:
        return settings.SPACES_POSTS_PER_PAGE

    def url_kwargs(self) -> dict:
        return {}

    def page_urls(self) -> Callable[[int], str]:
        """Page n's URL: all of a page's links for two reverse() calls."""
        kwargs = self.url_kwargs()
        first = reverse(f"blog:{self.url_name}", kwargs=kwargs)
        others = url_maker(f"blog:{self.url_name}_page", "page", **kwargs)
        return lambda number: first if number == 1 else others(number)

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        page = context.get("page_obj")
        if page is not None and page.paginator.num_pages > 1:
            page_url = self.page_urls()
            context["page_links"] = [
                (n, page_url(n) if n else None, n == page.number) for n in page_window(page)
            ]
            if page.has_previous():
                context["previous_page_url"] = page_url(page.previous_page_number())
            if page.has_next():
                context["next_page_url"] = page_url(page.next_page_number())
        return context


class NonEmptyListMixin:
    """No published post, no page (404): the subject may exist only for drafts, not yet public."""

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True, **kwargs):
        return super().get_paginator(
            queryset, per_page, orphans, allow_empty_first_page=False, **kwargs
        )


class PostListView(PaginatedListMixin, ListView):
    url_name = "post_list"

    def get_queryset(self) -> Listing:
        return Listing(timezone.now())


class FilteredListView(NonEmptyListMixin, PaginatedListMixin, ListView):
    """Posts of one category, tag or author: `/<prefix>/<key>/` then `/<prefix>/<key>/<n>/`."""

    model: type[Author] | type[Category] | type[Tag]
    lookup: str
    relation: str  # how posts reach the subject

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.subject = get_object_or_404(self.model, **{self.lookup: kwargs[self.lookup]})
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Listing:
        return Listing(timezone.now(), **{self.relation: self.subject.pk})

    def url_kwargs(self) -> dict:
        return {self.lookup: getattr(self.subject, self.lookup)}

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(
            subject=self.subject,
            listing_title=listing_title(self.subject),
            feed_url=reverse(
                f"blog:{self.model._meta.model_name}_feed",
                kwargs={self.lookup: getattr(self.subject, self.lookup)},
            ),
            **kwargs,
        )


class CategoryDetailView(FilteredListView):
    model, lookup, url_name, relation = Category, "slug", "category_detail", "categories"


class TagDetailView(FilteredListView):
    model, lookup, url_name, relation = Tag, "name", "tag_detail", "tags"


class AuthorDetailView(FilteredListView):
    model, lookup, url_name, relation = Author, "slug", "author_detail", "authors"
    template_name = "blog/author_detail.html"


@dataclass(frozen=True)
class ReplyQuery:
    """What an article's URL asks of its comment form: reply to comment `?replyTo=<id>`, or
    quote comment `?quote=<id>` (the links readers without JavaScript follow)."""

    reply_to: int | None = None
    quote: int | None = None

    @classmethod
    def of(cls, query: QueryDict) -> "ReplyQuery":
        return cls(reply_to=_comment_id(query, "replyTo"), quote=_comment_id(query, "quote"))


def _comment_id(query: QueryDict, name: str) -> int | None:
    """A comment id from the query string; garbage (not ASCII digits, past 64 bits) is None."""
    value = query.get(name, "")
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value)


NOTHING_ASKED = ReplyQuery()


class PostLink(NamedTuple):
    """Another article as an article links to it."""

    url: str
    title: str
    published_at: datetime

    @classmethod
    def of(cls, post: Post) -> "PostLink":
        return cls(post.get_absolute_url(), post.title, post.published_at)


class TermLink(NamedTuple):
    """A category or tag as an article links to it."""

    url: str
    name: str

    @classmethod
    def of(cls, term: Category | Tag) -> "TermLink":
        return cls(term.get_absolute_url(), term.name)


class ArticleLinks(NamedTuple):
    categories: list[TermLink]
    tags: list[TermLink]
    previous: PostLink | None = None
    next: PostLink | None = None
    related: tuple[PostLink, ...] = ()


def article_links(post: Post) -> ArticleLinks:
    """The post's categories and tags, and for an article those before and after it and those
    sharing its tags: the same for every reader until the site changes, so cached under SITE's
    version (five queries fewer for an article rendered whole, docs/PERFORMANCE.md)."""
    return cached("article-links", lambda: _article_links(post), post.pk, scopes=(SITE,))


def _article_links(post: Post) -> ArticleLinks:
    prefetch_related_objects([post], "categories", "tags")  # the tags serve related_to() too
    terms = ArticleLinks(
        categories=[TermLink.of(category) for category in post.categories.all()],
        tags=[TermLink.of(tag) for tag in post.tags.all()],
    )
    if post.kind == Post.Kind.PAGE:
        return terms  # a page has no place among the articles
    published = Post.objects.listed().only("id", "title", "published_at")
    older = Q(published_at__lt=post.published_at) | Q(
        published_at=post.published_at, id__lt=post.id
    )
    newer = Q(published_at__gt=post.published_at) | Q(
        published_at=post.published_at, id__gt=post.id
    )
    previous = published.filter(older).order_by("-published_at", "-id").first()
    following = published.filter(newer).order_by("published_at", "id").first()
    return terms._replace(
        previous=previous and PostLink.of(previous),
        next=following and PostLink.of(following),
        related=tuple(PostLink.of(other) for other in Post.objects.related_to(post)),
    )


class PostDetailView(DetailView):
    context_object_name = "post"

    def get_object(self, queryset=None) -> Post:
        return self.visible(article(pk=self.kwargs["pk"]))

    def visible(self, post: Post | None) -> Post:
        """The post if this reader may see it (drafts: their authors and editors), else 404."""
        if post is None or not post.is_visible_to(self.request.user):
            raise Http404("No post with this id is visible to this reader.")
        return post

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        if self.object.kind == Post.Kind.PAGE and self.object.slug:
            return HttpResponsePermanentRedirect(self.object.get_absolute_url())
        return self.render_to_response(self.get_context_data(object=self.object))

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(**kwargs)
        context["reply_query"] = ReplyQuery.of(self.request.GET)
        links = article_links(self.object)
        context.update(
            categories=links.categories,
            tags=links.tags,
            previous_post=links.previous,
            next_post=links.next,
            related=links.related,
        )
        return context


class PageDetailView(PostDetailView):
    """A standalone page at `/<slug>.html`, as Typecho serves them."""

    def get_object(self, queryset=None) -> Post:
        return self.visible(article(page_slug=self.kwargs["slug"]))

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.object = self.get_object()
        return self.render_to_response(self.get_context_data(object=self.object))


@require_POST
def preview(request: HttpRequest) -> HttpResponse:
    """Render Markdown with the site's pipeline; posts need staff, comments anyone."""
    profile = Profile.POST if request.POST.get("profile") == "post" else Profile.COMMENT
    if profile is Profile.POST and not request.user.is_staff:
        return HttpResponse(status=403)
    body = request.POST.get("body", "")
    if len(body) > PREVIEW_LIMITS[profile]:
        return HttpResponseBadRequest("Too long to preview.")
    if profile is Profile.POST:
        body_format = request.POST.get("format", "markdown")
        return HttpResponse(render_body(body, body_format, site_image_sources()).html)
    return HttpResponse(render_markdown(body, profile).html)

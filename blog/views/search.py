"""The search page: `/search/<keywords>/`, published posts ranked by blog.ranking, with
highlighted snippets."""

from collections.abc import Collection
from datetime import datetime
from typing import NamedTuple

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.generic import ListView

from blog.models import Post
from blog.ranking import Ranking, rank
from blog.search import clean_query, highlight, parse_terms, snippet, with_headline
from blog.views.archives import post_link
from blog.views.posts import PaginatedListMixin


class SearchView(PaginatedListMixin, ListView):
    """`/search/<keywords>/`: published posts ranked by blog.search, with highlighted snippets."""

    template_name = "blog/search.html"
    url_name = "search_results"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.query = clean_query(kwargs.get("keywords") or request.GET.get("q", ""))
        self.terms = parse_terms(self.query)
        if "keywords" not in kwargs and self.terms:
            # The search box submits ?q=; results live at /search/<keywords>/, as on the seed site.
            return redirect(
                "blog:search_results", keywords=clean_query(self.query.replace("/", " "))
            )
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> Ranking:
        """Ids of the matches, best first (blog.ranking: only the page shown is listed)."""
        return rank(self.query)

    def url_kwargs(self) -> dict:
        return {"keywords": self.query}

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(search_query=self.query, **kwargs)
        ranked = self.object_list
        context["posts"] = search_results(context["posts"], self.query, ranked.text_search_only)
        if self.query:
            context["listing_title"] = _("包含关键字 %(query)s 的文章") % {"query": self.query}
        return context


class SearchResult(NamedTuple):
    """A match as the search page lists it."""

    url: str
    title: str
    title_html: SafeString
    published: datetime  # in the site's time zone
    snippet: SafeString


def search_results(ids: list[int], query: str, headlined: Collection[int]) -> list[SearchResult]:
    """The published posts among `ids`, in that order, highlighted for `query`; `headlined` are
    those no term occurs in, which PostgreSQL's full-text search marks instead."""
    terms = parse_terms(query)
    posts = with_headline(
        Post.objects.filter(pk__in=ids), query, [i for i in ids if i in headlined]
    )
    # By primary key alone: with published() in the query, both databases' planners walk its
    # index over every published post. The ranking lists only published posts; is_public
    # rechecks the few shown.
    found = posts.only("title", "status", "published_at", "search_text", "kind", "slug").in_bulk()
    shown = [found[pk] for pk in ids if pk in found and found[pk].is_public]
    link = post_link()
    return [
        SearchResult(
            post.get_absolute_url() if post.kind == Post.Kind.PAGE else f"{link}{post.pk}",
            post.title,
            highlight(post.title, terms),
            timezone.localtime(post.published_at),
            snippet(post.search_text, terms, getattr(post, "headline", "")),
        )
        for post in shown
    ]

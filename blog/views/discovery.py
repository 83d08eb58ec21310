"""Ways into the archive besides the listings: date archives, /content.html, search, robots.txt."""

from collections.abc import Collection
from datetime import date, datetime
from itertools import groupby
from typing import NamedTuple

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.generic import ListView, TemplateView, dates

from blog.discovery import cached
from blog.models import Post, Tag
from blog.ranking import Ranking, rank
from blog.search import (
    clean_query,
    highlight,
    parse_terms,
    snippet,
    with_headline,
)
from blog.site import absolute_url, asset_url, listing_title
from blog.views.posts import NonEmptyListMixin, PaginatedListMixin

# --- Date archives -------------------------------------------------------------------------------


class DateArchiveMixin(NonEmptyListMixin, PaginatedListMixin):
    """Published posts of one year, month or day in the site's time zone, newest first."""

    date_field = "published_at"
    month_format = "%m"
    make_object_list = True
    # Django's date views would query for emptiness and for neighbouring dates; the paginator's
    # count already tells an empty archive (404), and no page links to neighbouring dates.
    allow_empty = True
    template_name = "blog/post_archive_date.html"
    url_name: str

    def get_queryset(self):
        return Post.objects.listed().for_list()

    def page_url(self, number: int) -> str:
        kwargs = {key: self.kwargs[key] for key in ("year", "month", "day") if key in self.kwargs}
        if number == 1:
            return reverse(f"blog:{self.url_name}", kwargs=kwargs)
        return reverse(f"blog:{self.url_name}_page", kwargs={**kwargs, "page": number})

    def get_context_data(self, **kwargs) -> dict:
        title = _("%(date)s 发布的文章") % {"date": self.date_label()}
        return super().get_context_data(listing_title=title, **kwargs)


class YearArchiveView(DateArchiveMixin, dates.YearArchiveView):
    url_name = "year_archive"

    def date_label(self) -> str:
        return _("%(year)d年") % self.kwargs


class MonthArchiveView(DateArchiveMixin, dates.MonthArchiveView):
    url_name = "month_archive"

    def date_label(self) -> str:
        return _("%(year)d年%(month)d月") % self.kwargs


class DayArchiveView(DateArchiveMixin, dates.DayArchiveView):
    url_name = "day_archive"

    def date_label(self) -> str:
        return _("%(year)d年%(month)d月%(day)d日") % self.kwargs


# --- The archive page ----------------------------------------------------------------------------


class ArchiveEntry(NamedTuple):
    url: str
    title: str
    date: date
    day_label: str
    comments_label: str


class ArchiveView(TemplateView):
    """/content.html: every published post by year, month and day; `?tag=` narrows to one tag."""

    template_name = "blog/post_archive.html"

    def get_context_data(self, **kwargs) -> dict:
        tag = None
        if name := self.request.GET.get("tag"):
            if "\x00" in name:  # no tag has one, and PostgreSQL refuses to look for it
                raise Http404("No tag has this name.")
            tag = get_object_or_404(Tag, name=name)
        count, tree = archive_tree(tag)
        if tag and not count:
            raise Http404("No published post has this tag.")
        title = listing_title(tag) if tag else _("文章归档")
        return super().get_context_data(
            tag=tag, post_count=count, archive_tree=tree, listing_title=title, **kwargs
        )


def archive_tree(tag: Tag | None) -> tuple[int, str]:
    """The archive's post count and HTML, cached per content version (blog.discovery)."""
    return cached(
        "archive",
        lambda: build_archive_tree(tag),
        get_language(),
        tag.pk if tag else "",
    )


def build_archive_tree(tag: Tag | None) -> tuple[int, str]:
    posts = Post.objects.listed()
    if tag is not None:
        posts = posts.filter(tags=tag)
    rows = posts.order_by("-published_at", "-id").values_list(
        "id", "title", "published_at", "comment_count"
    )
    # The page lists every post: labels are made once each, and reverse() once for all links.
    link = post_link()
    days = {day: _("%(day)d日") % {"day": day} for day in range(1, 32)}
    comments: dict[int, str] = {}
    entries = []
    for pk, title, published_at, count in rows:
        if count not in comments:
            comments[count] = ngettext("%(n)d条评论", "%(n)d条评论", count) % {"n": count}
        when = timezone.localdate(published_at)
        entries.append(ArchiveEntry(f"{link}{pk}", title, when, days[when.day], comments[count]))
    html = render_to_string("blog/_archive_tree.html", {"years": group_by_date(entries)})
    return len(entries), html


def post_link() -> str:
    """What an article's URL is before its id: one reverse() for a list of links."""
    return reverse("blog:post_detail", kwargs={"pk": 0}).removesuffix("0")


def group_by_date(entries: list[ArchiveEntry]) -> list[tuple[int, int, list]]:
    """[(year, count, [(month, [entry, …]), …]), …] from entries newest first."""
    years = []
    for year, in_year in groupby(entries, key=lambda entry: entry.date.year):
        in_year = list(in_year)
        months = [
            (month, list(in_month))
            for month, in_month in groupby(in_year, key=lambda entry: entry.date.month)
        ]
        years.append((year, len(in_year), months))
    return years


# --- Search --------------------------------------------------------------------------------------


class SearchView(PaginatedListMixin, ListView):
    """`/search/<keywords>/`: published posts ranked by blog.search, with highlighted snippets."""

    template_name = "blog/search.html"

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

    def page_url(self, number: int) -> str:
        if number == 1:
            return reverse("blog:search_results", kwargs={"keywords": self.query})
        return reverse("blog:search_results_page", kwargs={"keywords": self.query, "page": number})

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


# --- For crawlers --------------------------------------------------------------------------------


def favicon(request: HttpRequest) -> HttpResponse:
    """`/favicon.ico`, which browsers ask for on pages without icon links (the admin's)."""
    return HttpResponseRedirect(asset_url(settings.SPACES_FAVICON_ICO))


class RobotsView(TemplateView):
    template_name = "robots.txt"
    content_type = "text/plain; charset=utf-8"

    def get_context_data(self, **kwargs) -> dict:
        sitemap = absolute_url(self.request, reverse("blog:sitemap"))
        return super().get_context_data(sitemap_url=sitemap, **kwargs)

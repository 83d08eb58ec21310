"""The archive by date: year, month and day listings, and /content.html with every published post
by year, month and day."""

from datetime import date
from itertools import groupby
from typing import NamedTuple

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, dates

from blog.caching.values import cached
from blog.listings import Listing
from blog.models import Post, Tag
from blog.site import listing_title
from blog.views.posts import NonEmptyListMixin, PaginatedListMixin


class DateArchiveMixin(NonEmptyListMixin, PaginatedListMixin):
    """Published posts of one year, month or day in the site's time zone, newest first."""

    model = Post
    date_field = "published_at"
    month_format = "%m"
    make_object_list = True
    # Django's date views would query for emptiness and for neighbouring dates; the paginator's
    # count already tells an empty archive (404), and no page links to neighbouring dates.
    allow_empty = True
    template_name = "blog/post_archive_date.html"

    def get_dated_queryset(self, **lookup) -> Listing:
        # published_q() already leaves out the future, so Django's own filter for it is not added.
        return Listing(timezone.now(), **lookup)

    def get_date_list(self, queryset: Listing, date_type=None, ordering="ASC"):
        return super().get_date_list(queryset.queryset(), date_type, ordering)

    def url_kwargs(self) -> dict:
        return {key: self.kwargs[key] for key in ("year", "month", "day") if key in self.kwargs}

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
    """The archive's post count and HTML, cached per content version (blog.caching.values)."""
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

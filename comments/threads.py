"""One page of comment threads under an article, read in a constant number of queries."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import pgettext

from blog.listings import url_maker
from blog.models import Post
from blog.views.posts import page_window
from comments.models import (
    Comment,
    editable_until,
    is_shown,
    is_writer,
    quote_markup,
    shown_thread_ids,
    shown_to,
    takes_replies,
    thread_rows,
)


@dataclass(slots=True)
class Node:
    """A comment as one visitor sees it, ready for the flat, indented listing."""

    # The id as text: integers in templates go through number localisation, slowly.
    ref: str
    level: int
    author_name: str
    author_url: str
    body_html: str
    created_at: str
    full_time: str
    date: str
    css: str
    placeholder: bool
    pending: bool
    by_author: bool
    can_reply: bool
    quote: str
    edited: bool
    editable: bool  # by this viewer, who wrote it, for a few more minutes


@dataclass(frozen=True)
class ThreadPage:
    nodes: list[Node]
    page_links: list[tuple[int | None, str | None, bool]]
    previous_url: str | None
    next_url: str | None


def default_page_number(num_pages: int) -> int:
    return 1 if settings.SPACES_COMMENT_DEFAULT_PAGE == "first" else max(num_pages, 1)


def page_urls(post_id: int, num_pages: int) -> Callable[[int], str]:
    """Each page's URL: the article itself for the page it shows by default, else
    `/comment-page-<n>` (two reverse() calls for all of a page's links)."""
    default = default_page_number(num_pages)
    article = reverse("blog:post_detail", kwargs={"pk": post_id})
    other = url_maker("comments:comment_page", "page", pk=post_id)
    return lambda number: article if number == default else other(number)


def page_url(post_id: int, number: int, num_pages: int) -> str:
    return page_urls(post_id, num_pages)(number)


def author_user_ids(post: Post) -> set[int]:
    """Users among the post's authors (its byline as the article's view read it)."""
    return {author.user_id for author in post.ordered_authors}


def thread_page(
    post: Post,
    number: int | None,
    own_ids: list[int],
    author_user_ids: set[int],
    viewer_id: int | None = None,
) -> ThreadPage:
    """Threads of page `number` (None: the default page) as the visitor who wrote `own_ids`
    (and is user `viewer_id`, when logged in) sees them; raises InvalidPage past the end."""
    # Every thread id at once: a few hundred integers cost less than a COUNT and a page query.
    paginator = Paginator(shown_thread_ids(post.pk, own_ids), threads_per_page())
    page = paginator.page(number or default_page_number(paginator.num_pages))
    rows = thread_rows(list(page.object_list))
    return ThreadPage(
        nodes=visible_nodes(rows, own_ids, author_user_ids, viewer_id),
        **_page_navigation(post.pk, page),
    )


def threads_per_page() -> int:
    return max(settings.SPACES_COMMENT_THREADS_PER_PAGE, 1)


def _page_navigation(post_id: int, page: Page) -> dict:
    num_pages = page.paginator.num_pages
    if num_pages < 2:
        return {"page_links": [], "previous_url": None, "next_url": None}
    url = page_urls(post_id, num_pages)
    return {
        "page_links": [
            (n, f"{url(n)}#comments" if n else None, n == page.number) for n in page_window(page)
        ],
        "previous_url": f"{url(page.number - 1)}#comments" if page.has_previous() else None,
        "next_url": f"{url(page.number + 1)}#comments" if page.has_next() else None,
    }


def visible_nodes(
    rows: list, own_ids: list[int], author_user_ids: set[int], viewer_id: int | None = None
) -> list[Node]:
    """Approved comments and the visitor's own pending ones, plus placeholders that keep
    hidden comments' approved replies in place; everything else is left out."""
    rows = list(rows)
    own = set(own_ids)
    shown = {r.pk for r in rows if is_shown(r.pk, r.status, own)}
    parents = {r.pk: r.parent_id for r in rows}
    kept = set(shown)
    for pk in shown:
        parent = parents[pk]
        while parent is not None and parent not in kept:
            kept.add(parent)
            parent = parents.get(parent)
    dates = _DateTexts()
    editable = {
        r.pk
        for r in rows
        if r.pk in shown
        and is_writer(r.pk, r.user_id, own_ids, viewer_id)
        and timezone.now() < editable_until(r.created_at)
    }
    return [
        _node(r, r.pk not in shown, author_user_ids, dates, r.pk in editable)
        for r in rows
        if r.pk in kept
    ]


class _DateTexts:
    """Comment dates in the site's time zone and the translated format (formatted once a day),
    followed by the time of day."""

    def __init__(self) -> None:
        self.zone = timezone.get_current_timezone()
        # `Y年n月j日` (2022年4月8日); an English catalogue makes it `F jS, Y` (April 8th, 2022).
        self.format = pgettext("comment date", "Y年n月j日")
        self.texts: dict[date, str] = {}

    def __call__(self, moment: datetime) -> tuple[datetime, str]:
        local = moment.astimezone(self.zone)
        day = local.date()
        if day not in self.texts:
            self.texts[day] = dateformat.format(local, self.format)
        return local, f"{self.texts[day]} {local:%H:%M}"


def _node(
    row, placeholder: bool, author_user_ids: set[int], dates: _DateTexts, editable: bool
) -> Node:
    created, date_text = dates(row.created_at)
    by_author = row.user_id is not None and row.user_id in author_user_ids
    pending = not placeholder and row.status != Comment.Status.APPROVED
    css = f"comment depth-{row.level}"
    css += " by-author" if by_author else ""
    css += " comment-removed" if placeholder else ""
    css += " comment-pending" if pending else ""
    shown = not (placeholder or pending)
    can_reply = shown and takes_replies(row.status, row.level)
    return Node(
        ref=str(row.pk),
        level=row.level,
        author_name=row.author_name,
        author_url=row.author_url,
        body_html=row.body_html,
        created_at=created.isoformat(),
        full_time=created.isoformat(sep=" ", timespec="seconds"),
        date=date_text,
        css=css,
        placeholder=placeholder,
        pending=pending,
        by_author=by_author,
        can_reply=can_reply,
        quote=quote_markup(row.pk, row.author_name) if shown and not can_reply else "",
        edited=row.edited_at is not None,
        editable=editable,
    )


def is_visible(comment: Comment, own_ids: list[int]) -> bool:
    """Whether the comment shows to this visitor, itself or as a placeholder for its replies."""
    return comment.get_descendants(include_self=True).filter(shown_to(own_ids)).exists()


def page_number_of(comment: Comment, own_ids: list[int]) -> tuple[int, int]:
    """The page showing the comment's thread, and how many pages there are."""
    roots = Comment.objects.thread_roots(comment.post, own_ids)
    per_page = threads_per_page()
    before = roots.filter(tree_id__lt=comment.tree_id).count()
    num_pages = max(-(-roots.count() // per_page), 1)
    return before // per_page + 1, num_pages

"""Showing reader counts: the "N位读者" of a post's meta line, and the page-cache filler that puts
the live counts into cached pages."""

from functools import lru_cache

from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, ngettext

from blog.counting.sql import view_counts_sql


def view_count_html(post_id: int, views: int) -> SafeString:
    """The "N位读者" of a post's meta line (beacon mode's script updates it by `data-post`)."""
    text = readers_text(get_language(), views)
    return mark_safe(f'<span class="view-count" data-post="{int(post_id)}">{text}</span>')


@lru_cache(maxsize=4096)
def readers_text(language: str, views: int) -> str:
    """The "N位读者" text in `language`, the active one, escaped: listings show the same counts."""
    return escape(ngettext("%(n)s位读者", "%(n)s位读者", views) % {"n": views})


def fill_view_counts(arguments: list[str]) -> list[str]:
    """Page-cache holes: the live counts of the posts a cached page shows, in one query."""
    ids = [int(argument) for argument in arguments]
    wanted = sorted(set(ids))
    with connection.cursor() as cursor:
        cursor.execute(view_counts_sql(len(wanted)), wanted)
        views = {int(pk): int(count) for pk, count in cursor.fetchall()}
    return [view_count_html(pk, views.get(pk, 0)) for pk in ids]

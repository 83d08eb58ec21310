"""An article's comment form as a hole of its cached page (blog.caching.holes): the same for
every anonymous reader, filled in with a remembered commenter's or a logged-in reader's details
for them, so that they too are served the cached page unless its threads are theirs to see."""

import datetime as dt
import functools
import operator
import re
from collections.abc import Callable

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from blog.caching.holes import Fragment, fragment
from blog.caching.values import cached
from blog.caching.version import SITE, post_scope
from blog.models import Post
from comments.forms import CommentForm
from comments.models import OWN_PENDING, Comment
from comments.visitors import own_comment_ids, remembered_commenter

HOLE = "comment-form"


def visitor_details(request: HttpRequest) -> dict[str, str]:
    """What the form is filled in with: a logged-in reader's name and e-mail, else what a
    remembered commenter used last time."""
    if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
        user = request.user
        return {
            "author_name": user.get_full_name() or user.get_username(),
            "author_email": user.email,
        }
    return remembered_commenter(request)


def form_html(post: Post, initial: dict) -> SafeString:
    """The form as cached pages carry it: no tokens, which its script fetches when used."""
    form = CommentForm(post=post, initial=initial, for_cache=True)
    context = {"post": post, "form": form, "reply_to": None, "for_cache": True}
    return render_to_string("comments/_form.html", context)


def anonymous_forms(post_ids: list[str]) -> list[str]:
    """The hole's filler: each post's empty form, cached until the post changes."""
    return [post_form(pk, "", _anonymous_form) for pk in post_ids]


def own_forms(request: HttpRequest, post_ids: list[str]) -> list[str] | None:
    """The hole's personal filler: the forms filled in for this visitor, or None when the
    threads show them more than everyone sees (their comment awaiting review or still open to
    their editing), so that the page is rendered for them."""
    if sees_own_comments(request, [int(pk) for pk in post_ids]):
        return None
    details = visitor_details(request)
    try:
        forms = [post_form(pk, "to-fill", _stand_in_form) for pk in post_ids]
    except Post.DoesNotExist:  # deleted since its page was stored
        return None
    return [filled_in(form, details) for form in forms]


# The cached form for visitors is rendered with these in its fields, and each visitor's own
# details (escaped) replace them: rendering a form costs ten times a cached page's hit.
STAND_INS = {name: f"\ue000{name}\ue000" for name in ("author_name", "author_email", "author_url")}
STAND_IN = re.compile("\ue000(author_name|author_email|author_url)\ue000")


def filled_in(form: str, details: dict[str, str]) -> SafeString:
    """The form with the visitor's escaped details in, in one pass: a detail that looks like a
    stand-in is not filled in again."""
    filled = STAND_IN.sub(lambda match: escape(details.get(match[1], "")), form)
    return mark_safe(filled)  # a template's output, with escaped values put in


def post_form(pk: str, kind: str, render: Callable[[int], str]) -> str:
    """A post's form of one kind, cached until the post changes (its SITE and own scopes)."""
    scopes = (SITE, post_scope(pk))
    make = functools.partial(render, int(pk))
    return cached(HOLE, make, pk, kind, get_language(), scopes=scopes)


def _anonymous_form(post_id: int) -> Fragment:
    return fragment(form_html(Post.objects.get(pk=post_id), {}))


def _stand_in_form(post_id: int) -> str:
    return form_html(Post.objects.get(pk=post_id), STAND_INS)


def sees_own_comments(request: HttpRequest, post_ids: list[int]) -> bool:
    """Whether a comment of this visitor's on these posts shows differently to them: awaiting
    review, or still open to their editing (comments.threads)."""
    writers = []
    if own_ids := own_comment_ids(request):
        writers.append(Q(pk__in=own_ids))
    if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
        writers.append(Q(user_id=request.user.pk))
    if not writers:
        return False
    since = timezone.now() - dt.timedelta(seconds=settings.SPACES_COMMENT_EDIT_SECONDS)
    in_flight = Q(status__in=OWN_PENDING) | Q(created_at__gt=since)
    writer = functools.reduce(operator.or_, writers)
    return Comment.objects.filter(writer, in_flight, post_id__in=post_ids).exists()

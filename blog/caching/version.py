"""The content version: one token naming the state of the published archive, which every cached
value and page is stored under; a new token starts when content changes, once the change commits.

The token is a database row (`ContentVersion`), read at most once per request. A new token
starts when a post, its tags or a tag is saved or deleted (signals, because the admin, imports and
services all write posts), once that write commits; when a scheduled post comes due; and at the
latest after SPACES_DISCOVERY_CACHE_SECONDS, which bounds how long changes no signal reports
(`QuerySet.update()`) take to show. Other apps whose data these pages show (comments) call
`content_changed()` with their writes. Since the token lives in the database, every app server
sees a new one at its next request.
"""

import uuid
from contextvars import ContextVar
from typing import NamedTuple

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.db.models import Min
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from blog.models import Category, ContentVersion, Post, Tag

VERSION_TABLE = connection.ops.quote_name(ContentVersion._meta.db_table)


class ContentState(NamedTuple):
    token: str
    valid_until: float  # Unix time


class RequestMemo:
    """The one piece of per-request state: the content version as this request read it.

    A request reads the shared token once (or gets it with its counted read, see
    `remember_state`) and every cached value and page of that request uses the same token. The
    memo starts empty when a request starts and is dropped when it finishes; outside requests
    (commands, tests without the client) there is none and every call reads the row.
    """

    _current: ContextVar["RequestMemo | None"] = ContextVar("spaces_request_memo", default=None)

    def __init__(self) -> None:
        self.state: ContentState | None = None

    @classmethod
    def current(cls) -> "RequestMemo | None":
        return cls._current.get()

    @classmethod
    def start(cls, **kwargs) -> None:
        cls._current.set(cls())

    @classmethod
    def finish(cls, **kwargs) -> None:
        cls._current.set(None)


class PendingChange:
    """A content change in the open transaction, waiting for the commit to start a new token.

    Its `commit` is the transaction's on-commit callback, and it holds the private token the
    transaction's own reads use meanwhile: a rollback drops the callback and, with it, every trace
    of the change. Until the commit, other readers must not cache what they read under a new
    token, since they do not see the write yet.
    """

    def __init__(self) -> None:
        self.state = new_state()

    def commit(self) -> None:
        use_state(start_version())


def pending_change() -> PendingChange | None:
    """This transaction's pending change, if it changed content (and has not rolled it back)."""
    if not connection.in_atomic_block:
        return None
    for entry in connection.run_on_commit:
        if isinstance(change := getattr(entry[1], "__self__", None), PendingChange):
            return change
    return None


def content_version() -> str:
    """The current token: read once per request from the database, renewed when it has expired
    or a scheduled post has come due. In a transaction that changed content, a token of its own.
    """
    if (pending := pending_change()) is not None:
        if pending.state.valid_until <= timezone.now().timestamp():
            pending.state = new_state()
        return pending.state.token
    memo = RequestMemo.current()
    if memo is not None and memo.state is not None:
        return memo.state.token
    return use_state(read_state()).token


def use_state(state: ContentState | None) -> ContentState:
    """`state` as read from the database (None: no row yet), renewed if it no longer holds, and
    kept as the current request's."""
    if state is None or state.valid_until <= timezone.now().timestamp():
        state = start_version(expected=state.token if state else "")
    if (memo := RequestMemo.current()) is not None:
        memo.state = state
    return state


def remember_state(state: ContentState | None) -> None:
    """The state as read along with other work (an article's counted read), for the request."""
    if RequestMemo.current() is None or pending_change() is not None:
        return  # outside a request nothing would use it; this transaction has its own token
    use_state(state)


def read_state() -> ContentState | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token, valid_until FROM {VERSION_TABLE} WHERE id = 1")
        row = cursor.fetchone()
    return ContentState(str(row[0]), float(row[1])) if row else None


def new_state() -> ContentState:
    """A new token, which holds until it expires or the next scheduled post comes due."""
    now = timezone.now()
    due = Post.objects.scheduled().aggregate(due=Min("published_at"))["due"]
    limit = now.timestamp() + settings.SPACES_DISCOVERY_CACHE_SECONDS
    return ContentState(uuid.uuid4().hex, min(limit, due.timestamp()) if due else limit)


def start_version(expected: str | None = None) -> ContentState:
    """Store a new token; with `expected`, only if the stored one is still that token (readers
    renewing an expired token at once agree on one new token)."""
    state = new_state()
    sql = (
        f"INSERT INTO {VERSION_TABLE} (id, token, valid_until) VALUES (1, %s, %s) "
        "ON CONFLICT (id) DO UPDATE SET token = excluded.token, valid_until = excluded.valid_until"
    )
    with connection.cursor() as cursor:
        if expected is None:
            cursor.execute(sql, state)
        else:
            cursor.execute(f"{sql} WHERE {VERSION_TABLE}.token = %s", [*state, expected])
            if cursor.rowcount == 0:  # another request renewed it first
                state = read_state() or state
    return state


def content_changed(**kwargs) -> None:
    """Receiver of post and tag signals, and for other apps: start a new token.

    In a transaction, the new token is stored when the write commits (see PendingChange); each
    change in it gives the transaction's own reads a new private token.
    """
    if not connection.in_atomic_block:
        use_state(start_version())
    elif (pending := pending_change()) is not None:
        pending.state = new_state()
    else:
        # Robust: the write has committed by then, so a failure is only logged, and the old
        # token still expires on its own.
        transaction.on_commit(PendingChange().commit, robust=True)


def connect_signals() -> None:
    request_started.connect(RequestMemo.start, dispatch_uid="spaces-request-memo")
    request_finished.connect(RequestMemo.finish, dispatch_uid="spaces-request-memo")
    for model in (Post, Tag, Category):
        post_save.connect(content_changed, sender=model, dispatch_uid=f"content-saved-{model}")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"content-gone-{model}")
    m2m_changed.connect(content_changed, sender=Post.tags.through, dispatch_uid="content-tags")

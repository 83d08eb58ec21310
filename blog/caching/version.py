"""The content version: tokens naming the state of what readers see, one per scope, under which
cached values and pages are stored; a scope's token is renewed once a change to it commits.

Scopes say what a change reaches, so that a comment renews its post's pages and the comment
widgets, not every page of the site:

- SITE: every page. Renewed by anything other pages show of a post (title, address, status,
  date, taxonomy), by tags and categories, when a scheduled post comes due, and at the latest
  after SPACES_DISCOVERY_CACHE_SECONDS, which bounds how long changes no signal reports
  (`QuerySet.update()`) take to show.
- LISTINGS: pages listing posts with their excerpts (home, archives, feeds, search).
- COMMENTS: what shows comments of many posts (the 最近评论 widget, comment counts).
- post_scope(id): one post's own pages (its article and comment threads).

`blog.caching.invalidation` and the comments services say which scopes their writes renew. The
tokens are database rows (`ContentVersion`), read once per request; every app server sees a new
one at its next request.
"""

import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from typing import NamedTuple

from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone

from blog.models import ContentVersion, Post

VERSION_TABLE = connection.ops.quote_name(ContentVersion._meta.db_table)
SITE, LISTINGS, COMMENTS = "site", "listings", "comments"
SITE_WIDE = (SITE, LISTINGS, COMMENTS)  # read with every request: one query for all of them


def post_scope(post_id: int | str) -> str:
    return f"post:{post_id}"


class ContentState(NamedTuple):
    tokens: dict[str, str]  # scope -> token, "" for a scope never renewed
    valid_until: float  # Unix time at which the SITE token must be renewed


class RequestMemo:
    """The one piece of per-request state: the tokens as this request read them.

    A request reads the tokens once (or gets them with its counted read, see `remember_state`)
    and every cached value and page of that request uses them. The memo starts empty when a
    request starts and is dropped when it finishes; outside requests (commands, tests without
    the client) there is none and every call reads the rows.
    """

    _current: ContextVar["RequestMemo | None"] = ContextVar("spaces_request_memo", default=None)

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}

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
    """Content changes in the open transaction, waiting for the commit to renew their scopes.

    Its `commit` is the transaction's on-commit callback, and it holds the private token the
    transaction's own reads use meanwhile, whatever scopes they ask for: a rollback drops the
    callback and, with it, every trace of the change. Until the commit, other readers must not
    cache what they read under a new token, since they do not see the write yet.
    """

    def __init__(self, scopes: Iterable[str]) -> None:
        self.scopes = set(scopes)
        self.renew_token()

    def renew_token(self) -> None:
        self.token, self.valid_until = uuid.uuid4().hex, site_valid_until()

    def commit(self) -> None:
        remember(renew(self.scopes))


def pending_change() -> PendingChange | None:
    """This transaction's pending change, if it changed content (and has not rolled it back)."""
    if not connection.in_atomic_block:
        return None
    for entry in connection.run_on_commit:
        if isinstance(change := getattr(entry[1], "__self__", None), PendingChange):
            return change
    return None


def content_version(scopes: Iterable[str] = SITE_WIDE) -> str:
    """The version of `scopes` (SITE always among them): their tokens, read once per request
    from the database, SITE's renewed when it has expired or a scheduled post has come due. In a
    transaction that changed content, a token of its own."""
    if (pending := pending_change()) is not None:
        if pending.valid_until <= timezone.now().timestamp():
            pending.renew_token()
        return pending.token
    wanted = [SITE, *(scope for scope in scopes if scope != SITE)]
    memo = RequestMemo.current()
    tokens = memo.tokens if memo is not None else {}
    if any(scope not in tokens for scope in wanted):
        tokens = use_state(read_state({*SITE_WIDE, *wanted}))
    return ".".join(tokens[scope] for scope in wanted)


def use_state(state: ContentState) -> dict[str, str]:
    """`state` as read from the database, SITE renewed if it no longer holds, kept as the
    current request's; the tokens the request knows now."""
    if state.valid_until <= timezone.now().timestamp():
        state = state._replace(tokens={**state.tokens, **renew_site(state.tokens.get(SITE, ""))})
    return remember(state.tokens)


def remember(tokens: dict[str, str]) -> dict[str, str]:
    if (memo := RequestMemo.current()) is None:
        return tokens
    memo.tokens.update(tokens)
    return memo.tokens


def remember_state(state: ContentState) -> None:
    """The state as read along with other work (an article's counted read), for the request."""
    if RequestMemo.current() is None or pending_change() is not None:
        return  # outside a request nothing would use it; this transaction has its own token
    use_state(state)


def read_state(scopes: Iterable[str]) -> ContentState:
    scopes = sorted(scopes)
    sql = (
        f"SELECT scope, token, valid_until FROM {VERSION_TABLE} "
        f"WHERE scope IN ({', '.join(['%s'] * len(scopes))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, scopes)
        rows = cursor.fetchall()
    return state_of(scopes, rows)


def state_of(scopes: Iterable[str], rows: Iterable[tuple[str, str, float]]) -> ContentState:
    """The state of `scopes` from (scope, token, valid_until) rows; no SITE row: expired."""
    tokens = dict.fromkeys(scopes, "")
    valid_until = 0.0
    for scope, token, until in rows:
        tokens[scope] = str(token)
        if scope == SITE:
            valid_until = float(until)
    return ContentState(tokens, valid_until)


def site_valid_until() -> float:
    """How long a new SITE token holds: until it expires or the next scheduled post comes due."""
    now = timezone.now()
    due = Post.objects.scheduled().aggregate(due=Min("published_at"))["due"]
    limit = now.timestamp() + settings.SPACES_DISCOVERY_CACHE_SECONDS
    return min(limit, due.timestamp()) if due else limit


def renew_site(expected: str | None = None) -> dict[str, str]:
    """Store a new SITE token; with `expected`, only if the stored one is still that token
    (readers renewing an expired token at once agree on one new token)."""
    token, valid_until = uuid.uuid4().hex, site_valid_until()
    sql = (
        f"INSERT INTO {VERSION_TABLE} (scope, token, valid_until) VALUES (%s, %s, %s) "
        "ON CONFLICT (scope) DO UPDATE "
        "SET token = excluded.token, valid_until = excluded.valid_until"
    )
    with connection.cursor() as cursor:
        if expected is None:
            cursor.execute(sql, [SITE, token, valid_until])
        else:
            cursor.execute(
                f"{sql} WHERE {VERSION_TABLE}.token = %s", [SITE, token, valid_until, expected]
            )
            if cursor.rowcount == 0:  # another request renewed it first
                return {SITE: read_state([SITE]).tokens[SITE] or token}
    return {SITE: token}


def renew(scopes: Iterable[str]) -> dict[str, str]:
    """New tokens for `scopes`, stored at once; the new tokens."""
    tokens = renew_site() if SITE in scopes else {}
    others = {scope: uuid.uuid4().hex for scope in sorted(scopes) if scope != SITE}
    if others:
        rows = ", ".join(["(%s, %s, 0)"] * len(others))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {VERSION_TABLE} (scope, token, valid_until) VALUES {rows} "
                "ON CONFLICT (scope) DO UPDATE SET token = excluded.token",
                [value for item in others.items() for value in item],
            )
    return {**tokens, **others}


def content_changed(*scopes: str) -> None:
    """Renew `scopes` (none named: SITE, which every page is stored under).

    In a transaction, the tokens are renewed when the write commits (see PendingChange); each
    change in it gives the transaction's own reads a new private token.
    """
    scopes = scopes or (SITE,)
    if not connection.in_atomic_block:
        remember(renew(scopes))
    elif (pending := pending_change()) is not None:
        pending.scopes.update(scopes)
        pending.renew_token()
    else:
        # Robust: the write has committed by then, so a failure is only logged, and the old
        # SITE token still expires on its own.
        transaction.on_commit(PendingChange(scopes).commit, robust=True)


def connect_signals() -> None:
    request_started.connect(RequestMemo.start, dispatch_uid="spaces-request-memo")
    request_finished.connect(RequestMemo.finish, dispatch_uid="spaces-request-memo")

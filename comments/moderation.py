"""The comment policy as one object: what is refused, held for a moderator, or spam."""

import hashlib
import logging
import math
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import akismet
import httpx
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db.models import Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from blog import signatures
from blog.models import Post, is_staff_or_author
from blog.site import base_url
from comments import blocklist
from comments.models import Comment
from comments.visitors import Origin

logger = logging.getLogger(__name__)

TOKEN_SALT = "comments.form"
TOKEN_MAX_AGE = timedelta(days=1)
AKISMET_TIMEOUT = 3
_LINK_RE = re.compile(r"https?://|www\.", re.IGNORECASE)


def clock() -> float:
    """Seconds since the epoch: the rate limits' clock (tests move it)."""
    return time.time()


class Refused(Exception):
    """The comment is not taken at all; the message tells the writer why and what to do."""

    def __init__(self, message: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


def make_token(post_id: int) -> str:
    """A signed, timestamped token for the comment form of post `post_id`."""
    return signatures.timestamp_sign(str(post_id), TOKEN_SALT)  # as TimestampSigner signs


def check_token(token: str, post: Post) -> None:
    """Refuse a form filled in faster than a person can, older than a day, or not ours."""
    signer = signing.TimestampSigner(salt=TOKEN_SALT)
    try:
        value = signer.unsign(token, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise Refused(_("评论表单已过期，请刷新页面后重新提交。")) from None
    except signing.BadSignature:
        raise Refused(_("评论表单无效，请刷新页面后重新提交。")) from None
    if value != str(post.pk):
        raise Refused(_("评论表单无效，请刷新页面后重新提交。"))
    if settings.SPACES_COMMENT_MIN_FORM_AGE <= 0:
        return
    try:
        signer.unsign(token, max_age=timedelta(seconds=settings.SPACES_COMMENT_MIN_FORM_AGE))
    except signing.SignatureExpired:
        return
    raise Refused(_("提交得太快了，请稍等几秒再提交。"))


@dataclass(frozen=True)
class Allowance:
    """Whose turn a comment takes: a stranger's IP address or a known commenter's e-mail."""

    key: str
    interval: int
    limit: int
    known: bool
    # The writer's stored comments, counted while the shared cache is unreachable.
    recent: QuerySet


def too_soon(wait: int) -> Refused:
    return Refused(
        ngettext(
            "您评论得太快了，请 %(seconds)d 秒后再试。",
            "您评论得太快了，请 %(seconds)d 秒后再试。",
            wait,
        )
        % {"seconds": wait},
        status=429,
        retry_after=wait,
    )


def too_many(allowance: Allowance, wait: int) -> Refused:
    """The hourly cap is reached; says at what time (site time zone) a comment is taken again."""
    again = timezone.localtime(datetime.fromtimestamp(clock() + wait, tz=UTC))
    values = {"limit": allowance.limit, "time": again.strftime("%H:%M")}
    if allowance.known:
        message = _("您一小时内的评论已达上限（%(limit)d 条），请在 %(time)s 之后再试。")
    else:
        message = _("这个 IP 地址一小时内的评论已达上限（%(limit)d 条），请在 %(time)s 之后再试。")
    return Refused(message % values, status=429, retry_after=wait)


class CommentModerator:
    """Decides each new comment's fate; the thresholds come from the SPACES_COMMENT_* settings.

    Refusals (`check_rate`) happen before anything is written; `status_for` then picks the status:
    spam for blocklisted or Akismet-flagged comments, pending for first-time writers and comments
    full of links, approved otherwise. Staff and the post's authors are trusted."""

    def is_trusted(self, comment: Comment) -> bool:
        return is_staff_or_author(comment.user, comment.post_id)

    def status_for(self, comment: Comment, origin: Origin | None) -> str:
        if self.is_trusted(comment):
            return Comment.Status.APPROVED
        if self.is_blocked(comment) or self.akismet_says_spam(comment, origin):
            return Comment.Status.SPAM
        if self.link_count(comment) > settings.SPACES_COMMENT_MAX_LINKS:
            return Comment.Status.PENDING
        if not self.has_approved_comment(comment.author_email):
            return Comment.Status.PENDING
        return Comment.Status.APPROVED

    def check_rate(self, comment: Comment) -> None:
        """Take the writer's turn, or refuse: a minimum interval and an hourly cap.

        Strangers are counted per IP address. Known commenters (an approved comment under their
        e-mail address) are counted per address with the gentler SPACES_COMMENT_KNOWN_* limits,
        so that many readers behind one campus or company address do not lock each other out.
        cache.add and cache.incr are atomic on Redis, so app servers sharing it count together.
        While Redis is unreachable, django-redis answers None (IGNORE_EXCEPTIONS) and the stored
        comments are counted instead."""
        if self.is_trusted(comment):
            return
        allowance = self.allowance(comment)
        now = clock()
        key, interval, limit = allowance.key, allowance.interval, allowance.limit
        if interval > 0:
            taken = cache.add(f"{key}:last", now, interval)
            if taken is None:
                return self.check_rate_in_database(allowance)
            if not taken:
                last = cache.get(f"{key}:last")
                last = now if last is None else last
                raise too_soon(max(1, math.ceil(interval - (now - last))))
        if limit <= 0:
            return
        # A fixed window per clock hour, so that the refusal can say when the next one starts.
        window = int(now // 3600)
        hour_key = f"{key}:hour:{window}"
        cache.add(hour_key, 0, 3600 + 60)
        try:
            count = cache.incr(hour_key)
        except ValueError:  # evicted between add and incr: count this comment as the first
            cache.set(hour_key, count := 1, 3600 + 60)
        if count is None:
            return self.check_rate_in_database(allowance)
        if count > limit:
            raise too_many(allowance, max(1, math.ceil((window + 1) * 3600 - now)))

    def allowance(self, comment: Comment) -> "Allowance":
        if self.has_approved_comment(comment.author_email):
            email = comment.author_email.lower()
            digest = hashlib.sha256(email.encode()).hexdigest()[:32]
            return Allowance(
                key=f"comments:known:{digest}",
                interval=settings.SPACES_COMMENT_KNOWN_MIN_INTERVAL,
                limit=settings.SPACES_COMMENT_KNOWN_HOURLY_LIMIT,
                known=True,
                recent=Comment.objects.filter(author_email__iexact=email),
            )
        # Requests without a usable address (a misconfigured proxy count) share one allowance.
        return Allowance(
            key=f"comments:ip:{comment.ip_address or 'unknown'}",
            interval=settings.SPACES_COMMENT_MIN_INTERVAL,
            limit=settings.SPACES_COMMENT_HOURLY_LIMIT,
            known=False,
            recent=Comment.objects.filter(ip_address=comment.ip_address),
        )

    def check_rate_in_database(self, allowance: "Allowance") -> None:
        """The same limits, counting the writer's stored comments: slower, but never refusing
        everyone while the shared cache is down."""
        per = "e-mail address" if allowance.known else "IP"
        logger.warning("The cache is unreachable; counting comments per %s in the database.", per)
        now = timezone.now()
        interval, limit = allowance.interval, allowance.limit
        if interval > 0:
            since = now - timedelta(seconds=interval)
            last = allowance.recent.filter(created_at__gt=since).aggregate(last=Max("created_at"))
            if last["last"] is not None:
                raise too_soon(max(1, math.ceil(interval - (now - last["last"]).total_seconds())))
        if limit > 0:
            hour = allowance.recent.filter(created_at__gt=now - timedelta(hours=1))
            times = list(hour.order_by("-created_at").values_list("created_at", flat=True)[:limit])
            if len(times) >= limit:
                free = times[-1] + timedelta(hours=1) - now
                raise too_many(allowance, max(1, math.ceil(free.total_seconds())))

    def is_blocked(self, comment: Comment) -> bool:
        """Whether the blocklist (the admin's entries and SPACES_COMMENT_BLOCKLIST) matches."""
        return blocklist.current().matches(comment)

    def link_count(self, comment: Comment) -> int:
        return len(_LINK_RE.findall(comment.body))

    def has_approved_comment(self, email: str) -> bool:
        """The seed site's "whitelist": an e-mail address with an approved comment is known."""
        return Comment.objects.filter(author_email=email, status=Comment.Status.APPROVED).exists()

    def akismet_says_spam(self, comment: Comment, origin: Origin | None) -> bool:
        """Ask Akismet (the `akismet` library) when a key is configured; any failure counts as
        "not spam"."""
        if not settings.AKISMET_API_KEY:
            return False
        origin = origin or Origin(base_url=base_url(None))
        config = akismet.Config(key=settings.AKISMET_API_KEY, url=f"{origin.base_url}/")
        # Not the client as a context manager: that would verify the key with every comment.
        try:
            with akismet_http_client() as http:
                client = akismet.SyncClient(config=config, http_client=http)
                verdict = client.comment_check(
                    user_ip=comment.ip_address or "",
                    user_agent=comment.user_agent,
                    referrer=origin.referrer,
                    permalink=origin.base_url + comment.post.get_absolute_url(),
                    comment_type="reply" if comment.parent_id else "comment",
                    comment_author=comment.author_name,
                    comment_author_email=comment.author_email,
                    comment_author_url=comment.author_url,
                    comment_content=comment.body,
                    blog_lang=settings.LANGUAGE_CODE,
                )
        except (akismet.AkismetError, httpx.HTTPError, OSError):
            logger.warning("Akismet check failed; moderating without it.", exc_info=True)
            return False
        return verdict != akismet.CheckResponse.HAM


def akismet_http_client() -> httpx.Client:
    """The HTTP client Akismet is asked through: a short timeout, since a reader waits."""
    return httpx.Client(timeout=AKISMET_TIMEOUT, headers={"User-Agent": akismet.USER_AGENT})


moderator = CommentModerator()

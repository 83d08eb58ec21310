"""The comment policy as one object: what is refused, held for a moderator, or spam."""

import ipaddress
import logging
import re
import urllib.parse
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from blog import signatures
from blog.models import Post
from comments.models import Comment

logger = logging.getLogger(__name__)

TOKEN_SALT = "comments.form"
TOKEN_MIN_AGE = timedelta(seconds=3)
TOKEN_MAX_AGE = timedelta(days=1)
AKISMET_TIMEOUT = 3
_LINK_RE = re.compile(r"https?://|www\.", re.IGNORECASE)


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
    try:
        signer.unsign(token, max_age=TOKEN_MIN_AGE)
    except signing.SignatureExpired:
        return
    raise Refused(_("提交得太快了，请稍等几秒再提交。"))


def too_soon(interval: int) -> Refused:
    return Refused(
        ngettext(
            "您评论得太快了，请 %(seconds)d 秒后再试。",
            "您评论得太快了，请 %(seconds)d 秒后再试。",
            interval,
        )
        % {"seconds": interval},
        status=429,
        retry_after=interval,
    )


def too_many(limit: int) -> Refused:
    return Refused(
        _("这个 IP 地址一小时内的评论已达上限（%(limit)d 条），请稍后再试。") % {"limit": limit},
        status=429,
        retry_after=3600,
    )


class CommentModerator:
    """Decides each new comment's fate; the thresholds come from the SPACES_COMMENT_* settings.

    Refusals (`check_rate`) happen before anything is written; `status_for` then picks the status:
    spam for blocklisted or Akismet-flagged comments, pending for first-time writers and comments
    full of links, approved otherwise. Staff and the post's authors are trusted."""

    def is_trusted(self, comment: Comment) -> bool:
        user = comment.user
        if user is None or not user.is_authenticated:
            return False
        return user.is_staff or comment.post.authors.filter(user=user).exists()

    def status_for(self, comment: Comment, request: HttpRequest | None) -> str:
        if self.is_trusted(comment):
            return Comment.Status.APPROVED
        if self.is_blocked(comment) or self.akismet_says_spam(comment, request):
            return Comment.Status.SPAM
        if self.link_count(comment) > settings.SPACES_COMMENT_MAX_LINKS:
            return Comment.Status.PENDING
        if not self.has_approved_comment(comment.author_email):
            return Comment.Status.PENDING
        return Comment.Status.APPROVED

    def check_rate(self, comment: Comment) -> None:
        """Take this IP's turn, or refuse: a minimum interval and an hourly cap per IP address.

        cache.add and cache.incr are atomic on Redis, so app servers sharing it count together.
        While Redis is unreachable, django-redis answers None (IGNORE_EXCEPTIONS) and the stored
        comments are counted instead."""
        if self.is_trusted(comment):
            return
        # Requests without a usable address (a misconfigured proxy count) share one allowance.
        address = comment.ip_address or "unknown"
        interval = settings.SPACES_COMMENT_MIN_INTERVAL
        if interval > 0:
            taken = cache.add(f"comments:ip:{address}:last", 1, interval)
            if taken is None:
                return self.check_rate_in_database(comment)
            if not taken:
                raise too_soon(interval)
        limit = settings.SPACES_COMMENT_HOURLY_LIMIT
        if limit <= 0:
            return
        key = f"comments:ip:{address}:hour"
        cache.add(key, 0, 3600)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr: a new hour starts with this comment
            cache.set(key, count := 1, 3600)
        if count is None:
            return self.check_rate_in_database(comment)
        if count > limit:
            raise too_many(limit)

    def check_rate_in_database(self, comment: Comment) -> None:
        """The same limits, counting this address's stored comments: slower, but never refusing
        everyone while the shared cache is down."""
        logger.warning("The cache is unreachable; counting comments per IP in the database.")
        recent = Comment.objects.filter(ip_address=comment.ip_address)
        interval = settings.SPACES_COMMENT_MIN_INTERVAL
        since = timezone.now() - timedelta(seconds=interval)
        if interval > 0 and recent.filter(created_at__gt=since).exists():
            raise too_soon(interval)
        limit = settings.SPACES_COMMENT_HOURLY_LIMIT
        since = timezone.now() - timedelta(hours=1)
        if limit > 0 and recent.filter(created_at__gt=since).count() >= limit:
            raise too_many(limit)

    def is_blocked(self, comment: Comment) -> bool:
        """Whether an IP address, word or domain of SPACES_COMMENT_BLOCKLIST matches."""
        text = "\n".join(
            [
                comment.author_name,
                comment.author_email,
                comment.author_url,
                comment.body,
                comment.user_agent,
            ]
        ).casefold()
        for entry in settings.SPACES_COMMENT_BLOCKLIST:
            try:
                network = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                if entry.casefold() in text:
                    return True
            else:
                if comment.ip_address and ipaddress.ip_address(comment.ip_address) in network:
                    return True
        return False

    def link_count(self, comment: Comment) -> int:
        return len(_LINK_RE.findall(comment.body))

    def has_approved_comment(self, email: str) -> bool:
        """The seed site's "whitelist": an e-mail address with an approved comment is known."""
        return Comment.objects.filter(author_email=email, status=Comment.Status.APPROVED).exists()

    def akismet_says_spam(self, comment: Comment, request: HttpRequest | None) -> bool:
        """Ask Akismet when a key is configured; any failure counts as "not spam"."""
        if not settings.AKISMET_API_KEY:
            return False
        blog = settings.SPACES_BASE_URL or (request.build_absolute_uri("/") if request else "")
        data = {
            "blog": blog,
            "user_ip": comment.ip_address or "",
            "user_agent": comment.user_agent,
            "referrer": request.headers.get("Referer", "") if request else "",
            "permalink": blog.rstrip("/") + comment.post.get_absolute_url(),
            "comment_type": "reply" if comment.parent_id else "comment",
            "comment_author": comment.author_name,
            "comment_author_email": comment.author_email,
            "comment_author_url": comment.author_url,
            "comment_content": comment.body,
            "blog_lang": settings.LANGUAGE_CODE,
        }
        url = f"https://{settings.AKISMET_API_KEY}.rest.akismet.com/1.1/comment-check"
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, data=urllib.parse.urlencode(data).encode()),
                timeout=AKISMET_TIMEOUT,
            ) as response:
                answer = response.read(64).decode("ascii", "replace").strip()
        except (OSError, ValueError):
            logger.warning("Akismet check failed; moderating without it.", exc_info=True)
            return False
        return answer == "true"


moderator = CommentModerator()

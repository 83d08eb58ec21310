"""What the site remembers about a commenter: their own comments, their details, their IP, and
where their request came from."""

import ipaddress
import json
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from blog.site import base_url
from comments.models import Comment

SESSION_KEY = "comments_mine"
OWN_LIMIT = 50
COOKIE = "spaces_commenter"
COOKIE_SALT = "comments.commenter"
COOKIE_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Origin:
    """What comment services need of the request behind a write, taken in the view: the site's
    base URL (links in mail, Akismet's blog) and the page the writer came from (Akismet)."""

    base_url: str
    referrer: str = ""

    @classmethod
    def of(cls, request: HttpRequest) -> "Origin":
        return cls(base_url=base_url(request), referrer=request.headers.get("Referer", ""))


def own_comment_ids(request: HttpRequest) -> list[int]:
    """Ids of the comments this browser wrote lately, which it may see while they await review."""
    # Reading an absent session would still mark the response as varying on the cookie.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return []
    ids = request.session.get(SESSION_KEY, [])
    return [pk for pk in ids if isinstance(pk, int)]


def viewer_id(request: HttpRequest) -> int | None:
    """The logged-in user's id, who may change their own comments from any browser."""
    return request.user.pk if request.user.is_authenticated else None


def remember_comment(request: HttpRequest, comment: Comment) -> None:
    ids = [pk for pk in own_comment_ids(request) if pk != comment.pk]
    request.session[SESSION_KEY] = [*ids, comment.pk][-OWN_LIMIT:]


def remembered_commenter(request: HttpRequest) -> dict[str, str]:
    """Name, e-mail and website an anonymous reader used last time (an HttpOnly cookie)."""
    raw = request.get_signed_cookie(COOKIE, default=None, salt=COOKIE_SALT)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    fields = ("author_name", "author_email", "author_url")
    return {key: data[key] for key in fields if isinstance(data.get(key), str)}


def remember_commenter(response: HttpResponse, comment: Comment) -> None:
    data = {
        "author_name": comment.author_name,
        "author_email": comment.author_email,
        "author_url": comment.author_url,
    }
    response.set_signed_cookie(
        COOKIE,
        json.dumps(data),
        salt=COOKIE_SALT,
        max_age=COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or the entry SPACES_PROXY_COUNT proxies from the end
    of X-Forwarded-For (entries further left are whatever the client claimed)."""
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.SPACES_PROXY_COUNT
    if proxies > 0:
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
        hops = [hop for hop in hops if hop]
        address = hops[-proxies] if len(hops) >= proxies else ""
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None

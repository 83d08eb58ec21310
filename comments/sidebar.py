"""The 最近评论 sidebar: the newest approved comments site-wide, cached per version of the
SITE and COMMENTS scopes.

Every comment write that changes what it lists (approving, rejecting, editing, moving or
deleting an approved comment) renews COMMENTS (comments/services.py); a post turning back into
a draft renews SITE.
"""

from blog.caching.values import cached
from blog.caching.version import COMMENTS, SITE
from comments.models import Comment

SIZE = 10
EXCERPT_LENGTH = 47


def recent_comments() -> list[dict]:
    """`name`, `excerpt` (HTML, formulas whole for MathJax) and `url` of the newest approved
    comments: one query on a cache miss."""
    return cached("recent-comments", _newest, scopes=(SITE, COMMENTS))


def _newest() -> list[dict]:
    return [
        {
            "name": comment.author_name,
            "excerpt": comment.shortened(EXCERPT_LENGTH).html(),
            "url": comment.get_absolute_url(),
        }
        for comment in Comment.objects.for_sidebar()[:SIZE]
    ]

from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext as _

from blog.models import Post
from blog.site import absolute_url
from comments.models import Comment

SITE_ITEMS = 30
POST_ITEMS = 50


class LatestCommentsFeed(Feed):
    """The newest approved comments on published posts, site-wide (RSS 2.0)."""

    def title(self) -> str:
        return _("%(site)s 的最近评论") % {"site": settings.SPACES_SITE_NAME}

    def link(self) -> str:
        # Relative links get the request's host from the syndication framework.
        return absolute_url(None, reverse("blog:post_list"))

    def description(self) -> str:
        return self.title()

    def items(self) -> QuerySet:
        return Comment.objects.for_feed()[:SITE_ITEMS]

    def item_title(self, comment: Comment) -> str:
        return _("%(name)s 评论《%(title)s》") % {
            "name": comment.author_name,
            "title": comment.post.title,
        }

    def item_description(self, comment: Comment) -> str:
        return comment.body_html

    def item_link(self, comment: Comment) -> str:
        return absolute_url(None, comment.get_absolute_url())

    def item_author_name(self, comment: Comment) -> str:
        return comment.author_name

    def item_pubdate(self, comment: Comment) -> datetime:
        return comment.created_at


class LatestCommentsAtomFeed(LatestCommentsFeed):
    feed_type = Atom1Feed

    def subtitle(self) -> str:
        return self.title()


class PostCommentsFeed(LatestCommentsFeed):
    """Approved comments of one published post, newest first."""

    def get_object(self, request: HttpRequest, pk: int) -> Post:
        return get_object_or_404(
            Post.objects.published().only("id", "title", "kind", "slug"), pk=pk
        )

    def title(self, post: Post) -> str:
        return _("《%(title)s》的评论") % {"title": post.title}

    def link(self, post: Post) -> str:
        return absolute_url(None, post.get_absolute_url())

    def description(self, post: Post) -> str:
        return self.title(post)

    def items(self, post: Post) -> QuerySet:
        return Comment.objects.for_feed().filter(post=post)[:POST_ITEMS]

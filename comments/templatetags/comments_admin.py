"""The admin's front page: how many comments wait for this user."""

from django import template

from comments.models import Comment

register = template.Library()


@register.inclusion_tag("admin/comments/_pending_notice.html")
def pending_comments_notice(user) -> dict:
    """How many pending comments `user` moderates (authors: on their own posts)."""
    if not user.has_perm("comments.view_comment"):
        return {"hidden": True}
    return {"count": Comment.objects.moderated_by(user).pending().count()}

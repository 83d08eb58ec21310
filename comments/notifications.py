"""Mail about comments, sent after the transaction that stored them has committed.

A failure to send is logged and never undoes or blocks the comment."""

import logging

from django.core import signing
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from blog.models import Author
from comments.models import Comment

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "comments.unsubscribe"


def unsubscribe_token(comment: Comment) -> str:
    return signing.dumps(comment.pk, salt=UNSUBSCRIBE_SALT)


def comment_for_token(token: str) -> Comment | None:
    """The comment an unsubscribe link was made for, or None for a forged or stale link."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return Comment.objects.filter(pk=pk).first() if isinstance(pk, int) else None


def notify_authors(comment_id: int, base_url: str) -> None:
    """Tell the post's authors about a new comment (except an author who wrote it)."""
    comment = Comment.objects.select_related("post").filter(pk=comment_id).first()
    if comment is None:
        return
    recipients = sorted(
        {
            email
            for email in Author.objects.filter(post_links__post=comment.post_id).values_list(
                "user__email", flat=True
            )
            if email and email.lower() != comment.author_email.lower()
        }
    )
    if not recipients:
        return
    context = {
        "comment": comment,
        "post": comment.post,
        "comment_url": base_url + comment.get_absolute_url(),
        "admin_url": base_url + reverse("admin:comments_comment_change", args=[comment.pk]),
    }
    subject = _("《%(title)s》有新评论") % {"title": comment.post.title}
    body = render_to_string("comments/email/new_comment.txt", context)
    _send([EmailMessage(subject, body, to=[email]) for email in recipients])


def notify_parents(comment_ids: list[int], base_url: str) -> None:
    """Tell writers who asked for it that someone replied to them, with a one-click opt-out."""
    messages = []
    for reply in Comment.objects.select_related("post", "parent").filter(pk__in=comment_ids):
        parent = reply.parent
        unsubscribe_url = base_url + reverse(
            "comments:unsubscribe", kwargs={"token": unsubscribe_token(parent)}
        )
        context = {
            "reply": reply,
            "parent": parent,
            "post": reply.post,
            "reply_url": base_url + reply.get_absolute_url(),
            "unsubscribe_url": unsubscribe_url,
        }
        messages.append(
            EmailMessage(
                _("%(name)s 回复了您在《%(title)s》下的评论")
                % {"name": reply.author_name, "title": reply.post.title},
                render_to_string("comments/email/reply.txt", context),
                to=[parent.author_email],
                headers={
                    "List-Unsubscribe": f"<{unsubscribe_url}>",
                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                },
            )
        )
    _send(messages)


def _send(messages: list[EmailMessage]) -> None:
    if not messages:
        return
    try:
        get_connection(fail_silently=False).send_messages(messages)
    except Exception:
        # The comment is already stored; a mail server being down must not turn into an error.
        logger.exception("Could not send %d comment notification(s)", len(messages))

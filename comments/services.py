"""Every comment write: the tree, the post's comment count, the sidebar and the mail, together.

django-mptt rewrites lft/rght/tree_id of many rows per insert, move or delete and corrupts trees
when two such writes interleave, so each write runs in one transaction under a lock that
serialises them: a transaction-level advisory lock on PostgreSQL; on SQLite the database is
configured for IMMEDIATE transactions, which take the write lock at BEGIN.
"""

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from blog.caching.version import COMMENTS, content_changed, post_scope
from blog.models import Author, Post
from blog.site import base_url
from comments import notifications
from comments.models import Comment, CommentRevision, editable_until
from comments.moderation import Refused, moderator
from comments.visitors import Origin

# Arbitrary but fixed: the advisory-lock key every comment tree write takes on PostgreSQL.
TREE_LOCK_KEY = 0x5350_4143_4553
# Same writer, post, parent and text within this window: a double submit, stored once.
DUPLICATE_WINDOW = timedelta(minutes=10)


@contextmanager
def tree_lock() -> Iterator[None]:
    """A transaction in which no other comment write runs."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [TREE_LOCK_KEY])
        yield


def submit_comment(comment: Comment, parent_id: int | None, origin: Origin) -> Comment:
    """Moderate and store a reader's comment; a double submit returns the comment stored first.

    Raises Refused, with nothing written, for a reply that is not allowed or a rate limit."""
    # The policy may call Akismet over the network: decided before the lock is taken.
    status = moderator.status_for(comment, origin)
    with tree_lock():
        duplicate = (
            Comment.objects.filter(
                post=comment.post,
                parent_id=parent_id,
                author_email=comment.author_email,
                body=comment.body,
                created_at__gte=timezone.now() - DUPLICATE_WINDOW,
            )
            .order_by("-pk")
            .first()
        )
        if duplicate is not None:
            return duplicate
        comment.parent = reply_target(comment.post, parent_id)
        moderator.check_rate(comment)
        comment.status = status
        comment.created_at = timezone.now()
        _store(comment)
        _after_commit(origin, new=comment, approved=[comment.pk] if comment.is_approved else [])
    return comment


def store_comment(comment: Comment) -> Comment:
    """Insert a comment with the status it has, under the tree lock, counted on its post if
    approved: no moderation and no mail (imports, fixtures)."""
    with tree_lock():
        _store(comment)
    return comment


def _store(comment: Comment) -> None:
    comment.save()
    if comment.is_approved:
        _add_to_counts(Counter({comment.post_id: 1}))


def reply_target(post: Post, parent_id: int | None) -> Comment | None:
    """The comment a reply goes under, or Refused when it may not be replied to."""
    if parent_id is None:
        return None
    parent = Comment.objects.filter(pk=parent_id, post=post).first()
    if parent is None:
        raise Refused(_("要回复的评论不存在。"))
    if not parent.is_approved:
        raise Refused(_("这条评论尚未通过审核或已被删除，暂时不能回复。"))
    if not parent.can_be_replied_to:
        raise Refused(_("回复的层数已达上限，请引用这条评论来回复。"))
    return parent


def reply_as_author(parent: Comment, body: str, user: AbstractBaseUser, origin: Origin) -> Comment:
    """A reply from the admin, made as the person replying: approved at once.

    It carries their own name and user, so it wears the author badge only when they are one of
    the post's authors. Replying to a pending comment approves it; past the deepest level the
    reply goes under the nearest ancestor that takes replies and quotes the comment."""
    profile = Author.objects.filter(user=user.pk).first()
    with tree_lock():
        parent = Comment.objects.get(pk=parent.pk)
        if parent.status == Comment.Status.PENDING:
            set_status([parent.pk], Comment.Status.APPROVED, origin)
            parent.status = Comment.Status.APPROVED
        if not parent.is_approved:
            raise Refused(_("只能回复已批准或待审核的评论。"))
        target = parent
        while target is not None and not target.can_be_replied_to:
            target = target.parent
        if target != parent:
            body = f"{parent.quote_markup} {body}"
        reply = Comment(
            post_id=parent.post_id,
            parent=target,
            author_name=replier_name(user, profile),
            author_email=user.email or "",
            author_url=profile.website if profile else "",
            user=user,
            body=body,
            status=Comment.Status.APPROVED,
        )
        _store(reply)
        _after_commit(origin, new=reply, approved=[reply.pk])
    return reply


def replier_name(user: AbstractBaseUser, profile: Author | None) -> str:
    """The name a reply from the admin is signed with: the writer's profile, else their account."""
    if profile is not None:
        return profile.display_name
    return (user.get_full_name() or user.get_username())[:64]


def set_status(ids: Iterable[int], status: str, origin: Origin | None = None) -> int:
    """Change the status of the given comments; returns how many changed."""
    with tree_lock():
        rows = list(
            Comment.objects.filter(pk__in=list(ids))
            .exclude(status=status)
            .values_list("pk", "post_id", "status")
        )
        if not rows:
            return 0
        Comment.objects.filter(pk__in=[pk for pk, _post, _old in rows]).update(status=status)
        approved = Comment.Status.APPROVED
        deltas = Counter()
        for _pk, post_id, old in rows:
            deltas[post_id] += (status == approved) - (old == approved)
        _add_to_counts(deltas)
        _after_commit(origin, approved=[pk for pk, _post, _old in rows if status == approved])
    return len(rows)


def check_move(comment: Comment, parent: Comment | None) -> None:
    """Refuse a move that leaves the post, makes a cycle, or nests too deep."""
    if parent is None:
        return
    if parent.post_id != comment.post_id:
        raise Refused(_("只能移到同一篇文章的评论下。"))
    if parent.tree_id == comment.tree_id and comment.lft <= parent.lft <= comment.rght:
        raise Refused(_("不能移到自己或自己的回复下面。"))
    deepest = comment.get_descendants().order_by("-level").values_list("level", flat=True).first()
    # Levels count from 0 in the tree but from 1 in SPACES_COMMENT_MAX_DEPTH.
    depth = parent.level + 2 + ((deepest or comment.level) - comment.level)
    if depth > settings.SPACES_COMMENT_MAX_DEPTH:
        raise Refused(_("移动后回复层数将超过上限。"))


def move_comment(comment: Comment, parent: Comment | None) -> None:
    """Put a comment and its replies under another comment of its post, or make it a thread."""
    with tree_lock():
        comment = Comment.objects.get(pk=comment.pk)
        parent = Comment.objects.get(pk=parent.pk) if parent else None
        if comment.parent_id == (parent.pk if parent else None):
            return
        check_move(comment, parent)
        Comment.objects.move_node(comment, parent, "last-child")
        comments_changed([comment.post_id])  # its article shows the threads


def delete_comments(ids: Iterable[int]) -> int:
    """Delete comments with their replies; returns how many rows went."""
    deleted = 0
    with tree_lock():
        deltas = Counter()
        for pk in ids:
            comment = Comment.objects.filter(pk=pk).first()
            if comment is None:  # already gone with an ancestor deleted before it
                continue
            subtree = comment.get_descendants(include_self=True)
            approved = subtree.filter(status=Comment.Status.APPROVED).count()
            deleted += subtree.count()
            comment.delete()
            deltas[comment.post_id] -= approved
        _add_to_counts(deltas)
    return deleted


# How strictly a status holds a comment back: an edit never loosens its comment's status.
_STRICTNESS = [Comment.Status.APPROVED, Comment.Status.PENDING, Comment.Status.SPAM]


def check_editable(comment: Comment) -> None:
    """Refuse, with a 403, a writer's change to a comment past the edit window or deleted."""
    if comment.status == Comment.Status.REMOVED:
        raise Refused(_("这条评论已删除。"), status=403)
    if timezone.now() >= editable_until(comment.created_at):
        minutes = settings.SPACES_COMMENT_EDIT_SECONDS // 60
        raise Refused(
            _("评论发表超过 %(minutes)d 分钟后就不能再修改或删除了。") % {"minutes": minutes},
            status=403,
        )


def edit_comment(comment: Comment, body: str, origin: Origin | None = None) -> Comment:
    """The writer's new text for their comment: the old text is kept as a revision, and the
    comment is held again when the moderation policy would hold the new text."""
    check_editable(comment)
    comment.body = body
    policy = moderator.status_for(comment, origin)  # may call Akismet: before the lock
    with tree_lock():
        current = Comment.objects.get(pk=comment.pk)
        check_editable(current)
        CommentRevision.objects.create(comment=current, body=current.body, status=current.status)
        current.body, current.edited_at = body, timezone.now()
        current.save(update_fields=["body", "edited_at"])
        status = max(current.status, policy, key=_STRICTNESS.index)
        if status != current.status:
            set_status([current.pk], status)
            current.status = status
        comments_changed([current.post_id])  # its article and the sidebar show the text
    return current


def delete_own_comment(comment: Comment) -> None:
    """The writer deletes their comment: removed (its replies stay, under a placeholder)."""
    check_editable(comment)
    set_status([comment.pk], Comment.Status.REMOVED)


def unsubscribe(comment: Comment) -> int:
    """Stop reply notifications for every comment written with this comment's e-mail address."""
    return Comment.objects.filter(author_email=comment.author_email, notify_replies=True).update(
        notify_replies=False
    )


def comments_changed(post_ids: Iterable[int]) -> None:
    """What readers see of these posts' comments changed: renew their own pages and the pages
    and widgets showing comments of many posts (blog.caching.version), once the write commits."""
    content_changed(COMMENTS, *map(post_scope, post_ids))


def _add_to_counts(deltas: Counter) -> None:
    changed = [post_id for post_id, delta in deltas.items() if delta]
    for post_id in changed:
        Post.objects.filter(pk=post_id).update(comment_count=F("comment_count") + deltas[post_id])
    if changed:
        comments_changed(changed)  # threads, counts, the sidebar


def _after_commit(
    origin: Origin | None, new: Comment | None = None, approved: Iterable[int] = ()
) -> None:
    """Send the mail once the transaction has committed (links on `origin`'s base URL, else on
    SPACES_BASE_URL)."""
    base = origin.base_url if origin else base_url(None)
    notify_parent = list(
        Comment.objects.filter(
            pk__in=approved,
            status=Comment.Status.APPROVED,
            parent_notified=False,
            parent__notify_replies=True,
        )
        .exclude(author_email=F("parent__author_email"))
        .values_list("pk", flat=True)
    )
    if notify_parent:
        Comment.objects.filter(pk__in=notify_parent).update(parent_notified=True)
    if new is not None and new.status != Comment.Status.SPAM:
        transaction.on_commit(lambda: notifications.notify_authors(new.pk, base))
    if notify_parent:
        transaction.on_commit(lambda: notifications.notify_parents(notify_parent, base))

"""A post's revisions and its editors' autosaves: record, compare, restore."""

import difflib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from blog.models import Author, Category, Post, PostAuthor, PostAutosave, PostRevision, Tag
from blog.services import sync_citations

# Fields a revision copies from the post itself; bylines, categories and tags come as pairs.
TEXT_FIELDS = ["title", "body", "excerpt", "format", "status", "published_at"]
# What a restore puts back: the text and its labels, never whether or when it is published.
RESTORED_FIELDS = ["title", "body", "excerpt", "format"]
DIFF_WRAP_COLUMN = 70


def snapshot(post: Post) -> dict:
    """The post's state as stored now, in PostRevision's fields (bylines in order)."""
    links = PostAuthor.objects.filter(post=post).select_related("author").order_by("order", "id")
    return {
        **{name: getattr(post, name) for name in TEXT_FIELDS},
        "bylines": [[link.author_id, link.author.display_name] for link in links],
        "categories": [[c.pk, c.name] for c in post.categories.order_by("name")],
        "tags": [[t.pk, t.name] for t in post.tags.order_by("name")],
    }


def record_revision(post: Post, user, note: str = "") -> PostRevision | None:
    """Keep the post's saved state as a revision, unless it is the same as the latest one."""
    state = snapshot(post)
    latest = post.revisions.order_by("-created_at", "-id").first()
    if latest and not note and all(getattr(latest, k) == v for k, v in state.items()):
        return None
    return PostRevision.objects.create(post=post, user=user, note=note, **state)


def record_baseline(post_id: int) -> None:
    """Before a post's first recorded save, keep the state it had (posts older than revisions)."""
    if PostRevision.objects.filter(post_id=post_id).exists():
        return
    if stored := Post.objects.filter(pk=post_id).first():
        record_revision(stored, None, note=_("开始记录修订之前的版本"))


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


def _names(pairs: list) -> str:
    return "，".join(name for _pk, name in pairs) or "—"


def _describe(state: dict, name: str) -> str:
    value = state[name]
    if name in {"bylines", "categories", "tags"}:
        return _names(value)
    if name == "status":
        return str(Post.Status(value).label)
    if name == "format":
        return str(Post.Format(value).label)
    if name == "published_at":
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value


def field_changes(revision: PostRevision, post: Post) -> list[Change]:
    """The fields other than the body in which a revision differs from the post as it is now."""
    names = [*TEXT_FIELDS, "bylines", "categories", "tags"]
    old = {name: getattr(revision, name) for name in names}
    new = snapshot(post)
    changes = []
    for name in ["title", "status", "published_at", "format", "bylines", "categories", "tags"]:
        if _describe(old, name) != _describe(new, name):
            label = str(PostRevision._meta.get_field(name).verbose_name)
            changes.append(Change(label, _describe(old, name), _describe(new, name)))
    if old["excerpt"] != new["excerpt"]:
        label = str(PostRevision._meta.get_field("excerpt").verbose_name)
        changes.append(Change(label, old["excerpt"] or "—", new["excerpt"] or "—"))
    return changes


def text_diff(old: str, new: str, old_label: str, new_label: str) -> SafeString:
    """A side-by-side table of the lines that differ, escaped by difflib."""
    if old == new:
        return format_html('<p class="spaces-diff-same">{}</p>', _("正文没有差异。"))
    table = difflib.HtmlDiff(wrapcolumn=DIFF_WRAP_COLUMN).make_table(
        old.splitlines(),
        new.splitlines(),
        escape(old_label),
        escape(new_label),
        context=True,
        numlines=3,
    )
    # HtmlDiff escapes every line of text (&, <, >) but not the labels, escaped above.
    return mark_safe(table)


def restore_revision(revision: PostRevision, user) -> PostRevision:
    """Put a revision's text, bylines, categories and tags back; the restore is a new revision.

    Authors, categories and tags deleted since are left out; publication is not changed.
    """
    post = revision.post
    with transaction.atomic():
        record_baseline(post.pk)
        for name in RESTORED_FIELDS:
            setattr(post, name, getattr(revision, name))
        post.save()
        author_ids = [pk for pk, _name in revision.bylines]
        existing = set(Author.objects.filter(pk__in=author_ids).values_list("pk", flat=True))
        if kept := [pk for pk in author_ids if pk in existing]:
            PostAuthor.objects.filter(post=post).delete()
            PostAuthor.objects.bulk_create(
                PostAuthor(post=post, author_id=pk, order=order) for order, pk in enumerate(kept)
            )
        post.categories.set(Category.objects.filter(pk__in=[pk for pk, _n in revision.categories]))
        post.tags.set(Tag.objects.filter(pk__in=[pk for pk, _n in revision.tags]))
        sync_citations(post)
        when = timezone.localtime(revision.created_at).strftime("%Y-%m-%d %H:%M:%S")
        return record_revision(post, user, note=_("恢复自 %(time)s 的修订") % {"time": when})


def save_autosave(post: Post | None, user, title: str, body: str) -> PostAutosave:
    """Keep what a user's editor holds for a post (None: a new post); one record per pair."""
    autosave, _created = PostAutosave.objects.update_or_create(
        post=post, user=user, defaults={"title": title, "body": body, "saved_at": timezone.now()}
    )
    return autosave


def offered_autosave(post: Post | None, user) -> PostAutosave | None:
    """The user's autosave worth offering: newer than the saved post and with other text."""
    autosave = PostAutosave.objects.filter(post=post, user=user).first()
    if autosave is None or post is None:
        return autosave
    if autosave.saved_at <= post.updated_at or (autosave.title, autosave.body) == (
        post.title,
        post.body,
    ):
        return None
    return autosave


def discard_autosave(post: Post | None, user) -> None:
    PostAutosave.objects.filter(post=post, user=user).delete()

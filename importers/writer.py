"""Store what a reader produced (importers.core items): users, terms, then each post with its
comments in a transaction of its own, attachments and old addresses; returns the report.

Everything is keyed by the source's own ids through ImportedObject, so running the same import
again updates what it made instead of adding copies.
"""

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max

from blog.caching.version import content_changed
from blog.counting.batches import raise_total_views
from blog.models import Author, Category, Post, PostAuthor, Tag, unicode_slug
from blog.services import sync_citations
from comments.models import Comment
from comments.services import tree_lock
from importers import trees
from importers.core import (
    AttachmentItem,
    BadItem,
    CommentItem,
    PostItem,
    Report,
    Source,
    TermItem,
    UserItem,
)
from importers.models import Attachment, ImportedObject
from importers.redirects import add_redirects

# Which group each role joins; "admin" makes a superuser instead.
ROLE_GROUPS = {"editor": "Editors", "author": "Authors", "contributor": "Contributors"}
IMPORTED_HASHES = ("phpass$", "typecho_md5$")
COMMENT_FIELDS = [
    "author_name",
    "author_email",
    "author_url",
    "user",
    "body",
    "body_html",
    "status",
    "ip_address",
    "user_agent",
    "created_at",
]
TREE_FIELDS = ["parent", "tree_id", "lft", "rght", "level"]
# Removed comments come from Spaces' own export (they keep their place in a thread).
COMMENT_STATUSES = set(Comment.Status)


class ItemFailed(Exception):
    """One item cannot be stored; the reason is reported and the run goes on."""


class _DryRun(Exception):
    pass


def import_site(
    source: Source,
    *,
    dry_run: bool = False,
    keep_pingbacks: bool = False,
    progress: Callable[[Iterator, int], Iterable] = lambda items, total: items,
) -> Report:
    """Import everything `source` has; a dry run does the same and then rolls it all back."""
    writer = _Writer(source, Report(), keep_pingbacks)
    try:
        with transaction.atomic() if dry_run else nullcontext():
            writer.users()
            writer.terms()
            writer.posts(progress(source.posts(), source.post_count()))
            writer.attachments()
            writer.site_redirects()
            if dry_run:
                raise _DryRun
    except _DryRun:
        return writer.report
    reset_sequences()
    for post in Post.objects.filter(pk__in=writer.post_ids).only("pk", "body_html"):
        # After all posts, so that links to posts imported later find them.
        sync_citations(post)
    content_changed()
    return writer.report


def import_comments(
    source_name: str, post: Post, items: list[CommentItem], users: dict[str, int]
) -> Report:
    """Store one post's comments as `import_site` does (ids kept, threads placed, counts right);
    `users` maps each item's `user` key to a user id of this site."""
    writer = _Writer(SimpleNamespace(name=source_name, renumber=False), Report(), True)
    writer.ids["user"].update(users)
    with tree_lock():
        writer.comments(post, items)
    return writer.report


def reset_sequences() -> None:
    """After explicit ids, the next automatic ids follow the largest ones (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), [Post, Comment])
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _web_url(value: str) -> str:
    value = value.strip()
    return value if value.startswith(("http://", "https://")) and len(value) <= 200 else ""


class _Writer:
    def __init__(self, source: Source, report: Report, keep_pingbacks: bool) -> None:
        self.source = source
        self.report = report
        self.keep_pingbacks = keep_pingbacks
        self.post_ids: list[int] = []
        self.views: dict[int, int] = {}  # the imported posts' reads, written after them
        # What `remember` changed during the current item, undone when that item fails.
        self.journal: list[tuple[str, str, int | None]] = []
        self.ids = {
            kind: dict(
                ImportedObject.objects.filter(source=source.name, kind=kind).values_list(
                    "key", "object_id"
                )
            )
            for kind in ("user", "category", "tag", "post", "comment", "attachment")
        }

    def remember(self, kind: str, pairs: Iterable[tuple[str, int]]) -> None:
        rows = [
            ImportedObject(source=self.source.name, kind=kind, key=key, object_id=pk)
            for key, pk in pairs
        ]
        ImportedObject.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["source", "kind", "key"],
            update_fields=["object_id"],
        )
        for key, pk in pairs:
            self.journal.append((kind, key, self.ids[kind].get(key)))
            self.ids[kind][key] = pk

    def forget_item(self) -> None:
        """Undo the mappings of an item whose transaction was rolled back."""
        for kind, key, before in reversed(self.journal):
            if before is None:
                self.ids[kind].pop(key, None)
            else:
                self.ids[kind][key] = before
        self.journal.clear()

    def each(self, kind: str, items: Iterable, write: Callable) -> None:
        """Write items one by one, each in a savepoint; a failure is reported, the rest go on."""
        for item in items:
            if isinstance(item, BadItem):
                self.report.failed(f"{item.kind} {item.key}", item.reason)
                continue
            self.journal.clear()
            try:
                with transaction.atomic():
                    write(item)
            except Exception as error:  # one bad row must not stop the import
                self.forget_item()
                reason = str(error) if isinstance(error, ItemFailed) else _described(error)
                self.report.failed(f"{kind} {item.key}", reason)

    # --- Users ----------------------------------------------------------------------------------

    def users(self) -> None:
        with transaction.atomic():
            self.each("user", self.source.users(), self.user)

    def user(self, item: UserItem) -> None:
        user_model = get_user_model()
        user = user_model.objects.filter(pk=self.ids["user"].get(item.key)).first()
        label = f"user {item.key} ({item.username})"
        if user is None:
            user = user_model.objects.filter(username=item.username).first()
            if user and item.email and user.email.lower() == item.email.lower():
                self.report.changed(label, "matches an account of this site: linked, unchanged")
                self.remember("user", [(item.key, user.pk)])
                self.author(user, item)
                return
            username = item.username
            if user is not None:
                username = f"{item.username}-{self.source.name}"
                self.report.changed(label, f"username taken here: imported as {username}")
            user = user_model(username=username)
        user.email = item.email
        user.date_joined = item.joined or user.date_joined
        user.last_login = item.last_login or user.last_login
        if (
            user._state.adding
            or not user.has_usable_password()
            or user.password.startswith(IMPORTED_HASHES)
        ):
            user.password = item.password  # never undo a password changed here since
            if not item.password:
                user.set_unusable_password()
                self.report.changed(label, "password hash in an unknown format: must reset it")
        user.is_superuser = user.is_superuser or item.role == "admin"
        user.is_staff = user.is_staff or item.role in {"admin", *ROLE_GROUPS}
        user.save()
        if item.role in ROLE_GROUPS:
            user.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS[item.role])[0])
        self.remember("user", [(item.key, user.pk)])
        self.author(user, item)
        self.report.count("users")

    def author(self, user, item: UserItem) -> None:
        if not (item.is_author or item.role):
            return
        author = Author.objects.filter(user=user).first()
        if author is None:
            author = Author(user=user)
            slug = unicode_slug(item.username, f"author-{user.pk}")
            if Author.objects.filter(slug=slug).exists():
                slug = f"{slug}-{user.pk}"
            author.slug = slug
        author.display_name = (item.display_name or item.username)[:100]
        author.website = _web_url(item.url)
        author.save()
        add_redirects((path, author.get_absolute_url()) for path in item.old_paths)

    # --- Categories and tags --------------------------------------------------------------------

    def terms(self) -> None:
        items = list(self.source.terms())
        categories = [t for t in items if isinstance(t, TermItem) and t.kind == "category"]
        with transaction.atomic():
            self.each("term", [t for t in items if isinstance(t, BadItem)], self.term)
            # Parents before their children.
            self.each("category", _parents_first(categories), self.term)
            tags = [t for t in items if isinstance(t, TermItem) and t.kind == "tag"]
            self.each("tag", tags, self.term)

    def term(self, item: TermItem) -> None:
        model = Category if item.kind == "category" else Tag
        kind = item.kind
        label = f"{kind} {item.key} ({item.name})"
        name = item.name.strip()[:100]
        if not name:
            raise ItemFailed("no name")
        slug = unicode_slug(item.slug or name, kind)
        if item.slug and slug != item.slug:
            self.report.changed(label, f"slug {item.slug!r} → {slug!r}")
        term = model.objects.filter(pk=self.ids[kind].get(item.key)).first()
        if term is None:
            same = model.objects.filter(slug=slug).first()
            term = same or model.objects.filter(name=name).first()
            if term is not None:
                self.report.changed(label, f"merged with the existing {kind} {term.name!r}")
            else:
                term = model(slug=slug)
        term.name = name
        if model is Category:
            term.description = item.description
            term.order = max(item.order, 0)
            parent = self.ids["category"].get(item.parent) if item.parent else None
            if item.parent and parent is None:
                self.report.changed(label, f"parent {item.parent} not imported: top level")
            term.parent_id = parent if parent != term.pk else None
        term.save()
        self.remember(kind, [(item.key, term.pk)])
        add_redirects((path, term.get_absolute_url()) for path in item.old_paths)
        self.report.count("categories" if model is Category else "tags")

    # --- Posts and their comments ---------------------------------------------------------------

    def posts(self, items: Iterable[PostItem | BadItem]) -> None:
        self.each_post(items)
        # Never lowering reads counted here since the last run; all posts' at once.
        raise_total_views(self.views)

    def each_post(self, items: Iterable[PostItem | BadItem]) -> None:
        for item in items:
            if isinstance(item, BadItem):
                self.report.failed(f"{item.kind} {item.key}", item.reason)
                continue
            self.journal.clear()
            try:
                with tree_lock():
                    self.post(item)
            except Exception as error:  # one bad post must not stop the import
                self.forget_item()
                reason = str(error) if isinstance(error, ItemFailed) else _described(error)
                self.report.failed(f"post {item.key}", reason)

    def post(self, item: PostItem) -> None:
        label = f"post {item.key}"
        post = Post.objects.filter(pk=self.ids["post"].get(item.key)).first()
        created = post is None
        if created:
            pk = item.id
            if pk is not None and (taken := Post.objects.filter(pk=pk).first()):
                if not self.source.renumber:
                    raise ItemFailed(
                        f"id {pk} is already used by «{taken.title}», which this import did not "
                        "make; that post is left as it is and this one is not imported"
                    )
                pk = None
            if pk is None:
                pk = (Post.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
                if item.id is not None:
                    self.report.changed(label, f"id {item.id} is taken here: renumbered {pk}")
            post = Post(pk=pk)
        title = item.title.strip() or "(无标题)"
        if len(title) > 200:
            self.report.changed(label, "title cut to 200 characters")
        post.kind = item.kind
        post.title = title[:200]
        if item.slug:
            post.slug = unicode_slug(item.slug, "")[:200]
            if post.slug != item.slug:
                self.report.changed(label, f"slug {item.slug!r} → {post.slug!r}")
        post.status = item.status
        post.published_at = item.published_at
        post.format = item.format
        post.body = item.body
        post.excerpt = item.excerpt
        post.comments_enabled = item.comments_enabled
        post.menu_order = max(item.menu_order, 0)
        post.custom_fields = {**post.custom_fields, **item.custom_fields}
        post.save(force_insert=created)
        Post.objects.filter(pk=post.pk).update(
            created_at=item.published_at, updated_at=item.updated_at or item.published_at
        )
        self.byline(post, item)
        post.categories.set(self.known("category", item.categories, label))
        post.tags.set(self.known("tag", item.tags, label))
        self.comments(post, item.comments)
        add_redirects((path, post.get_absolute_url()) for path in item.old_paths)
        self.remember("post", [(item.key, post.pk)])
        self.post_ids.append(post.pk)
        if item.views:
            self.views[post.pk] = item.views
        for note in item.notes:
            self.report.changed(label, note)
        kind = "pages" if item.kind == Post.Kind.PAGE else "posts"
        self.report.count("drafts" if item.status != Post.Status.PUBLISHED else kind)
        if not created:
            self.report.count(f"{kind} updated")

    def known(self, kind: str, keys: list[str], label: str) -> list[int]:
        found = [self.ids[kind][key] for key in keys if key in self.ids[kind]]
        if len(found) < len(keys):
            missing = [key for key in keys if key not in self.ids[kind]]
            self.report.changed(label, f"unknown {kind} {', '.join(missing)} left out")
        return found

    def byline(self, post: Post, item: PostItem) -> None:
        users = self.known("user", item.authors, f"post {item.key}")
        authors = {a.user_id: a for a in Author.objects.filter(user_id__in=users)}
        post.post_authors.all().delete()
        PostAuthor.objects.bulk_create(
            PostAuthor(post=post, author=authors[user], order=order)
            for order, user in enumerate(dict.fromkeys(u for u in users if u in authors))
        )

    def comments(self, post: Post, items: list[CommentItem]) -> None:
        rows = Comment.objects.filter(post=post).only("pk", "parent_id", "tree_id", "created_at")
        existing = {c.pk: c for c in rows}
        ids = self.ids["comment"]
        wanted = [c.id for c in items if c.id is not None and c.key not in ids]
        taken = set(Comment.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        next_pk = None
        pk_of: dict[str, int] = {}
        chosen: list[tuple[CommentItem, Comment]] = []
        new: list[Comment] = []
        for item in items:
            label = f"comment {item.key}"
            if item.kind != "comment" and not self.keep_pingbacks:
                self.report.count(f"{item.kind}s skipped")
                continue
            if item.key in ids:
                comment = existing.get(ids[item.key])
                if comment is None:
                    self.report.changed(label, "deleted or moved here since the last run: left out")
                    continue
            else:
                pk = item.id
                if pk is None or pk in taken or pk in pk_of.values():
                    next_pk = next_pk or (Comment.objects.aggregate(n=Max("pk"))["n"] or 0) + 1
                    pk, next_pk = next_pk, next_pk + 1
                    if item.id is not None:
                        self.report.changed(label, f"id {item.id} is taken here: renumbered {pk}")
                comment = Comment(pk=pk, post=post)
                new.append(comment)
            self.fill(comment, item, label)
            pk_of[item.key] = comment.pk
            chosen.append((item, comment))
        parents = {pk: c.parent_id for pk, c in existing.items()}
        for item, comment in chosen:
            parent = pk_of.get(item.parent) if item.parent else None
            if item.parent and parent is None:
                self.report.changed(
                    f"comment {item.key}", f"replies to {item.parent}, which is missing: top level"
                )
            parents[comment.pk] = parent
        for pk in trees.break_cycles(parents):
            self.report.changed(f"comment {pk}", "its replies loop back to it: top level")
        self.place(post, parents, existing, [c for _, c in chosen])
        Comment.objects.bulk_create(new, batch_size=500)
        updated = [c for _, c in chosen if c.pk in existing]
        Comment.objects.bulk_update(updated, COMMENT_FIELDS + TREE_FIELDS, batch_size=500)
        self.remember("comment", [(item.key, comment.pk) for item, comment in chosen])
        approved = Comment.objects.filter(post=post, status=Comment.Status.APPROVED).count()
        Post.objects.filter(pk=post.pk).update(comment_count=approved)
        for _, comment in chosen:
            self.report.count(f"comments ({comment.status})")

    def fill(self, comment: Comment, item: CommentItem, label: str) -> None:
        comment.author_name = item.author_name.strip()[:64] or "匿名"
        comment.author_email = item.author_email.strip()[:254]
        comment.author_url = _web_url(item.author_url)
        if item.author_url.strip() and not comment.author_url:
            self.report.changed(label, "website is not an http(s) address: left out")
        comment.ip_address = _valid_ip(item.ip) if item.ip else None
        comment.user_agent = item.user_agent[:500]
        comment.user_id = self.ids["user"].get(item.user) if item.user else None
        comment.created_at = item.created
        comment.status = item.status if item.status in COMMENT_STATUSES else "pending"
        if comment.status != item.status:
            self.report.changed(label, f"status {item.status!r} → pending")
        comment.body = item.body
        comment.render()

    def place(
        self,
        post: Post,
        parents: dict[int, int | None],
        existing: dict[int, Comment],
        chosen: list[Comment],
    ) -> None:
        """Give the post's comments consistent tree columns (under the tree lock)."""
        created = {pk: c.created_at for pk, c in existing.items()}
        created.update((c.pk, c.created_at) for c in chosen)
        roots = {pk: c.tree_id for pk, c in existing.items() if c.parent_id is None}
        last = Comment.objects.aggregate(n=Max("tree_id"))["n"] or 0
        counter = iter(range(last + 1, last + len(parents) + 2))
        placed = trees.places(
            parents, {pk: (created[pk], pk) for pk in parents}, roots, lambda: next(counter)
        )
        every = {**existing, **{c.pk: c for c in chosen}}
        for pk, place in placed.items():
            comment = every[pk]
            comment.parent_id = parents[pk]
            comment.tree_id, comment.lft, comment.rght = place.tree_id, place.lft, place.rght
            comment.level = place.level
        chosen_pks = {c.pk for c in chosen}
        moved = [c for pk, c in existing.items() if pk not in chosen_pks]
        Comment.objects.bulk_update(moved, TREE_FIELDS, batch_size=500)

    # --- Attachments and site-wide addresses ----------------------------------------------------

    def attachments(self) -> None:
        with transaction.atomic():
            self.each("attachment", self.source.attachments(), self.attachment)

    def attachment(self, item: AttachmentItem) -> None:
        record = Attachment.objects.filter(pk=self.ids["attachment"].get(item.key)).first()
        record = record or Attachment()
        record.post_id = self.ids["post"].get(item.post) if item.post else None
        record.title = item.title[:200]
        record.url = item.url[:500]
        record.path = item.path[:500]
        record.mime_type = item.mime_type[:100]
        record.size = max(item.size, 0)
        record.created_at = item.created
        record.save()
        self.remember("attachment", [(item.key, record.pk)])
        self.report.count("attachments")

    def site_redirects(self) -> None:
        self.report.count("site redirects", add_redirects(self.source.site_redirects()))


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}".strip()


def _parents_first(items: list[TermItem]) -> list[TermItem]:
    by_key = {item.key: item for item in items}
    ordered: dict[str, TermItem] = {}

    def visit(item: TermItem, seen: set[str]) -> None:
        if item.key in ordered or item.key in seen:
            return
        seen.add(item.key)
        if item.parent in by_key:
            visit(by_key[item.parent], seen)
        ordered[item.key] = item

    for item in items:
        visit(item, set())
    return list(ordered.values())

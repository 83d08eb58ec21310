import functools
import ipaddress
import re
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from mptt.models import MPTTModel, TreeForeignKey
from mptt.querysets import TreeQuerySet

from blog.compiled import Compiled, Params
from blog.models import Post, published_q
from blog.rendering import Profile, Shortened, plain_text, render_markdown, shorten

BODY_MAX_LENGTH = 20_000
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def strip_controls(text: str) -> str:
    """Drop control characters: nobody types them, and XML (the feeds) cannot carry them."""
    return _CONTROL_RE.sub("", text)


class CommentQuerySet(TreeQuerySet):
    """Read vocabulary for comments: only approved comments of public posts ever reach readers."""

    def moderated_by(self, user) -> "CommentQuerySet":
        """The comments `user` moderates: all with `moderate_any_comment` (editors, moderators),
        else those on the user's own posts (authors)."""
        if user.is_superuser or user.has_perm("comments.moderate_any_comment"):
            return self
        return self.filter(post__post_authors__author__user=user.pk)

    def pending(self) -> "CommentQuerySet":
        return self.filter(status=Comment.Status.PENDING)

    def approved(self) -> "CommentQuerySet":
        return self.filter(status=Comment.Status.APPROVED)

    def public(self) -> "CommentQuerySet":
        """Approved comments of published, already due posts."""
        return self.approved().filter(published_q("post__"))

    def for_sidebar(self) -> "CommentQuerySet":
        return self.public().only("id", "author_name", "body_html").order_by("-created_at", "-id")

    def for_feed(self) -> "CommentQuerySet":
        return (
            self.public()
            .select_related("post")
            .only("id", "author_name", "body_html", "created_at", "post__id", "post__title")
            .order_by("-created_at", "-id")
        )

    def thread_roots(self, post: Post, own_ids: list[int]) -> "CommentQuerySet":
        """Top-level comments that start a shown thread (tree ids grow with time: sort by them).

        A thread shows when any comment in it shows; a root that does not show itself stays
        as a placeholder so that its replies keep their place."""
        shown = shown_to(own_ids)
        shown_reply = Comment.objects.filter(shown, tree_id=OuterRef("tree_id"), level__gt=0)
        return self.filter(post=post, level=0).filter(shown | Exists(shown_reply))


class ThreadRow(NamedTuple):
    """A comment as thread pages read it (`Comment` field names; no private columns)."""

    pk: int
    parent_id: int | None
    level: int
    status: str
    user_id: int | None
    author_name: str
    author_url: str
    body_html: str
    created_at: datetime
    edited_at: datetime | None


def is_writer(pk: int, user_id: int | None, own_ids: list[int], viewer_id: int | None) -> bool:
    """Whether the viewer wrote comment `pk`: in this browser (its session), or as this user."""
    return pk in own_ids or (viewer_id is not None and user_id == viewer_id)


def takes_replies(status: str, level: int) -> bool:
    """Approved and not at the deepest level (nesting counts the top-level comment as 1)."""
    return status == Comment.Status.APPROVED and level + 1 < settings.SPACES_COMMENT_MAX_DEPTH


def quote_markup(pk: int, name: str) -> str:
    """The `[comment=ID]name[/comment]` quote that renders as an @name link to comment `pk`."""
    name = "".join(ch for ch in name if ch not in "[]\n").strip() or "#"
    return f"[comment={pk}]{name[:64]}[/comment]"


class Comment(MPTTModel):
    """A reader's comment on a post, possibly a reply to another comment of the same post."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已批准")
        SPAM = "spam", _("垃圾评论")
        REMOVED = "removed", _("已删除")

    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, related_name="comments", verbose_name=_("文章")
    )
    parent = TreeForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("回复给"),
    )
    author_name = models.CharField(_("名字"), max_length=64)
    author_email = models.EmailField(_("电子邮箱"), max_length=254)
    author_url = models.URLField(
        _("个人网站"),
        max_length=200,
        blank=True,
        default="",
        validators=[URLValidator(schemes=["http", "https"])],
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="comments",
        verbose_name=_("用户"),
    )
    body = models.TextField(_("评论内容"), max_length=BODY_MAX_LENGTH)
    body_html = models.TextField(editable=False, blank=True, default="")
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    notify_replies = models.BooleanField(_("有回复时邮件通知"), default=False)
    # Set once the parent's writer has been told about this reply, so re-approving stays quiet.
    parent_notified = models.BooleanField(default=False, editable=False)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器标识"), max_length=500, blank=True, default="")
    created_at = models.DateTimeField(_("发表时间"), default=timezone.now)
    edited_at = models.DateTimeField(_("修改时间"), null=True, blank=True, editable=False)

    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["tree_id", "lft"]
        verbose_name = _("评论")
        verbose_name_plural = _("评论")
        permissions = [("moderate_any_comment", _("Can moderate comments on any post"))]
        indexes = [
            models.Index(fields=["post", "level", "tree_id"], name="comment_post_roots_idx"),
            models.Index(fields=["status", "-created_at"], name="comment_status_created_idx"),
            models.Index(fields=["author_email", "status"], name="comment_email_status_idx"),
            models.Index(fields=["post", "-created_at"], name="comment_post_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["pending", "approved", "spam", "removed"]),
                name="comment_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(author_url="")
                | Q(author_url__startswith="http://")
                | Q(author_url__startswith="https://"),
                name="comment_author_url_http",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.excerpt(40)}"

    def save(self, *args, **kwargs) -> None:
        self.render()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "body" in update_fields:
            kwargs["update_fields"] = {*update_fields, "body_html"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("comments:permalink", kwargs={"pk": self.pk})

    def render(self) -> None:
        """Clean the body and fill its stored HTML (also for bulk writes, which skip `save`)."""
        self.body = strip_controls(self.body)
        self.body_html = render_markdown(self.body, Profile.COMMENT).html

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    @property
    def can_be_replied_to(self) -> bool:
        return takes_replies(self.status, self.level)

    @property
    def quote_markup(self) -> str:
        return quote_markup(self.pk, self.author_name)

    def shortened(self, length: int) -> Shortened:
        """About `length` characters of the body's text, cut between formulas."""
        return shorten(plain_text(self.body_html), length)

    def excerpt(self, length: int) -> str:
        """Plain text of the body (TeX as source), shortened, with `…` where it was cut."""
        return self.shortened(length).text


class CommentRevision(models.Model):
    """A comment's text before its writer changed it, for moderators."""

    comment = models.ForeignKey(
        Comment, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("评论")
    )
    body = models.TextField(_("原来的内容"))
    status = models.CharField(_("原来的状态"), max_length=10, choices=Comment.Status.choices)
    replaced_at = models.DateTimeField(_("修改时间"), default=timezone.now)

    class Meta:
        ordering = ["comment", "-replaced_at", "-id"]
        verbose_name = _("评论的早先版本")
        verbose_name_plural = _("评论的早先版本")

    def __str__(self) -> str:
        return f"{self.comment_id} @ {self.replaced_at:%Y-%m-%d %H:%M}"


def editable_until(created_at: datetime) -> datetime:
    """Until when a comment's writer may change or delete it."""
    return created_at + timedelta(seconds=settings.SPACES_COMMENT_EDIT_SECONDS)


# The one rule of which comments a visitor sees: approved ones, and their own (written in this
# browser) while they await moderation. A writer sees their comment held as spam as "awaiting
# moderation" too, so spammers learn nothing. `shown_to` says it to the database, `is_shown` to
# rows already read; both from these two constants (tests/comments/test_reading.py checks them
# against each other for every status).
SHOWN_TO_ALL = Comment.Status.APPROVED
OWN_PENDING = (Comment.Status.PENDING, Comment.Status.SPAM)


def shown_to(own_ids: list[int]) -> Q:
    """Comments a visitor sees, who wrote the comments `own_ids` (see SHOWN_TO_ALL)."""
    return Q(status=SHOWN_TO_ALL) | Q(pk__in=own_ids, status__in=OWN_PENDING)


def is_shown(pk: int, status: str, own_ids: list[int] | set[int]) -> bool:
    """Whether comment `pk` with `status` shows to that visitor: `shown_to` for a row in hand."""
    return status == SHOWN_TO_ALL or (pk in own_ids and status in OWN_PENDING)


def shown_thread_ids(post_id: int, own_ids: list[int]) -> list[int]:
    """Tree ids of the post's threads in which any comment shows to the visitor, oldest first
    (the same threads as `CommentQuerySet.thread_roots`; compiled once, see `thread_rows`)."""
    own = {f"own{n}": pk for n, pk in enumerate(own_ids)}
    return [tree for (tree,) in _thread_ids(len(own_ids)).rows(post=post_id, **own)]


def thread_rows(tree_ids: list[int]) -> list[ThreadRow]:
    """Every comment of the given threads in display order, as plain rows without private
    columns.

    It and `shown_thread_ids` run queries compiled once (blog.compiled) per number of ids they
    are given: the ORM spent ~2 ms building and compiling the two and making their rows per
    page of threads, the SELECTs themselves take ~0.2 ms."""
    if not tree_ids:
        return []
    trees = {f"tree{n}": pk for n, pk in enumerate(tree_ids)}
    return [ThreadRow(*row) for row in _thread_rows(len(tree_ids)).rows(**trees)]


@functools.lru_cache(maxsize=128)
def _thread_ids(own_count: int) -> Compiled:
    own = [f"own{n}" for n in range(own_count)]

    def build(p: Params) -> CommentQuerySet:
        shown = shown_to([getattr(p, name) for name in own])
        threads = Comment.objects.filter(shown, post_id=p.post).order_by("tree_id")
        return threads.values_list("tree_id", flat=True).distinct()

    return Compiled(build, post=models.IntegerField(), **dict.fromkeys(own, models.IntegerField()))


@functools.lru_cache(maxsize=128)
def _thread_rows(tree_count: int) -> Compiled:
    trees = [f"tree{n}" for n in range(tree_count)]

    def build(p: Params) -> CommentQuerySet:
        threads = Comment.objects.filter(tree_id__in=[getattr(p, name) for name in trees])
        return threads.order_by("tree_id", "lft").values_list(*ThreadRow._fields)

    return Compiled(build, **dict.fromkeys(trees, models.IntegerField()))


_DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)([a-z0-9\u00a1-\uffff-]{1,63}\.)*[a-z0-9\u00a1-\uffff-]{1,63}$"
)


class BlocklistEntry(models.Model):
    """A word, e-mail address, domain, or IP address or network whose comments are spam.

    comments.blocklist compiles these rows (and SPACES_COMMENT_BLOCKLIST) for the moderator."""

    class Kind(models.TextChoices):
        WORD = "word", _("词语")
        EMAIL = "email", _("电子邮箱")
        DOMAIN = "domain", _("域名")
        IP = "ip", _("IP 地址或网段")

    kind = models.CharField(_("类型"), max_length=6, choices=Kind.choices)
    value = models.CharField(
        _("内容"),
        max_length=254,
        help_text=_(
            "词语：出现在名字、邮箱、网址或正文中即屏蔽；域名：也屏蔽其子域名；"
            "IP：单个地址或网段，如 203.0.113.0/24。"
        ),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("添加者"),
        editable=False,
    )
    created_at = models.DateTimeField(_("添加时间"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["kind", "value"]
        verbose_name = _("屏蔽规则")
        verbose_name_plural = _("屏蔽列表")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="blocklist_entry_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=["word", "email", "domain", "ip"]),
                name="blocklist_entry_kind_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    def clean(self) -> None:
        """Normalise the value for its kind (so that matching is a plain comparison)."""
        try:
            self.value = normalise_block_value(self.kind, self.value)
        except ValueError as error:
            raise ValidationError({"value": str(error)}) from None


def normalise_block_value(kind: str, value: str) -> str:
    """The stored form of a blocklist value; ValueError with a message when it is not one."""
    value = strip_controls(value).strip()
    if not value:
        raise ValueError(_("内容不能为空。"))
    if kind == BlocklistEntry.Kind.IP:
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(_("不是有效的 IP 地址或网段。")) from None
    if kind == BlocklistEntry.Kind.EMAIL:
        value = value.lower()
        try:
            validate_email(value)
        except ValidationError:
            raise ValueError(_("不是有效的电子邮箱地址。")) from None
        return value
    if kind == BlocklistEntry.Kind.DOMAIN:
        value = value.lower().removeprefix("@").strip(".")
        if not _DOMAIN_RE.match(value):
            raise ValueError(_("不是有效的域名（例如 example.com）。"))
        return value
    return value.casefold()

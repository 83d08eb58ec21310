import functools
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from blog import search
from blog.rendering import plain_text, render_body, site_image_sources

# Paths of the form `/<slug>.html` that are not pages.
RESERVED_PAGE_SLUGS = frozenset({"content"})

# Publish times outside these years (in the site's time zone) are refused: year 1 or 9999 cannot
# even be shown in another time zone, and no real post was or will be published then.
PUBLISH_YEARS = (1900, 9000)
# The database's bounds, in UTC and a day wider than the years, so any site time zone fits.
PUBLISH_FLOOR = datetime(PUBLISH_YEARS[0] - 1, 12, 30, tzinfo=UTC)
PUBLISH_CEILING = datetime(PUBLISH_YEARS[1] + 1, 1, 2, tzinfo=UTC)


def validate_publish_time(value: datetime) -> None:
    """Refuse a publish time outside PUBLISH_YEARS in the site's time zone."""
    try:
        year = timezone.localtime(value).year if timezone.is_aware(value) else value.year
    except OverflowError:
        year = value.year
    first, last = PUBLISH_YEARS
    if not first <= year <= last:
        raise ValidationError(
            _("发布时间须在 %(first)d 年到 %(last)d 年之间（现为 %(year)d 年）。"),
            code="publish_time_out_of_range",
            params={"first": first, "last": last, "year": year},
        )


def unicode_slug(value: str, fallback: str) -> str:
    return slugify(value, allow_unicode=True)[:100] or fallback


class Author(models.Model):
    """A writer's public profile, one per user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="author"
    )
    display_name = models.CharField(_("显示名"), max_length=100)
    slug = models.SlugField(_("别名"), max_length=100, unique=True, allow_unicode=True)
    bio = models.TextField(_("简介"), blank=True, default="")
    website = models.URLField(_("网站"), blank=True, default="")

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("作者")
        verbose_name_plural = _("作者")

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = unicode_slug(self.display_name, f"author-{self.user_id}")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("blog:author_detail", kwargs={"slug": self.slug})


class CategoryQuerySet(models.QuerySet):
    def in_use(self) -> "CategoryQuerySet":
        """Categories with a published post: the others' pages are 404s, so nothing links them."""
        return self.filter(Exists(Post.objects.published().filter(categories=OuterRef("pk"))))


class Category(models.Model):
    name = models.CharField(_("名称"), max_length=100, unique=True)
    slug = models.SlugField(_("别名"), max_length=100, unique=True, allow_unicode=True)
    description = models.TextField(_("描述"), blank=True, default="")
    order = models.PositiveIntegerField(_("排序"), default=0)
    # Sub-categories (from imports such as Typecho's); pages list each category on its own.
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("上级分类"),
    )

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("分类")
        verbose_name_plural = _("分类")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = unicode_slug(self.name, "category")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("blog:category_detail", kwargs={"slug": self.slug})


class Tag(models.Model):
    name = models.CharField(_("名称"), max_length=100, unique=True)
    slug = models.SlugField(_("别名"), max_length=100, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("标签")
        verbose_name_plural = _("标签")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.slug:
            self.slug = unicode_slug(self.name, "tag")
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("blog:tag_detail", kwargs={"name": self.name})


def published_q(prefix: str = "", now: datetime | None = None) -> Q:
    """The one definition of "published": the published status and a publication time that has
    come (a future one means scheduled). `prefix` reaches posts through a relation ("post__").
    Raw SQL takes it from `published_sql()`, Python from `Post.is_public`."""
    return Q(
        **{
            f"{prefix}status": PUBLISHED_STATUS,
            f"{prefix}published_at__lte": now or timezone.now(),
        }
    )


def published_sql(table: str, status: str = "%s", now: str = "%s") -> str:
    """`published_q()` as an SQL condition on the posts table, for raw SQL: the column names come
    from the model; `status` and `now` are what the SQL compares with (placeholders by default,
    for `PUBLISHED_STATUS` and the time)."""
    quote = connection.ops.quote_name
    columns = (quote(Post._meta.get_field(name).column) for name in PUBLISHED_FIELDS)
    status_column, published_at = columns
    return f"{table}.{status_column} = {status} AND {table}.{published_at} <= {now}"


def previews_every_post(user) -> bool:
    """Editors (and superusers) see every post, drafts too; authors only their own."""
    return user.is_superuser or user.has_perm("blog.change_any_post")


def is_staff_or_author(user, post_id: int) -> bool:
    """The one definition of "staff or the post's own author": whose visits of a post are
    previews, not reads, and whose comments on it are trusted."""
    if user is None or not user.is_authenticated:
        return False
    return user.is_staff or PostAuthor.objects.filter(post_id=post_id, author__user=user).exists()


class PostQuerySet(models.QuerySet):
    """Read vocabulary for posts; each page's joins live in one method."""

    def published(self, now: datetime | None = None) -> "PostQuerySet":
        """Published and already due: a future `published_at` means scheduled, so hidden."""
        return self.filter(published_q(now=now))

    def scheduled(self) -> "PostQuerySet":
        """Published, but with a publication time still to come."""
        return self.filter(status=PUBLISHED_STATUS, published_at__gt=timezone.now())

    def listed(self, now: datetime | None = None) -> "PostQuerySet":
        """Published articles: what listings, feeds, archives and related posts show (no pages)."""
        return self.published(now).filter(kind=Post.Kind.POST)

    def pages(self) -> "PostQuerySet":
        """Standalone pages (关于, 留言板), in their navigation order."""
        return self.filter(kind=Post.Kind.PAGE).order_by("menu_order", "id")

    def visible_to(self, user) -> "PostQuerySet":
        """Published posts, plus drafts the user may preview (editors: all; authors: their own).
        `Post.is_visible_to` says the same of a post in hand."""
        if not user.is_authenticated:
            return self.published()
        if previews_every_post(user):
            return self
        return self.filter(published_q() | Q(authors__user=user)).distinct()

    def with_authors(self) -> "PostQuerySet":
        return self.prefetch_related(
            Prefetch(
                "post_authors",
                queryset=PostAuthor.objects.select_related("author").order_by("order", "id"),
            )
        )

    def with_views(self) -> "PostQuerySet":
        """Each post's counted reads in all as `view_count` (0 before its first read), joined
        from `PostViews` in the same query."""
        return self.annotate(view_count=views_of("total_views__views"))

    def related_to(self, post: "Post", count: int = 10) -> list["Post"]:
        """Published articles sharing the most tags with `post`, newest first among equals (one
        query once `post.tags` is prefetched)."""
        tag_ids = [tag.pk for tag in post.tags.all()]
        if not tag_ids:
            return []
        return list(
            self.listed()
            .filter(tags__in=tag_ids)
            .exclude(pk=post.pk)
            .annotate(shared=Count("tags"))
            .only("id", "title", "published_at")
            .order_by("-shared", "-published_at", "-id")[:count]
        )

    def search(self, query: str) -> "PostQuerySet":
        """Posts matching a visitor's query, best first, each with `score` (see blog.search)."""
        return search.search(self, query)


class Post(models.Model):
    """An article; its numeric id is its public URL (`/archives/<id>`)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        PENDING = "pending", _("待审核")
        PUBLISHED = "published", _("已发布")

    class Kind(models.TextChoices):
        POST = "post", _("文章")
        PAGE = "page", _("页面")

    class Format(models.TextChoices):
        MARKDOWN = "markdown", "Markdown"
        HTML = "html", "HTML"

    kind = models.CharField(_("类型"), max_length=4, choices=Kind.choices, default=Kind.POST)
    title = models.CharField(_("标题"), max_length=200)
    slug = models.SlugField(_("别名"), max_length=200, blank=True, default="", allow_unicode=True)
    authors = models.ManyToManyField(
        Author, through="PostAuthor", related_name="posts", verbose_name=_("作者")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    published_at = models.DateTimeField(
        _("发布时间"),
        default=timezone.now,
        validators=[validate_publish_time],
        help_text=_("将来的时间表示定时发布。"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Blank in a form means the default, Markdown: only imported posts are usually HTML.
    format = models.CharField(
        _("格式"), max_length=8, choices=Format.choices, default=Format.MARKDOWN, blank=True
    )
    body = models.TextField(_("正文"), blank=True, default="")
    # A summary written by hand (an import's excerpt); empty means "cut at <!--more-->".
    excerpt = models.TextField(_("摘要"), blank=True, default="")
    body_html = models.TextField(editable=False, blank=True, default="")
    excerpt_html = models.TextField(editable=False, blank=True, default="")
    toc = models.JSONField(editable=False, default=list, blank=True)
    has_math = models.BooleanField(editable=False, default=False)
    # The body as plain text (TeX kept): what search matches and quotes, the same on every database.
    search_text = models.TextField(editable=False, blank=True, default="")
    categories = models.ManyToManyField(
        Category, related_name="posts", blank=True, verbose_name=_("分类")
    )
    tags = models.ManyToManyField(Tag, related_name="posts", blank=True, verbose_name=_("标签"))
    comments_enabled = models.BooleanField(_("允许评论"), default=True)
    # A page's place in the header navigation (pages only).
    menu_order = models.PositiveIntegerField(_("导航顺序"), default=0)
    # Data that came with an import and has no column of its own (Typecho's custom fields).
    custom_fields = models.JSONField(_("自定义字段"), default=dict, blank=True)
    # Approved comments, kept by the comments app with F() updates so listings need no join.
    comment_count = models.PositiveIntegerField(_("评论数"), default=0, editable=False)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        verbose_name = _("文章")
        verbose_name_plural = _("文章")
        permissions = [
            ("change_any_post", _("Can change posts of any author")),
            ("publish_post", _("Can publish posts")),
            ("manage_pages", _("Can manage pages")),
        ]
        indexes = [
            models.Index(fields=["status", "-published_at"], name="post_status_published_idx"),
            models.Index(fields=["kind", "menu_order"], name="post_kind_menu_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["draft", "pending", "published"]),
                name="post_status_valid",
            ),
            models.CheckConstraint(condition=Q(kind__in=["post", "page"]), name="post_kind_valid"),
            # A page's address is its slug (`/<slug>.html`), so pages need distinct ones.
            models.UniqueConstraint(
                fields=["slug"], condition=Q(kind="page"), name="page_slug_unique"
            ),
            models.CheckConstraint(
                condition=Q(format__in=["markdown", "html"]), name="post_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(published_at__gte=PUBLISH_FLOOR, published_at__lte=PUBLISH_CEILING),
                name="post_published_at_sane",
            ),
        ]

    # What pages other than the post's own show of it: a change to one of them reaches every page.
    SHOWN_ELSEWHERE = ("kind", "title", "slug", "status", "published_at", "menu_order")

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.format = self.format or self.Format.MARKDOWN
        if self.kind == self.Kind.PAGE and not self.slug:
            self.slug = unicode_slug(self.title, "page")
        self.render()
        super().save(*args, **kwargs)  # its post_save signal compares with the state as loaded
        self._loaded_elsewhere = self.shown_elsewhere()

    def get_absolute_url(self) -> str:
        # Where `kind` was not loaded, the article URL serves: it redirects a page to its own.
        deferred = self.get_deferred_fields()
        if not deferred & {"kind", "slug"} and self.kind == self.Kind.PAGE and self.slug:
            return reverse("blog:page_detail", kwargs={"slug": self.slug})
        return reverse("blog:post_detail", kwargs={"pk": self.pk})

    @classmethod
    def from_db(cls, db, field_names, values) -> "Post":
        """As loaded, remembering what other pages show of it (Django's documented way to know
        a loaded instance's original values)."""
        post = super().from_db(db, field_names, values)
        if not post.get_deferred_fields().intersection(cls.SHOWN_ELSEWHERE):
            post._loaded_elsewhere = post.shown_elsewhere()
        return post

    def shown_elsewhere(self) -> tuple:
        return tuple(getattr(self, name) for name in self.SHOWN_ELSEWHERE)

    def changes_other_pages(self) -> bool:
        """Whether saving it changes more than its own pages and listings' excerpts: new, not
        loaded whole, or changed in what other pages show of it."""
        return getattr(self, "_loaded_elsewhere", None) != self.shown_elsewhere()

    def clean(self) -> None:
        super().clean()
        self.format = self.format or self.Format.MARKDOWN
        if self.kind != self.Kind.PAGE:
            return
        if not self.slug:
            self.slug = unicode_slug(self.title, "")
        if not self.slug or self.slug in RESERVED_PAGE_SLUGS:
            raise ValidationError(
                {"slug": _("页面需要一个别名（不能是 content），用作地址 /<别名>.html。")}
            )
        clash = Post.objects.pages().filter(slug=self.slug).exclude(pk=self.pk)
        if clash.exists():
            raise ValidationError({"slug": _("已有页面使用这个别名。")})

    def render(self) -> None:
        """Fill the stored HTML from the source, in its format (Markdown or HTML)."""
        rendered = render_body(self.body, self.format, site_image_sources())
        self.body_html = rendered.html
        self.excerpt_html = (
            render_body(self.excerpt, self.format).html
            if self.excerpt.strip()
            else rendered.excerpt_html
        )
        self.toc = [list(entry) for entry in rendered.toc]
        self.has_math = rendered.has_math
        self.search_text = plain_text(rendered.html)

    @property
    def is_public(self) -> bool:
        """`published_q()` for this post, in Python."""
        return self.status == PUBLISHED_STATUS and self.published_at <= timezone.now()

    @functools.cached_property
    def ordered_authors(self) -> list[Author]:
        """Authors in byline order (uses the prefetch from `with_authors()`; the article page
        reads them with the post: blog.articles)."""
        return [link.author for link in self.post_authors.all()]

    @property
    def byline(self) -> list[tuple[str, str]]:
        """The authors' (URL, name) in byline order, as listing cards have them too."""
        return [(author.get_absolute_url(), author.display_name) for author in self.ordered_authors]

    def is_visible_to(self, user) -> bool:
        """`PostQuerySet.visible_to()` for this post: public, or a draft the user may preview."""
        if self.is_public:
            return True
        if not user.is_authenticated:
            return False
        return previews_every_post(user) or any(
            author.user_id == user.pk for author in self.ordered_authors
        )


PUBLISHED_STATUS = Post.Status.PUBLISHED.value
PUBLISHED_FIELDS = ("status", "published_at")


class PageManager(models.Manager.from_queryset(PostQuerySet)):
    def get_queryset(self) -> PostQuerySet:
        return super().get_queryset().filter(kind=Post.Kind.PAGE)


class Page(Post):
    """A standalone page (关于, 留言板): a Post of kind "page", with an admin of its own."""

    objects = PageManager()

    class Meta:
        proxy = True
        ordering = ["menu_order", "id"]
        verbose_name = _("页面")
        verbose_name_plural = _("页面")

    def save(self, *args, **kwargs) -> None:
        self.kind = Post.Kind.PAGE
        super().save(*args, **kwargs)


class PostAuthor(models.Model):
    """An author's place in a post's byline."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="post_authors")
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="post_links")
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("文章作者")
        verbose_name_plural = _("文章作者")
        constraints = [
            models.UniqueConstraint(fields=["post", "author"], name="post_author_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.post_id}: {self.author}"


class PostRevision(models.Model):
    """A saved state of a post, kept at every save: its history lists, compares and restores them.

    Bylines, categories and tags are kept as [id, name] pairs so that a revision still reads
    right after an author, category or tag is renamed or deleted.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="post_revisions",
        verbose_name=_("保存者"),
    )
    created_at = models.DateTimeField(_("保存时间"), default=timezone.now)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"), blank=True, default="")
    excerpt = models.TextField(_("摘要"), blank=True, default="")
    format = models.CharField(_("格式"), max_length=8, choices=Post.Format.choices)
    status = models.CharField(_("状态"), max_length=10, choices=Post.Status.choices)
    published_at = models.DateTimeField(_("发布时间"))
    bylines = models.JSONField(_("作者"), default=list, blank=True)
    categories = models.JSONField(_("分类"), default=list, blank=True)
    tags = models.JSONField(_("标签"), default=list, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("修订")
        verbose_name_plural = _("修订")
        indexes = [models.Index(fields=["post", "-created_at"], name="post_revision_post_idx")]

    def __str__(self) -> str:
        return f"{self.post_id} @ {self.created_at:%Y-%m-%d %H:%M:%S}"


class PostAutosave(models.Model):
    """The text a user's editor last autosaved for a post (or for a new post: `post` empty).

    Never read by the site: it only comes back to its own user's editor, who may restore it.
    """

    post = models.ForeignKey(
        Post, on_delete=models.CASCADE, null=True, blank=True, related_name="autosaves"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="post_autosaves"
    )
    title = models.CharField(_("标题"), max_length=200, blank=True, default="")
    body = models.TextField(_("正文"), blank=True, default="")
    saved_at = models.DateTimeField(_("自动保存时间"), default=timezone.now)

    class Meta:
        verbose_name = _("自动保存")
        verbose_name_plural = _("自动保存")
        constraints = [
            models.UniqueConstraint(fields=["post", "user"], name="post_autosave_unique"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(post__isnull=True), name="post_autosave_new_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.post_id or 'new'} / {self.user_id}"


def views_of(column: str) -> Coalesce:
    """A `PostViews.views` reached through a relation, 0 where the post has no row yet."""
    return Coalesce(F(column), Value(0), output_field=models.BigIntegerField())


class PostViews(models.Model):
    """A post's counted reads in all, the one place its total lives; no row means no reads yet.

    A narrow table of its own rather than a column of `Post`: counting a read then updates a
    row of two integers instead of the wide post row, whose 9 indexes (3 GIN) PostgreSQL opens
    and locks and whose 7 CHECK constraints it re-checks on every UPDATE. The counted read's
    function went from 295 to 240 µs of backend CPU (docs/PERFORMANCE.md, "Counting's cost")."""

    post = models.OneToOneField(
        Post, on_delete=models.CASCADE, primary_key=True, related_name="total_views"
    )
    views = models.BigIntegerField(_("阅读数"), default=0)

    class Meta:
        verbose_name = _("阅读数")
        verbose_name_plural = _("阅读数")
        constraints = [
            models.CheckConstraint(condition=Q(views__gte=0), name="post_views_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.post_id}: {self.views}"


class PostDailyViews(models.Model):
    """How many counted reads a post had on one day (site time zone)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="daily_views")
    day = models.DateField()
    views = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("每日阅读")
        verbose_name_plural = _("每日阅读")
        constraints = [
            models.UniqueConstraint(fields=["post", "day"], name="post_daily_views_unique"),
            models.CheckConstraint(condition=Q(views__gte=0), name="post_daily_views_gte_0"),
        ]
        indexes = [models.Index(fields=["day", "post"], name="post_daily_views_day_idx")]

    def __str__(self) -> str:
        return f"{self.post_id} {self.day}: {self.views}"


class ContentVersion(models.Model):
    """The token naming one scope's state of what readers see, for `blog.caching`'s caches.

    It lives in the database rather than in the cache so that the counted read of an article can
    fetch it in the same round trip, and so that no cache eviction or flush can lose it.
    """

    scope = models.CharField(max_length=40, primary_key=True)  # see blog.caching.version
    token = models.CharField(max_length=32)
    # Unix time at which the site token must be renewed: its age limit, or the next scheduled
    # post; 0 for the other scopes, which do not expire on their own.
    valid_until = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"{self.scope}: {self.token}"


class CacheEntry(models.Model):
    """A row of the shared cache's database table (`blog.cache.DatabaseCache`, LOCATION in
    CACHES): made by a migration, so that `migrate` alone gives a working site."""

    cache_key = models.CharField(max_length=255, primary_key=True)
    value = models.TextField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "spaces_cache"

    def __str__(self) -> str:
        return self.cache_key


class ViewFlushBatch(models.Model):
    """A batch of buffered view hits already moved into the database (makes a flush idempotent)."""

    batch = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("阅读数写入批次")
        verbose_name_plural = _("阅读数写入批次")

    def __str__(self) -> str:
        return self.batch


class Citation(models.Model):
    """A link in `source`'s body to `target`, another post of this site."""

    source = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="citations_made")
    target = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="citations_received")

    class Meta:
        verbose_name = _("文章引用")
        verbose_name_plural = _("文章引用")
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="citation_unique"),
            models.CheckConstraint(condition=~Q(source=F("target")), name="citation_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"

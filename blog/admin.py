from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from blog import revisions, roles
from blog.counting.reports import top_posts
from blog.editing import WritingAdminMixin
from blog.forms import PostAdminForm, publication_state
from blog.models import Author, Category, Page, Post, PostAuthor, Tag
from blog.services import sync_citations


def can_change_any_post(request: HttpRequest) -> bool:
    return roles.is_editor(request.user)


@admin.register(Author)
class AuthorAdmin(admin.ModelAdmin):
    """Every writer's profile is listed (bylines pick from them); authors change only their own."""

    list_display = ["display_name", "slug", "user", "website"]
    search_fields = ["display_name", "slug", "user__username"]
    list_select_related = ["user"]
    prepopulated_fields = {"slug": ["display_name"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_change_permission(self, request: HttpRequest, obj: Author | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None or not allowed or can_change_any_post(request):
            return allowed
        return obj.user_id == request.user.pk

    def get_fields(self, request: HttpRequest, obj: Author | None = None) -> list[str]:
        if can_change_any_post(request):
            return super().get_fields(request, obj)
        return ["display_name", "bio", "website"]

    def get_prepopulated_fields(self, request: HttpRequest, obj: Author | None = None) -> dict:
        return self.prepopulated_fields if can_change_any_post(request) else {}


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent", "order"]
    list_select_related = ["parent"]
    list_editable = ["order"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class BylineFormSet(forms.BaseInlineFormSet):
    """A writer who is not an editor stays in the byline of a post they save: else they would
    lose the post the moment they saved it."""

    keep_user_id: int | None = None

    def clean(self) -> None:
        super().clean()
        if self.keep_user_id is None or any(self.errors):
            return
        kept = [
            form.cleaned_data["author"]
            for form in self.forms
            if form.cleaned_data.get("author") and not form.cleaned_data.get("DELETE")
        ]
        if kept and all(author.user_id != self.keep_user_id for author in kept):
            raise forms.ValidationError(_("您不能把自己从署名中移除。"))


class PostAuthorInline(admin.TabularInline):
    model = PostAuthor
    formset = BylineFormSet
    extra = 1
    autocomplete_fields = ["author"]
    verbose_name = _("作者")
    verbose_name_plural = _("作者（按署名顺序）")

    def get_formset(self, request: HttpRequest, obj: Post | None = None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.keep_user_id = None if can_change_any_post(request) else request.user.pk
        return formset


class PublicationFilter(admin.SimpleListFilter):
    title = _("状态")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("draft", _("草稿")),
            ("pending", _("待审核")),
            ("scheduled", _("定时发布")),
            ("live", _("已公开")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        match self.value():
            case "draft":
                return queryset.filter(status=Post.Status.DRAFT)
            case "pending":
                return queryset.filter(status=Post.Status.PENDING)
            case "scheduled":
                return queryset.filter(status=Post.Status.PUBLISHED, published_at__gt=now)
            case "live":
                return queryset.filter(status=Post.Status.PUBLISHED, published_at__lte=now)
        return queryset


@admin.register(Post)
class PostAdmin(WritingAdminMixin, admin.ModelAdmin):
    list_display = ["title", "byline", "state", "published_at", "view_count"]
    list_filter = [PublicationFilter, "categories", "authors"]
    search_fields = ["title", "body"]
    date_hierarchy = "published_at"
    inlines = [PostAuthorInline]
    filter_horizontal = ["categories", "tags"]
    form = PostAdminForm
    change_form_template = "admin/blog/post/change_form.html"
    readonly_fields = ["view_count", "updated_at", "current_state"]
    fieldsets = [
        (None, {"fields": ["title", "body", "edit_base"]}),
        (
            _("发布"),
            {
                "classes": ["spaces-publishing"],
                "fields": [
                    "current_state",
                    "publication",
                    "published_at",
                    "status",
                    "comments_enabled",
                ],
            },
        ),
        (_("分类与标签"), {"fields": ["categories", "tags"]}),
        (
            _("其他"),
            {
                "classes": ["collapse"],
                "fields": ["slug", "format", "excerpt", "view_count", "updated_at"],
            },
        ),
    ]
    actions = ["publish_now", "make_draft"]

    class Media:
        js = [
            "js/math.js",
            "vendor/codemirror/codemirror.js",
            "js/admin-editor.js",
            "js/admin-preview.js",
            "js/admin-media.js",
        ]
        css = {"all": ["css/admin-preview.css", "css/admin-media.css"]}

    def get_form(self, request: HttpRequest, obj: Post | None = None, change: bool = False, **kw):
        form = super().get_form(request, obj, change, **kw)
        form.can_publish = roles.can_publish(request.user)
        return form

    def render_change_form(self, request: HttpRequest, context: dict, *args, obj=None, **kwargs):
        if autosave := revisions.offered_autosave(obj, request.user):
            context["autosave"] = autosave
            context["autosave_data"] = {"title": autosave.title, "body": autosave.body}
        context["autosave_url"] = self.autosave_url(obj)
        context["autosave_seconds"] = settings.SPACES_AUTOSAVE_SECONDS
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)

    @admin.display(description=_("当前状态"))
    def current_state(self, post: Post) -> str:
        return publication_state(post)

    @admin.display(description=_("阅读数"), ordering="view_count")
    def view_count(self, post: Post) -> int:
        """The post's reads in all (`PostViews`, joined by `get_queryset`)."""
        return post.view_count

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        posts = super().get_queryset(request).filter(kind=self.model.Kind.POST)
        queryset = posts.with_authors().with_views()
        if can_change_any_post(request):
            return queryset
        return queryset.filter(authors__user=request.user).distinct()

    def formfield_for_dbfield(self, db_field, request: HttpRequest, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "body" and request.user.has_perm("uploads.add_upload"):
            # The media library's endpoints for static/js/admin-media.js (drop, paste, pick).
            field.widget.attrs.update(
                {
                    "data-upload-url": reverse("admin:uploads_upload_api"),
                    "data-library-url": reverse("admin:uploads_upload_library"),
                    "data-max-bytes": settings.SPACES_UPLOAD_MAX_BYTES,
                }
            )
        return field

    def formfield_for_choice_field(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "status":
            allowed = roles.allowed_statuses(request.user)
            kwargs["choices"] = [c for c in db_field.choices if c[0] in allowed]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    @admin.display(description=_("作者"))
    def byline(self, post: Post) -> str:
        return ", ".join(author.display_name for author in post.ordered_authors)

    @admin.display(description=_("状态"))
    def state(self, post: Post) -> str:
        if post.status != Post.Status.PUBLISHED:
            return post.get_status_display()
        return _("已公开") if post.is_public else _("定时发布")

    def has_change_permission(self, request: HttpRequest, obj: Post | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None or not allowed:
            return allowed
        return roles.can_edit_post(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Post | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        if obj is None or not allowed:
            return allowed
        return roles.can_edit_post(request.user, obj)

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return roles.can_publish(request.user)

    def save_model(self, request: HttpRequest, obj: Post, form, change: bool) -> None:
        if change:
            revisions.record_baseline(obj.pk)
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        post = form.instance
        if not post.post_authors.exists():
            author, _created = Author.objects.get_or_create(
                user=request.user,
                defaults={"display_name": request.user.get_full_name() or request.user.username},
            )
            PostAuthor.objects.create(post=post, author=author)
        sync_citations(post)
        # Last, so that the revision holds the bylines, categories and tags just saved.
        revisions.record_revision(post, request.user)
        revisions.discard_autosave(post, request.user)
        if not change:
            revisions.discard_autosave(None, request.user)

    def get_urls(self) -> list[URLPattern]:
        top = path("top/", self.admin_site.admin_view(self.top_posts_view), name="blog_post_top")
        return [top, *self.writing_urls(), *super().get_urls()]

    def top_posts_view(self, request: HttpRequest) -> HttpResponse:
        """Most read posts today, in 7 and 30 days and of all time (linked from the list)."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        posts = Post.objects.all()
        if not can_change_any_post(request):
            posts = posts.filter(authors__user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("热门文章"),
            "periods": top_posts(posts),
        }
        return TemplateResponse(request, "admin/blog/post/top_posts.html", context)

    @admin.action(description=_("立即发布所选文章"), permissions=["publish"])
    def publish_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for post in queryset:
            if self.has_change_permission(request, post):
                revisions.record_baseline(post.pk)
                post.status = Post.Status.PUBLISHED
                post.published_at = timezone.now()
                post.save(update_fields=["status", "published_at", "updated_at"])
                revisions.record_revision(post, request.user)
                count += 1
        self.message_user(
            request, ngettext("已发布 %d 篇文章。", "已发布 %d 篇文章。", count) % count
        )

    @admin.action(description=_("将所选文章改为草稿"), permissions=["change"])
    def make_draft(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = 0
        for post in queryset:
            if self.has_change_permission(request, post):
                revisions.record_baseline(post.pk)
                post.status = Post.Status.DRAFT
                post.save(update_fields=["status", "updated_at"])
                revisions.record_revision(post, request.user)
                count += 1
        self.message_user(
            request,
            ngettext("%d 篇文章已改为草稿。", "%d 篇文章已改为草稿。", count) % count,
            messages.SUCCESS,
        )


@admin.register(Page)
class PageAdmin(PostAdmin):
    """Standalone pages: editors manage them; they have no categories, tags or byline to show."""

    list_display = ["title", "slug", "state", "menu_order", "comment_count"]
    list_editable = ["menu_order"]
    list_filter = [PublicationFilter]
    date_hierarchy = None
    filter_horizontal = []
    fieldsets = [
        (None, {"fields": ["title", "slug", "body", "edit_base"]}),
        (
            _("发布"),
            {
                "classes": ["spaces-publishing"],
                "fields": [
                    "current_state",
                    "publication",
                    "published_at",
                    "status",
                    "comments_enabled",
                    "menu_order",
                ],
            },
        ),
        (_("其他"), {"classes": ["collapse"], "fields": ["format", "view_count", "updated_at"]}),
    ]

    def get_urls(self) -> list[URLPattern]:
        # The most-read list is the articles' own; revisions and autosave are the page's.
        return [*self.writing_urls(), *admin.ModelAdmin.get_urls(self)]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return roles.can_manage_pages(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Post | None = None) -> bool:
        return roles.can_manage_pages(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return roles.can_manage_pages(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Post | None = None) -> bool:
        return roles.can_manage_pages(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Post | None = None) -> bool:
        return roles.can_manage_pages(request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return Page.objects.with_authors().with_views()  # who may manage pages manages all

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from blog.discovery import content_changed
from blog.models import Author
from comments import services
from comments.forms import AuthorReplyForm
from comments.models import Comment, CommentRevision
from comments.moderation import Refused


def can_moderate_any(user) -> bool:
    return user.is_superuser or user.has_perm("comments.moderate_any_comment")


class CommentAdminForm(forms.ModelForm):
    author_url = forms.URLField(
        label=_("个人网站"), required=False, max_length=200, assume_scheme="https"
    )

    class Meta:
        model = Comment
        fields = [
            "parent",
            "author_name",
            "author_email",
            "author_url",
            "body",
            "status",
            "notify_replies",
        ]

    def clean_parent(self) -> Comment | None:
        parent = self.cleaned_data["parent"]
        if parent != self.instance.parent:
            try:
                services.check_move(self.instance, parent)
            except Refused as refused:
                raise forms.ValidationError(refused.message) from None
        return parent


class RevisionInline(admin.TabularInline):
    """The text a writer replaced by editing their comment, newest first."""

    model = CommentRevision
    fields = ["replaced_at", "status", "body"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Comment | None = None) -> bool:
        return False


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """The moderation queue: pending comments first; every status change goes through services."""

    form = CommentAdminForm
    list_display = [
        "short_text",
        "author_name",
        "author_email",
        "ip_address",
        "on_post",
        "status",
        "created_at",
        "reply_link",
    ]
    list_filter = ["status", ("post", admin.RelatedOnlyFieldListFilter), "created_at"]
    search_fields = ["author_name", "author_email", "ip_address", "body"]
    list_select_related = ["post"]
    date_hierarchy = "created_at"
    ordering = [
        Case(When(status=Comment.Status.PENDING, then=Value(0)), default=Value(1)).asc(),
        "-created_at",
    ]
    raw_id_fields = ["parent"]
    readonly_fields = ["post", "user", "ip_address", "user_agent", "created_at", "rendered"]
    fieldsets = [
        (None, {"fields": ["post", "parent", "status", "body", "rendered"]}),
        (_("评论者"), {"fields": ["author_name", "author_email", "author_url", "user"]}),
        (_("其他"), {"fields": ["notify_replies", "ip_address", "user_agent", "created_at"]}),
    ]
    inlines = [RevisionInline]
    actions = ["approve", "mark_spam", "remove", "restore"]

    class Media:
        js = ["js/math.js"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Editors and moderators see every comment; authors the comments on their own posts."""
        queryset = super().get_queryset(request)
        if can_moderate_any(request.user):
            return queryset
        return queryset.filter(post__post_authors__author__user=request.user.pk)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Comments come from readers, or from the "reply as the author" page.
        return False

    @admin.display(description=_("评论"))
    def short_text(self, comment: Comment) -> str:
        # Escaped text and whole formulas, which the Media's math.js typesets.
        return mark_safe(f"<span data-math-scope>{comment.shortened(60).html()}</span>")

    @admin.display(description=_("文章"), ordering="post__title")
    def on_post(self, comment: Comment) -> str:
        return format_html(
            '<a href="{}#comments">{}</a>', comment.post.get_absolute_url(), comment.post.title
        )

    @admin.display(description=_("回复"))
    def reply_link(self, comment: Comment) -> str:
        url = reverse("admin:comments_comment_reply", args=[comment.pk])
        return format_html('<a href="{}">{}</a>', url, _("回复"))

    @admin.display(description=_("显示效果"))
    def rendered(self, comment: Comment) -> str:
        # body_html was sanitised by the pipeline when the comment was saved.
        return mark_safe(f'<div class="comment-body" data-math-scope>{comment.body_html}</div>')

    def save_model(self, request: HttpRequest, obj: Comment, form, change: bool) -> None:
        """Save the text here; moves and status changes go through services (tree lock, counts)."""
        status, parent = obj.status, obj.parent
        obj.status = form.initial["status"]
        obj.parent_id = form.initial["parent"]
        obj.save()
        if "parent" in form.changed_data:
            services.move_comment(obj, parent)
        if status != obj.status:
            services.set_status([obj.pk], status, request)
        content_changed()  # cached articles show the comment's text

    def delete_model(self, request: HttpRequest, obj: Comment) -> None:
        services.delete_comments([obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.delete_comments(queryset.order_by("tree_id", "lft").values_list("pk", flat=True))

    def _set_status(self, request: HttpRequest, queryset: QuerySet, status: str) -> None:
        count = services.set_status(queryset.values_list("pk", flat=True), status, request)
        label = Comment.Status(status).label
        self.message_user(
            request,
            ngettext(
                "%(count)d 条评论已改为“%(status)s”。",
                "%(count)d 条评论已改为“%(status)s”。",
                count,
            )
            % {"count": count, "status": label},
            messages.SUCCESS,
        )

    @admin.action(description=_("批准所选评论"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, Comment.Status.APPROVED)

    @admin.action(description=_("将所选评论标为垃圾评论"), permissions=["change"])
    def mark_spam(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, Comment.Status.SPAM)

    @admin.action(description=_("删除所选评论（保留回复）"), permissions=["change"])
    def remove(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, Comment.Status.REMOVED)

    @admin.action(description=_("恢复所选的已删除或垃圾评论"), permissions=["change"])
    def restore(self, request: HttpRequest, queryset: QuerySet) -> None:
        restorable = queryset.filter(status__in=[Comment.Status.REMOVED, Comment.Status.SPAM])
        self._set_status(request, restorable, Comment.Status.APPROVED)

    def get_urls(self) -> list:
        reply = path(
            "<path:object_id>/reply/",
            self.admin_site.admin_view(self.reply_view),
            name="comments_comment_reply",
        )
        return [reply, *super().get_urls()]

    def reply_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Reply to a comment as oneself (see services.reply_as_author)."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        comment = self.get_object(request, object_id)
        if comment is None:
            raise Http404
        form = AuthorReplyForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.reply_as_author(comment, form.cleaned_data["body"], request)
            except Refused as refused:
                form.add_error(None, refused.message)
            else:
                self.message_user(request, _("回复已发表。"), messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:comments_comment_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("回复评论"),
            "comment": comment,
            "replier": services.replier_name(
                request.user, Author.objects.filter(user=request.user.pk).first()
            ),
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/comments/comment/reply.html", context)

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, QuerySet, Value, When
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from blog.models import Author
from comments import blocklist, services
from comments.forms import AuthorReplyForm
from comments.models import BlocklistEntry, Comment, CommentRevision
from comments.moderation import Refused
from comments.visitors import Origin


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


# The one-click buttons of a queue row, by the comment's status.
_APPROVE = (Comment.Status.APPROVED, _("批准"))
_RESTORE = (Comment.Status.APPROVED, _("恢复"))
_SPAM = (Comment.Status.SPAM, _("垃圾"))
_REMOVE = (Comment.Status.REMOVED, _("删除"))
ROW_BUTTONS = {
    Comment.Status.PENDING: [_APPROVE, _SPAM, _REMOVE],
    Comment.Status.APPROVED: [(Comment.Status.PENDING, _("退回待审")), _SPAM, _REMOVE],
    Comment.Status.SPAM: [_RESTORE, _REMOVE],
    Comment.Status.REMOVED: [_RESTORE, _SPAM],
}


@admin.register(BlocklistEntry)
class BlocklistEntryAdmin(admin.ModelAdmin):
    """Words, e-mail addresses, domains and networks whose comments are spam."""

    list_display = ["value", "kind", "note", "created_by", "created_at"]
    list_filter = ["kind"]
    search_fields = ["value", "note"]
    list_select_related = ["created_by"]
    fields = ["kind", "value", "note"]

    def save_model(self, request: HttpRequest, obj: BlocklistEntry, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        blocklist.forget()

    def delete_model(self, request: HttpRequest, obj: BlocklistEntry) -> None:
        super().delete_model(request, obj)
        blocklist.forget()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        super().delete_queryset(request, queryset)
        blocklist.forget()


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    """The moderation queue: pending comments first; every status change goes through services."""

    form = CommentAdminForm
    # Three columns so that the queue fits a 1280 px screen beside the admin's sidebars.
    list_display = ["comment_cell", "commenter", "row_actions"]
    list_display_links = None
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
    actions = ["approve", "mark_spam", "remove", "restore", "block_ip", "block_email"]

    class Media:
        js = ["js/math.js"]
        css = {"all": ["css/math.css", "css/admin-comments.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        """Editors and moderators see every comment; authors the comments on their own posts."""
        return super().get_queryset(request).moderated_by(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Comments come from readers, or from the "reply as the author" page.
        return False

    @admin.display(description=_("评论"))
    def comment_cell(self, comment: Comment) -> str:
        # body_html was sanitised by the pipeline when the comment was saved.
        return format_html(
            '<div class="queue-comment comment-body" id="queue-{}" data-math-scope>{}</div>'
            '<a class="queue-post" href="{}#comments">《{}》</a>',
            comment.pk,
            mark_safe(comment.body_html),
            comment.post.get_absolute_url(),
            comment.post.title,
        )

    @admin.display(description=_("评论者"), ordering="-created_at")
    def commenter(self, comment: Comment) -> str:
        search = reverse("admin:comments_comment_changelist")
        return format_html(
            '<div class="queue-commenter"><strong>{}</strong><a href="mailto:{}">{}</a>'
            '<a href="{}?q={}" title="{}">{}</a><time datetime="{}">{}</time></div>',
            comment.author_name,
            comment.author_email,
            comment.author_email,
            search,
            comment.ip_address or "",
            _("这个 IP 的全部评论"),
            comment.ip_address or "—",
            comment.created_at.isoformat(),
            date_format(timezone.localtime(comment.created_at), "Y-m-d H:i"),
        )

    @admin.display(description=_("状态与操作"), ordering="status")
    def row_actions(self, comment: Comment) -> str:
        """One-click buttons; they submit the page's one small form (no script, no nesting)."""
        url = reverse("admin:comments_comment_moderate", args=[comment.pk])
        buttons = format_html_join(
            "",
            '<button type="submit" form="queue-actions" formaction="{}" name="status" '
            'value="{}" class="queue-{}">{}</button>',
            ((url, status, status, label) for status, label in ROW_BUTTONS[comment.status]),
        )
        links = format_html(
            '<a href="{}">{}</a><a href="{}">{}</a>',
            reverse("admin:comments_comment_change", args=[comment.pk]),
            _("编辑"),
            reverse("admin:comments_comment_reply", args=[comment.pk]),
            _("回复"),
        )
        return format_html(
            '<span class="queue-status queue-status-{}">{}</span>'
            '<div class="queue-buttons">{}</div><div class="queue-links">{}</div>',
            comment.status,
            comment.get_status_display(),
            buttons,
            links,
        )

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
            services.set_status([obj.pk], status, Origin.of(request))
        services.comments_changed([obj.post_id])  # its article shows the comment's text

    def delete_model(self, request: HttpRequest, obj: Comment) -> None:
        services.delete_comments([obj.pk])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        services.delete_comments(queryset.order_by("tree_id", "lft").values_list("pk", flat=True))

    def _set_status(self, request: HttpRequest, queryset: QuerySet, status: str) -> None:
        ids = queryset.values_list("pk", flat=True)
        count = services.set_status(ids, status, Origin.of(request))
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

    def has_block_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("comments.add_blocklistentry")

    def _block(self, request: HttpRequest, queryset: QuerySet, kind: str, field: str) -> None:
        values = set(queryset.values_list(field, flat=True))
        note = _("由 %(user)s 从评论中屏蔽") % {"user": request.user.get_username()}
        added = blocklist.add(kind, values, note=note, user=request.user)
        self.message_user(
            request,
            ngettext(
                "已加入屏蔽列表 %(count)d 项；此后匹配的评论会被标为垃圾评论。",
                "已加入屏蔽列表 %(count)d 项；此后匹配的评论会被标为垃圾评论。",
                added,
            )
            % {"count": added},
            messages.SUCCESS,
        )

    @admin.action(description=_("屏蔽所选评论者的 IP 地址"), permissions=["block"])
    def block_ip(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._block(request, queryset, BlocklistEntry.Kind.IP, "ip_address")

    @admin.action(description=_("屏蔽所选评论者的电子邮箱"), permissions=["block"])
    def block_email(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._block(request, queryset, BlocklistEntry.Kind.EMAIL, "author_email")

    def get_urls(self) -> list:
        reply = path(
            "<path:object_id>/reply/",
            self.admin_site.admin_view(self.reply_view),
            name="comments_comment_reply",
        )
        moderate = path(
            "<path:object_id>/moderate/",
            self.admin_site.admin_view(self.moderate_view),
            name="comments_comment_moderate",
        )
        return [reply, moderate, *super().get_urls()]

    def moderate_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """A row's one-click button: set the status, and offer to undo it."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        comment = self.get_object(request, object_id)
        if comment is None:
            raise Http404
        status = request.POST.get("status", "")
        if status not in Comment.Status.values:
            return HttpResponseBadRequest(_("未知的评论状态。"))
        previous = comment.status
        services.set_status([comment.pk], status, Origin.of(request))
        url = reverse("admin:comments_comment_moderate", args=[comment.pk])
        undo = format_html(
            ' <button type="submit" form="queue-actions" formaction="{}" name="status" '
            'value="{}" class="queue-undo">{}</button>',
            url,
            previous,
            _("撤销"),
        )
        text = _("%(name)s 的评论已改为“%(status)s”。") % {
            "name": comment.author_name,
            "status": Comment.Status(status).label,
        }
        message = format_html("{}{}", text, undo) if previous != status else text
        self.message_user(request, message, messages.SUCCESS)
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = reverse("admin:comments_comment_changelist")
        return HttpResponseRedirect(back)

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
                body = form.cleaned_data["body"]
                services.reply_as_author(comment, body, request.user, Origin.of(request))
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

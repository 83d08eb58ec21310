"""The post admin's writing pages: revision history (list, diff, restore) and autosave."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from blog import revisions
from blog.models import Post

TITLE_LIMIT = Post._meta.get_field("title").max_length


class WritingAdminMixin:
    """Adds a post's revision pages and its autosave endpoint to a ModelAdmin of Post."""

    def _url_name(self, suffix: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{suffix}"

    def writing_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        name = self._url_name("")[:-1]
        return [
            path("add/autosave/", view(self.autosave_view), name=f"{name}_autosave_new"),
            path("<int:pk>/autosave/", view(self.autosave_view), name=f"{name}_autosave"),
            path("<int:pk>/revisions/", view(self.revision_list_view), name=f"{name}_revisions"),
            path(
                "<int:pk>/revisions/<int:revision_id>/",
                view(self.revision_view),
                name=f"{name}_revision",
            ),
            path(
                "<int:pk>/revisions/<int:revision_id>/restore/",
                view(self.restore_view),
                name=f"{name}_revision_restore",
            ),
        ]

    def autosave_url(self, post: Post | None) -> str:
        if post is None or post.pk is None:
            return reverse(f"admin:{self._url_name('autosave_new')}")
        return reverse(f"admin:{self._url_name('autosave')}", args=[post.pk])

    def _editable_post(self, request: HttpRequest, pk: int, *, change: bool) -> Post:
        post = self.get_queryset(request).filter(pk=pk).first()
        if post is None:
            raise Http404(_("这篇文章不存在，可能已被删除。"))
        allowed = self.has_change_permission if change else self.has_view_or_change_permission
        if not allowed(request, post):
            raise PermissionDenied
        return post

    def _context(self, request: HttpRequest, post: Post, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": post,
            "title": title,
            "has_change_permission": self.has_change_permission(request, post),
        }

    def revision_list_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        post = self._editable_post(request, pk, change=False)
        context = self._context(request, post, _("“%(title)s”的修订历史") % {"title": post.title})
        context["revisions"] = post.revisions.select_related("user").defer("body", "excerpt")
        return TemplateResponse(request, "admin/blog/post/revision_list.html", context)

    def revision_view(self, request: HttpRequest, pk: int, revision_id: int) -> HttpResponse:
        post = self._editable_post(request, pk, change=False)
        revision = get_object_or_404(post.revisions.select_related("user"), pk=revision_id)
        when = timezone.localtime(revision.created_at).strftime("%Y-%m-%d %H:%M:%S")
        context = self._context(request, post, _("修订 %(when)s 与当前版本的差异") % {"when": when})
        context |= {
            "revision": revision,
            "changes": revisions.field_changes(revision, post),
            "body_diff": revisions.text_diff(
                revision.body, post.body, _("修订（%(when)s）") % {"when": when}, _("当前版本")
            ),
        }
        return TemplateResponse(request, "admin/blog/post/revision_detail.html", context)

    def restore_view(self, request: HttpRequest, pk: int, revision_id: int) -> HttpResponse:
        if request.method != "POST":
            return redirect(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_revision", pk, revision_id
            )
        post = self._editable_post(request, pk, change=True)
        revision = get_object_or_404(post.revisions, pk=revision_id)
        revisions.restore_revision(revision, request.user)
        messages.success(request, _("已恢复这个修订；恢复本身也记为一个新的修订。"))
        return redirect(f"admin:{self._url_name('change')}", pk)

    def autosave_view(self, request: HttpRequest, pk: int | None = None) -> JsonResponse:
        """Keep the editor's text for this user (discard=1 drops it); never touches the post."""
        if request.method != "POST":
            return JsonResponse({"error": _("只接受 POST。")}, status=405)
        return _autosave(self, request, pk)


def _autosave(admin, request: HttpRequest, pk: int | None) -> JsonResponse:
    if pk is None:
        if not admin.has_add_permission(request):
            return JsonResponse({"error": _("你没有写文章的权限。")}, status=403)
        post = None
    else:
        post = admin.get_queryset(request).filter(pk=pk).first()
        if post is None:
            return JsonResponse({"error": _("这篇文章不存在，可能已被删除。")}, status=404)
        if not admin.has_change_permission(request, post):
            return JsonResponse({"error": _("你不能编辑这篇文章。")}, status=403)
    if request.POST.get("discard"):
        revisions.discard_autosave(post, request.user)
        return JsonResponse({"discarded": True})
    title, body = request.POST.get("title", ""), request.POST.get("body")
    if body is None or len(title) > TITLE_LIMIT:
        return JsonResponse({"error": _("自动保存的内容不完整或标题过长。")}, status=400)
    autosave = revisions.save_autosave(post, request.user, title, body)
    return JsonResponse(
        {
            "saved_at": autosave.saved_at.isoformat(),
            "message": _("已自动保存于 %(time)s")
            % {"time": timezone.localtime(autosave.saved_at).strftime("%H:%M:%S")},
        }
    )

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from uploads import views
from uploads.forms import UploadChangeForm, UploadForm
from uploads.limits import refuse_large_bodies
from uploads.models import Upload
from uploads.services import delete_upload, posts_using, store_upload


def can_change_any_upload(request: HttpRequest) -> bool:
    return request.user.has_perm("uploads.change_any_upload")


@admin.register(Upload)
class UploadAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "title", "details", "uploader", "created_at", "copy_markdown"]
    list_display_links = ["thumbnail", "title"]
    list_filter = ["kind", ("uploader", admin.RelatedOnlyFieldListFilter), "created_at"]
    list_select_related = ["uploader"]
    search_fields = ["title", "alt_text", "caption", "original_name"]
    date_hierarchy = "created_at"
    list_per_page = 50
    readonly_fields = ["preview", "kind", "original_name", "content_type", "file_size"]
    readonly_fields += ["dimensions", "uploader", "created_at", "copy_markdown", "used_in"]

    class Media:
        js = ["js/admin-uploads.js"]
        css = {"all": ["css/admin-uploads.css"]}

    def get_form(self, request: HttpRequest, obj: Upload | None = None, **kwargs):
        kwargs["form"] = UploadChangeForm if obj else UploadForm
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Upload | None = None) -> list:
        if obj is None:
            return [(None, {"fields": ["upload", "title", "alt_text", "caption"]})]
        return [
            (None, {"fields": ["preview", "title", "alt_text", "caption", "copy_markdown"]}),
            (
                _("文件信息"),
                {"fields": ["kind", "original_name", "content_type", "file_size", "dimensions"]},
            ),
            (_("上传"), {"fields": ["uploader", "created_at", "used_in"]}),
        ]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).for_library()

    def has_change_permission(self, request: HttpRequest, obj: Upload | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if obj is None or not allowed or can_change_any_upload(request):
            return allowed
        return obj.uploader_id == request.user.pk

    def has_delete_permission(self, request: HttpRequest, obj: Upload | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        if obj is None or not allowed or can_change_any_upload(request):
            return allowed
        return obj.uploader_id == request.user.pk

    def save_model(self, request: HttpRequest, obj: Upload, form, change: bool) -> None:
        if change:
            obj.save()
            return
        obj.uploader = request.user
        store_upload(obj, form.cleaned_data["upload"], form.found)

    def delete_model(self, request: HttpRequest, obj: Upload) -> None:
        delete_upload(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for upload in queryset:
            delete_upload(upload)

    def get_deleted_objects(self, objs, request: HttpRequest) -> tuple:
        """The admin's own refusal page lists, as "protected", the posts still using a file."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        for upload in objs:
            for post in posts_using(upload):
                url = reverse("admin:blog_post_change", args=[quote(post.pk)])
                protected.append(format_html('{}：<a href="{}">{}</a>', upload, url, post))
        return deleted, counts, perms_needed, protected

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        limited = refuse_large_bodies(self.too_large)
        api = refuse_large_bodies(views.too_large)
        return [
            path("add/", limited(wrap(self.add_view)), name="uploads_upload_add"),
            path("api/upload/", api(wrap(views.upload_file)), name="uploads_upload_api"),
            path("api/library/", wrap(views.library), name="uploads_upload_library"),
            *super().get_urls(),
        ]

    def too_large(self, request: HttpRequest) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("文件太大"),
            "limit": filesizeformat(settings.SPACES_UPLOAD_MAX_BYTES),
        }
        return TemplateResponse(request, "admin/uploads/upload/too_large.html", context, status=413)

    @admin.display(description=_("缩略图"))
    def thumbnail(self, upload: Upload) -> str:
        if not upload.is_image:
            extension = upload.file.name.rsplit(".", 1)[-1].upper()
            return format_html('<span class="upload-file-icon">{}</span>', extension)
        return format_html(
            '<img class="upload-thumb" src="{}" alt="" loading="lazy">', upload.thumbnail_url
        )

    @admin.display(description=_("预览"))
    def preview(self, upload: Upload) -> str:
        if not upload.is_image:
            return format_html('<a href="{}">{}</a>', upload.file.url, upload.original_name)
        return format_html(
            '<a href="{}"><img class="upload-preview" src="{}" alt="{}"></a>',
            upload.file.url,
            upload.thumbnail_url,
            upload.alt_text,
        )

    @admin.display(description=_("尺寸与大小"), ordering="size")
    def details(self, upload: Upload) -> str:
        size = filesizeformat(upload.size)
        if not upload.is_image:
            return size
        return format_html("{}×{}<br>{}", upload.width, upload.height, size)

    @admin.display(description=_("尺寸"))
    def dimensions(self, upload: Upload) -> str:
        return f"{upload.width} × {upload.height}" if upload.is_image else "—"

    @admin.display(description=_("大小"), ordering="size")
    def file_size(self, upload: Upload) -> str:
        return filesizeformat(upload.size)

    @admin.display(description="Markdown")
    def copy_markdown(self, upload: Upload) -> str:
        return format_html(
            '<button type="button" class="button upload-copy" data-copy="{}" data-done="{}">'
            "{}</button>",
            upload.markdown,
            _("已复制"),
            _("复制 Markdown"),
        )

    @admin.display(description=_("使用它的文章"))
    def used_in(self, upload: Upload) -> str:
        posts = [
            (reverse("admin:blog_post_change", args=[post.pk]), post.title)
            for post in posts_using(upload)
        ]
        if not posts:
            return _("没有文章使用它。")
        return format_html_join(_("、"), '<a href="{}">{}</a>', posts)

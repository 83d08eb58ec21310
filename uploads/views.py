"""The editor's JSON endpoints in the admin: upload a file, and list the library to pick from."""

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from uploads.forms import UploadForm
from uploads.models import Upload
from uploads.services import store_upload

LIBRARY_PAGE = 48


def describe(upload: Upload) -> dict:
    return {
        "id": upload.pk,
        "title": upload.title,
        "kind": upload.kind,
        "url": upload.file.url,
        "thumbnail": upload.thumbnail_url,
        "width": upload.width,
        "height": upload.height,
        "markdown": upload.markdown,
    }


def too_large(request: HttpRequest) -> JsonResponse:
    limit = filesizeformat(settings.SPACES_UPLOAD_MAX_BYTES)
    return JsonResponse({"error": _("文件太大，上限为 %(limit)s。") % {"limit": limit}}, status=413)


@require_POST
def upload_file(request: HttpRequest) -> JsonResponse:
    """Store one file from the editor (drop, paste or the picker): 201 with its Markdown."""
    if not request.user.has_perm("uploads.add_upload"):
        return JsonResponse({"error": _("你没有上传文件的权限。")}, status=403)
    form = UploadForm(
        request.POST, {"upload": request.FILES["file"]} if "file" in request.FILES else {}
    )
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        return JsonResponse({"error": errors[0], "field": field}, status=400)
    form.instance.uploader = request.user
    upload = store_upload(form.instance, form.cleaned_data["upload"], form.found)
    return JsonResponse(describe(upload), status=201)


@require_GET
def library(request: HttpRequest) -> JsonResponse:
    """The newest uploads, or those matching `q`, for the editor's picker."""
    if not request.user.has_perm("uploads.view_upload"):
        return JsonResponse({"error": _("你没有查看媒体库的权限。")}, status=403)
    uploads = Upload.objects.for_library()
    if query := request.GET.get("q", "").strip()[:100]:
        uploads = uploads.filter(
            Q(title__icontains=query) | Q(alt_text__icontains=query) | Q(caption__icontains=query)
        )
    return JsonResponse({"results": [describe(upload) for upload in uploads[:LIBRARY_PAGE]]})

"""Citation downloads and the view-counting beacon of an article."""

from collections.abc import Callable

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from blog.citations import Reference, csl_json
from blog.counting.reads import record_view
from blog.models import Post
from blog.site import base_url

CITATION_FORMATS: dict[str, tuple[str, Callable[[Reference], str]]] = {
    "bib": ("application/x-bibtex; charset=utf-8", lambda ref: ref.bibtex + "\n"),
    "ris": ("application/x-research-info-systems; charset=utf-8", lambda ref: ref.ris),
    "json": ("application/vnd.citationstyles.csl+json; charset=utf-8", csl_json),
}


@require_safe
def cite(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """`/archives/<id>/cite.bib|ris|json`: the reference as a file for reference managers."""
    if fmt not in CITATION_FORMATS:
        raise Http404
    post = get_object_or_404(Post.objects.published().with_authors(), pk=pk)
    reference = Reference.of(post, base_url(request))
    content_type, render = CITATION_FORMATS[fmt]
    response = HttpResponse(render(reference), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{reference.key}.{fmt}"
    )
    response["X-Robots-Tag"] = "noindex"
    return response


@csrf_exempt  # cached pages carry no token; a forged hit is no worse than a scripted visit
@never_cache
@require_POST
def hit(request: HttpRequest, pk: int) -> HttpResponse:
    """The beacon a shown article sends when SPACES_VIEW_COUNT_MODE is "beacon"."""
    response = HttpResponse(status=204)
    if (
        settings.SPACES_VIEW_COUNTING
        and settings.SPACES_VIEW_COUNT_MODE == "beacon"
        and request.headers.get("Sec-Fetch-Site") != "cross-site"
    ):
        record_view(request, response, pk)
    return response

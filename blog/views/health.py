from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Plain "ok" without a database query: for load balancers, and the benchmark's baseline."""
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")

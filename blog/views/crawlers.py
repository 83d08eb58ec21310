"""For crawlers and browsers asking at fixed addresses: robots.txt, which points at the sitemap, and
/favicon.ico."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.generic import TemplateView

from blog.site import absolute_url, asset_url


def favicon(request: HttpRequest) -> HttpResponse:
    """`/favicon.ico`, which browsers ask for on pages without icon links (the admin's)."""
    return HttpResponseRedirect(asset_url(settings.SPACES_FAVICON_ICO))


class RobotsView(TemplateView):
    template_name = "robots.txt"
    content_type = "text/plain; charset=utf-8"

    def get_context_data(self, **kwargs) -> dict:
        sitemap = absolute_url(self.request, reverse("blog:sitemap"))
        return super().get_context_data(sitemap_url=sitemap, **kwargs)

from django.conf import settings
from django.http import HttpRequest

from blog.discovery import cached
from blog.models import Category


def navigation() -> list[dict]:
    """Name and URL of every category with a published post, cached per content version."""
    return cached(
        "navigation",
        lambda: [
            {"name": category.name, "url": category.get_absolute_url()}
            for category in Category.objects.in_use().only("name", "slug")
        ],
    )


def site(request: HttpRequest) -> dict:
    """Site identity and the category navigation (looked up only by pages that show it)."""
    return {
        "site_name": settings.SPACES_SITE_NAME,
        "site_tagline": settings.SPACES_TAGLINE,
        "nav_categories": navigation,  # templates call it when they use it
    }

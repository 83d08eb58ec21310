from django.conf import settings
from django.http import HttpRequest

from blog.models import Category


def site(request: HttpRequest) -> dict:
    """Site identity and the category navigation, for the base layout."""
    return {
        "site_name": settings.SPACES_SITE_NAME,
        "site_tagline": settings.SPACES_TAGLINE,
        "nav_categories": Category.objects.only("name", "slug"),
    }

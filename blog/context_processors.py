from django.conf import settings
from django.db.models import F, Value
from django.http import HttpRequest
from django.urls import reverse

from blog.caching.values import cached
from blog.caching.version import SITE
from blog.models import Category, Post


def navigation() -> list[dict]:
    """Name and URL of every category with a published post, then of every published page in
    its order; cached until a change that reaches every page (SITE)."""
    return cached("navigation", _navigation_links, scopes=(SITE,))


def _navigation_links() -> list[dict]:
    # One query for both: categories (kind 0) in their order, then pages (kind 1) in theirs.
    columns = ["nav_kind", "nav_order", "nav_name", "slug"]
    categories = Category.objects.in_use().annotate(
        nav_kind=Value(0), nav_order=F("order"), nav_name=F("name")
    )
    pages = (
        Post.objects.published()
        .pages()
        .annotate(nav_kind=Value(1), nav_order=F("menu_order"), nav_name=F("title"))
    )
    links = (
        categories.order_by()
        .values_list(*columns)
        .union(pages.order_by().values_list(*columns), all=True)
    )
    url_names = ["blog:category_detail", "blog:page_detail"]
    return [
        {"name": name, "url": reverse(url_names[kind], kwargs={"slug": slug})}
        for kind, _order, name, slug in links.order_by(*columns[:3])
    ]


def site(request: HttpRequest) -> dict:
    """Site identity and the category navigation (looked up only by pages that show it)."""
    return {
        "site_name": settings.SPACES_SITE_NAME,
        "site_tagline": settings.SPACES_TAGLINE,
        "nav_categories": navigation,  # templates call it when they use it
    }

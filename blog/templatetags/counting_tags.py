from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from blog.caching.holes import hole
from blog.counting.display import view_count_html
from blog.models import Post

register = template.Library()


@register.simple_tag
def view_beacon(post: Post) -> SafeString | str:
    """In beacon mode, the script that counts a read once the article is really shown."""
    if not (
        settings.SPACES_VIEW_COUNTING
        and settings.SPACES_VIEW_COUNT_MODE == "beacon"
        and post.is_public
    ):
        return ""
    return format_html(
        '<script src="{}" data-hit-url="{}" defer></script>',
        static("js/counter.js"),
        reverse("blog:post_hit", kwargs={"pk": post.pk}),
    )


@register.simple_tag(takes_context=True)
def view_count(context: template.Context, post: Post) -> SafeString:
    """The post's reader count; a hole filled per request when the page is cached."""
    return hole(
        bool(context.get("for_cache")),
        "views",
        post.pk,
        lambda: view_count_html(post.pk, post.view_count),
    )

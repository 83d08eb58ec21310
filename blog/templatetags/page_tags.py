"""Tags of the page around an article or listing: canonical and absolute URLs, the cached page's
empty CSRF field, the site's icons, the table of contents (Jinja2 globals, blog/jinja.py)."""

from html import escape

from django import template
from django.conf import settings
from django.template.backends.utils import csrf_input
from django.utils.encoding import escape_uri_path
from django.utils.safestring import SafeString, mark_safe

from blog import rendering
from blog.site import absolute_url, asset_url, base_url, share_image

register = template.Library()


@register.simple_tag(takes_context=True)
def canonical_url(context: template.Context) -> str:
    """This page's URL without its query string, on the canonical base URL when one is set."""
    request = context.get("request")
    return absolute_url(request, escape_uri_path(request.path)) if request else ""


@register.simple_tag(takes_context=True)
def page_csrf_token(context: template.Context) -> str:
    """`{% csrf_token %}` for forms on cached pages: empty there, for the form's script to fill
    in from `comments:form_tokens` when the reader starts using it (see comments/views.py)."""
    if context.get("for_cache"):
        return mark_safe('<input type="hidden" name="csrfmiddlewaretoken" value="">')
    return csrf_input(context["request"])


@register.simple_tag(takes_context=True)
def absolute(context: template.Context, path: str) -> str:
    return absolute_url(context.get("request"), path)


@register.simple_tag(takes_context=True)
def share_image_url(context: template.Context, page_url: str, body_html: str = "") -> str:
    """og:image: the absolute URL of the page's first figure, else of SPACES_DEFAULT_IMAGE."""
    return share_image(base_url(context.get("request")), page_url, body_html)


@register.simple_tag(takes_context=True)
def listing_description(context: template.Context) -> str:
    """A listing's meta description: its category's description, author's bio, or the tagline."""
    subject = context.get("subject")
    text = getattr(subject, "description", "") or getattr(subject, "bio", "")
    return rendering.shorten(text, 199).text if text else context.get("site_tagline", "")


def site_icons() -> dict:
    """The favicon and touch icon's URLs, for blog/_site_icons.html."""
    favicon = asset_url(settings.SPACES_FAVICON)
    return {
        "favicon": favicon,
        "favicon_is_svg": favicon.split("?")[0].endswith(".svg"),
        "touch_icon": asset_url(settings.SPACES_TOUCH_ICON),
    }


@register.filter
def plain_text(html: str) -> str:
    return rendering.plain_text(html)


@register.filter
def shortened_text(text: str, length: int) -> str:
    """At most `length` characters, `…` included, for a plain-text place (a meta description),
    cut like truncatechars but never inside a formula."""
    return text if len(text) <= length else rendering.shorten(text, length - 1).text


@register.simple_tag
def table_of_contents(entries: list) -> SafeString:
    """`post.toc` ([level, anchor, text], …) as nested lists; a skipped level nests only once."""
    parts, levels = [], []
    for level, anchor, text in entries:
        if not levels or level > levels[-1]:
            parts.append("<ol>")
            levels.append(level)
        else:
            parts.append("</li>")
            while len(levels) > 1 and level <= levels[-2]:
                parts.append("</ol></li>")
                levels.pop()
            levels[-1] = level
        # html.escape is how format_html() escapes text, without its layers of calls.
        parts.append(f'<li><a href="#{escape(anchor)}">{escape(text)}</a>')
    if levels:
        parts.append("</li></ol>" + "</li></ol>" * (len(levels) - 1))
    return mark_safe("".join(parts))

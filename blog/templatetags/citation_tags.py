import json

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from blog.caching.values import cached
from blog.caching.version import SITE, post_scope
from blog.citations import PostLinks, Reference, post_links
from blog.models import Post
from blog.site import absolute_url, base_url

register = template.Library()

# What json.dumps leaves that could end a <script> element or open an HTML comment.
SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def post_reference(context: template.Context, post: Post) -> Reference:
    """`{% post_reference post as reference %}`: the post's citation in every format."""
    return Reference.of(post, base_url(context.get("request")))


@register.simple_tag
def post_citation_links(post: Post) -> PostLinks:
    """`{% post_citation_links post as links %}`: published posts it cites and that cite it,
    cached under the post's scope, which `blog.services.sync_citations` renews for the posts
    whose citing posts change."""
    scopes = (SITE, post_scope(post.pk))
    return cached("citation-links", lambda: post_links(post), post.pk, scopes=scopes)


@register.simple_tag(takes_context=True)
def post_json_ld(context: template.Context, reference: Reference, post: Post) -> SafeString:
    """The BlogPosting JSON-LD script element."""
    request = context.get("request")
    author_urls = [absolute_url(request, a.get_absolute_url()) for a in post.ordered_authors]
    data = json.dumps(reference.json_ld(author_urls), ensure_ascii=False)
    return format_html(
        '<script type="application/ld+json">{}</script>',
        mark_safe(data.translate(SCRIPT_ESCAPES)),
    )

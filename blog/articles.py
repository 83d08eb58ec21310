"""The post an article page shows: the columns it shows and its byline, in one query compiled
once (blog.compiled); whether a reader may see it is `Post.is_visible_to`.

The ORM's `visible_to().with_authors().get()` cost ~2 ms per article rendered whole (two queries,
their compilation, the prefetch's instances); this ~0.3 ms (docs/PERFORMANCE.md).
"""

from django.db.models import CharField, IntegerField

from blog.compiled import Compiled, Params
from blog.models import Author, Post, PostQuerySet, views_of

# What the article page shows of its post, in the model's field order; the rest stays deferred
# (the Markdown source, the search text: loaded only if something asks for them).
SHOWN = tuple(
    field.attname
    for field in Post._meta.concrete_fields
    if field.name
    in {
        "id",
        "kind",
        "title",
        "slug",
        "status",
        "published_at",
        "updated_at",
        "body_html",
        "excerpt_html",
        "toc",
        "comments_enabled",
        "comment_count",
    }
)
BYLINE = ("id", "user_id", "display_name", "slug")  # what the page shows of its authors


def _with_byline(posts: PostQuerySet) -> PostQuerySet:
    """One row per author, in byline order (one row of NULLs for a post without authors), each
    with the post's reads in all after its columns (`PostViews`, joined)."""
    authors = (f"post_authors__author__{name}" for name in BYLINE)
    views = views_of("total_views__views")
    return posts.values_list(*SHOWN, views, *authors).order_by(
        "post_authors__order", "post_authors__id"
    )


def _by_pk(p: Params) -> PostQuerySet:
    return _with_byline(Post.objects.filter(pk=p.pk))


def _by_page_slug(p: Params) -> PostQuerySet:
    return _with_byline(Post.objects.pages().filter(slug=p.slug))


_ARTICLE = Compiled(_by_pk, pk=IntegerField())
_PAGE = Compiled(_by_page_slug, slug=CharField())


def article(pk: int | None = None, page_slug: str | None = None) -> Post | None:
    """Post `pk`, or the page at `/<page_slug>.html`, with `ordered_authors` filled; None if
    there is none. Drafts too: the caller asks `is_visible_to`."""
    found = _ARTICLE.rows(pk=pk) if page_slug is None else _PAGE.rows(slug=page_slug)
    if not found:
        return None
    post = Post.from_db("default", SHOWN, found[0][: len(SHOWN)])
    post.view_count = found[0][len(SHOWN)]  # as `PostQuerySet.with_views()` names it
    byline = len(SHOWN) + 1
    post.ordered_authors = [
        Author.from_db("default", BYLINE, row[byline:])
        for row in found
        if row[byline] is not None  # a post without authors: NULLs joined
    ]
    return post

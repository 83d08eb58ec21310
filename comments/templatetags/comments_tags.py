from django import template
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from blog.caching.holes import hole
from blog.models import Post
from blog.views.posts import NOTHING_ASKED, ReplyQuery
from comments import personal
from comments.forms import CommentForm
from comments.models import Comment
from comments.sidebar import recent_comments as recent_comment_entries
from comments.threads import author_user_ids, thread_page
from comments.visitors import own_comment_ids, viewer_id

register = template.Library()


def post_comments(context: template.Context, post: Post) -> dict:
    """What comments/_comments.html shows under an article: the threads (the default page
    unless the view chose one) and the form; `post_comments(post)` in Jinja2 (comments/jinja.py)."""
    request = context["request"]
    threads = context.get("comment_threads") or thread_page(
        post, None, own_comment_ids(request), author_user_ids(post), viewer_id(request)
    )
    for_cache = bool(context.get("for_cache"))
    values = {"post": post, "threads": threads, "request": request, "for_cache": for_cache}
    if post.is_public and post.comments_enabled:
        asked = context.get("reply_query", NOTHING_ASKED)
        if for_cache and asked == NOTHING_ASKED:
            # The same for every reader, filled in for the remembered (comments/personal.py)
            values["form_hole"] = hole(True, personal.HOLE, post.pk, str)
        else:
            values.update(comment_form(request, post, for_cache, asked))
    return values


def comment_form(
    request: HttpRequest, post: Post, for_cache: bool, asked: ReplyQuery = NOTHING_ASKED
) -> dict:
    """The form, pre-filled for this reader, replying to or quoting the comment the page's
    view was asked for (`asked`; by default neither)."""
    initial = personal.visitor_details(request)
    values = {"reply_to": None, "reply_refused": False}
    target = comment_on(post, asked.reply_to)
    if target is not None and target.can_be_replied_to:
        initial["reply_to"] = target.pk
        values["reply_to"] = target
    elif target is not None:
        values["reply_refused"] = True
    quoted = comment_on(post, asked.quote)
    if quoted is not None and quoted.is_approved:
        initial["body"] = f"{quoted.quote_markup} "
    values["form"] = CommentForm(post=post, initial=initial, for_cache=for_cache)
    return values


def comment_on(post: Post, pk: int | None) -> Comment | None:
    """Comment `pk` of this post, if there is one."""
    if pk is None:
        return None
    return Comment.objects.filter(pk=pk, post=post).first()


@register.simple_tag
def recent_comments() -> str:
    """The 最近评论 widget, part of the sidebar fragment (blog.templatetags.sidebar_tags)."""
    html = render_to_string("comments/_recent_comments.html", {"entries": recent_comment_entries()})
    return mark_safe(html)  # rendered from our own autoescaping template

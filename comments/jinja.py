"""The pages' Jinja2 environment (blog/jinja.py) with the comments app's globals: the threads and
form under an article and the 最近评论 widget (comments imports blog, never the reverse)."""

from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from blog.jinja import environment as blog_environment
from blog.jinja import with_context
from comments.templatetags import comments_tags


def environment(**options: Any) -> Environment:
    env = blog_environment(**options)

    def post_comments(context: Any, post: Any) -> Markup:
        """`{{ post_comments(post) }}`: the tag's values rendered by comments/_comments.html."""
        values = comments_tags.post_comments(context, post)
        return Markup(env.get_template("comments/_comments.html").render(values))

    env.globals.update(
        post_comments=with_context(post_comments),
        recent_comments=comments_tags.recent_comments,
    )
    return env

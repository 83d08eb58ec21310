"""The comment form written out in templates/jinja2/comments/_form.html gives the HTML Django's
widgets give for the same form, in every state: empty, filled in, replying, bound with errors."""

import pytest
from django.template import engines
from django.template.loader import render_to_string

from comments.forms import CommentForm
from tests.factories import PostFactory

pytestmark = pytest.mark.django_db

TRICKY = "\"Q\" & 'A' <b>"

# The form's fields as the Django template rendered them before, widget by widget.
DJANGO_FIELDS = """{{ form.reply_to }}{{ form.token }}
    {% if form.non_field_errors %}<div class="form-errors">{{ form.non_field_errors }}</div>{% endif %}
    {% if form.token.errors %}<div class="form-errors">{{ form.token.errors }}</div>{% endif %}
    <p class="comment-hp" aria-hidden="true">{{ form.subject.label_tag }}{{ form.subject }}{{ form.subject.errors }}</p>
    <p class="comment-field">{{ form.author_name.label_tag }}{{ form.author_name }}{{ form.author_name.errors }}</p>
    <p class="comment-field">{{ form.author_email.label_tag }}{{ form.author_email }}<small class="hint">{{ form.author_email.help_text }}</small>{{ form.author_email.errors }}</p>
    <p class="comment-field">{{ form.author_url.label_tag }}{{ form.author_url }}{{ form.author_url.errors }}</p>
    <p class="comment-field comment-field-body">{{ form.body.label_tag }}{{ form.body }}<small class="hint">支持 Markdown 与 LaTeX：行内公式 $…$，行间公式 $$…$$。</small>{{ form.body.errors }}</p>
    <p class="comment-notify">{{ form.notify_replies }} {{ form.notify_replies.label_tag }}</p>"""  # noqa: E501


def widgets_html(form: CommentForm) -> str:
    html = engines["django"].from_string(DJANGO_FIELDS).render({"form": form})
    # Django's Jinja2 widget templates escape quotes as markupsafe does; the page escapes them
    # as Django's templates do, like every other value on it.
    return html.replace("&#34;", "&quot;").replace("&#39;", "&#x27;")


def written_html(form: CommentForm) -> str:
    context = {"post": form.post, "form": form, "for_cache": True}  # no request: no CSRF token
    html = render_to_string("comments/_form.html", context)
    start = html.index('<input type="hidden" name="reply_to"')
    end = html.index("</p>", html.index('<p class="comment-notify">')) + len("</p>")
    return html[start:end]


@pytest.mark.parametrize("for_cache", [True, False])
def test_form_html_empty_is_what_widgets_give(for_cache):
    form = CommentForm(post=PostFactory(), for_cache=for_cache)
    assert written_html(form) == widgets_html(form)


def test_form_html_filled_in_and_replying_is_what_widgets_give():
    initial = {
        "author_name": TRICKY,
        "author_email": "a@example.com",
        "author_url": "https://example.com/?a=1&b=2",
        "reply_to": 42,
        "body": f"[comment=42]{TRICKY}[/comment] ",
    }
    form = CommentForm(post=PostFactory(), initial=initial)
    html = written_html(form)
    assert html == widgets_html(form)
    assert 'value="&quot;Q&quot; &amp; &#x27;A&#x27; &lt;b&gt;"' in html


def test_form_html_bound_with_errors_is_what_widgets_give():
    data = {
        "author_name": "",
        "author_email": "not an address",
        "author_url": "x y",
        "body": TRICKY,
        "subject": "cheap pills",
        "token": "stale",
        "reply_to": "abc",
        "notify_replies": "on",
    }
    form = CommentForm(data, post=PostFactory())
    assert not form.is_valid()
    form.add_error(None, "A problem with the whole form.")
    html = written_html(form)
    assert html == widgets_html(form)
    assert 'aria-describedby="id_author_email_helptext id_author_email_error"' in html
    assert '<ul class="errorlist nonfield">' in html
    assert " checked>" in html


def test_form_html_bound_without_errors_is_what_widgets_give():
    data = {"author_name": TRICKY, "author_email": "a@example.com", "body": "x", "token": "t"}
    form = CommentForm(data, post=PostFactory())
    form.is_valid()
    form.errors.pop("token", None)
    assert written_html(form) == widgets_html(form)

"""The Jinja2 parts of pages (blog/jinja.py) escape as Django's templates do."""

from datetime import UTC, datetime

import pytest
from django.template import engines
from django.urls import set_script_prefix
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.translation import gettext_lazy

from blog.jinja import FIXED_FORMATS, date
from tests.factories import AuthorFactory, CommentFactory, PostFactory

pytestmark = pytest.mark.django_db

TRICKY = "\"Q\" & 'A' <b>"
DJANGO_ESCAPED = "&quot;Q&quot; &amp; &#x27;A&#x27; &lt;b&gt;"


def test_jinja_values_are_escaped_as_django_escapes_them():
    part = engines["jinja2"].from_string("{{ text }}|{{ safe|safe }}")
    assert part.render({"text": TRICKY, "safe": "<i>x</i>"}) == f"{DJANGO_ESCAPED}|<i>x</i>"


@pytest.mark.parametrize(
    "value",
    [TRICKY, "<b> & </b>", "it's", 'say "hi"', "&amp; 已转义", 42, 1.5, None, gettext_lazy("首页")],
)
def test_jinja_values_of_every_kind_are_escaped_as_django_escapes_them(value):
    part = engines["jinja2"].from_string("{{ value }}")
    assert part.render({"value": value}) == escape(value)


def test_article_and_its_comments_escape_titles_and_names_as_before(client, settings):
    settings.SPACES_PAGE_CACHE = False
    post = PostFactory(title=TRICKY)
    CommentFactory(post=post, author_name=TRICKY)
    html = client.get(post.get_absolute_url()).content.decode()
    assert f'<h1 class="post-title">{DJANGO_ESCAPED}</h1>' in html
    assert f'<meta property="og:title" content="{DJANGO_ESCAPED}">' in html
    assert f'data-reply-name="{DJANGO_ESCAPED}"' in html
    assert "&#34;" not in html
    assert "&#39;" not in html


def test_page_links_follow_the_script_prefix_and_urlconf_in_force(client, settings):
    settings.SPACES_PAGE_CACHE = False
    post = PostFactory()
    feed = '<link rel="alternate" type="application/rss+xml" title="{}" href="{}/feed">'
    form = f'<form method="post" action="{{}}/archives/{post.pk}/comment" class="comment-form"'

    def links(path, prefix):
        html = client.get(path).content.decode()
        return (
            feed.format(settings.SPACES_SITE_NAME, prefix) in html and form.format(prefix) in html
        )

    assert links(f"/archives/{post.pk}", "")
    set_script_prefix(
        "/blog/"
    )  # as WSGIHandler sets it from SCRIPT_NAME (the test client does not)
    try:
        assert links(f"/archives/{post.pk}", "/blog")
    finally:
        set_script_prefix("/")
    assert links(f"/archives/{post.pk}", "")
    settings.ROOT_URLCONF = "tests.blog.urls_mounted"
    assert links(f"/mounted/archives/{post.pk}", "/mounted")


def test_translated_html_keeps_its_markup_and_escapes_its_values(client):
    post = PostFactory(title=TRICKY)
    response = client.post(f"/archives/{post.pk}/comment", {"body": "x"})  # refused: no name
    html = response.content.decode()
    link = f'<a href="{post.get_absolute_url()}">{DJANGO_ESCAPED}</a>'
    assert f"<p>返回文章 {link}。</p>" in html  # blocktranslate's msgid holds HTML


@pytest.mark.parametrize(("count", "summary"), [(1, "1 post in total"), (2, "2 posts in total")])
def test_plural_messages_count_and_translate(client, settings, count, summary):
    settings.LANGUAGE_CODE = "en"
    PostFactory.create_batch(count)
    html = client.get("/content.html").content.decode()
    assert f'<p class="archive-summary">{summary}</p>' in html


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai", "America/St_Johns"])
def test_fixed_date_formats_give_what_djangos_format_language_gives(settings, zone):
    settings.TIME_ZONE = zone
    moments = [
        datetime(2024, 5, 13, 12, 0, tzinfo=UTC),
        datetime(2024, 12, 31, 20, 30, 5, 123456, tzinfo=UTC),
        datetime(1901, 1, 1, 0, 0, tzinfo=UTC),
    ]
    for moment in moments:
        local = timezone.localtime(moment)
        for fmt in FIXED_FORMATS:
            assert date(moment, fmt) == date_format(local, fmt)


def test_listing_cards_render_byte_for_byte_as_before(client, settings):
    settings.SPACES_PAGE_CACHE = False
    settings.TIME_ZONE = "Asia/Shanghai"
    first = AuthorFactory(display_name=TRICKY, slug="苏-剑林")
    second = AuthorFactory(display_name="Ada", slug="ada")
    post = PostFactory(
        title=TRICKY,
        body="摘要 *强调*\n\n<!--more-->\n\n正文",
        authors=[first, second],
        published_at=datetime(2024, 5, 13, 20, 30, 5, 123456, tzinfo=UTC),
        view_count=42,
    )
    card = (
        '<article class="post-card">\n'
        '  <div class="date-badge" aria-hidden="true"><span class="day">14</span>'
        '<span class="month">May</span></div>\n'
        '  <div class="card-body">\n'
        f'    <h2 class="post-title"><a href="/archives/{post.pk}">{DJANGO_ESCAPED}</a></h2>\n'
        '    <div class="post-meta">By <a href="/author/%E8%8B%8F-%E5%89%91%E6%9E%97/">'
        f'{DJANGO_ESCAPED}</a>, <a href="/author/ada/">Ada</a> | '
        '<time datetime="2024-05-14T04:30:05.123456+08:00">2024-05-14</time> | '
        f'<span class="view-count" data-post="{post.pk}">42位读者</span></div>\n\n'
        '    <div class="excerpt" data-math-scope><p>摘要 <em>强调</em></p>\n</div>\n'
        f'    <p class="read-more"><a href="/archives/{post.pk}">点击阅读全文...</a></p>\n'
        "  </div>\n"
        "</article>\n"
    )
    for url in ("/", "/author/ada/", "/2024/05/"):
        assert card in client.get(url).content.decode()


def test_a_missing_value_prints_nothing_with_debug_on_too():
    """Django's backend passes DebugUndefined when DEBUG is on; pages must not show `{{ name }}`
    (the sidebar's search box reads `search_query`, set only on search pages)."""
    from jinja2 import DebugUndefined

    from blog.jinja import environment

    env = environment(undefined=DebugUndefined, loader=None)
    assert env.from_string('<input value="{{ search_query }}">').render() == '<input value="">'


def test_an_attribute_of_a_missing_value_prints_nothing_as_in_django():
    """`{{ subject.name }}` on a page whose view sets no `subject`: empty, as Django printed it,
    not an UndefinedError (a 500) on a path no test happened to reach."""
    from blog.jinja import environment

    env = environment(loader=None)
    template = env.from_string(
        "[{{ subject.name }}|{{ subject.name|length }}|{% if subject.x %}x{% endif %}]"
    )
    assert template.render() == "[|0|]"

import ast
import re
from datetime import UTC, date, datetime
from gettext import GNUTranslations
from pathlib import Path
from typing import NamedTuple

import pytest
from django.conf import settings as django_settings
from django.utils import dateformat, translation
from django.utils.translation import gettext, ngettext, pgettext

from tests.factories import CommentFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

MESSAGES = Path(django_settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[a-z%]", re.IGNORECASE)


class Message(NamedTuple):
    context: str | None
    msgid: str
    plural: str | None
    translations: list[str]
    flags: set[str]


def read_po(path: Path) -> list[Message]:
    """The catalogue's messages, without its header and obsolete (`#~`) entries."""
    messages = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        parts: dict[str, str] = {}
        flags: set[str] = set()
        key = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith('"'):
                parts[key] += ast.literal_eval(line)
            elif line and not line.startswith("#"):
                key, _, quoted = line.partition(" ")
                parts[key] = ast.literal_eval(quoted)
        if parts.get("msgid"):
            translations = [text for name, text in parts.items() if name.startswith("msgstr")]
            messages.append(
                Message(
                    parts.get("msgctxt"),
                    parts["msgid"],
                    parts.get("msgid_plural"),
                    translations,
                    flags,
                )
            )
    return messages


CATALOGUE = read_po(MESSAGES / "django.po")


def test_catalogue_translates_every_message():
    assert len(CATALOGUE) > 100
    for message in CATALOGUE:
        assert "fuzzy" not in message.flags, message.msgid
        assert len(message.translations) == (2 if message.plural else 1), message.msgid
        assert all(text.strip() for text in message.translations), message.msgid


def test_catalogue_keeps_placeholders():
    for message in CATALOGUE:
        expected = sorted(PLACEHOLDER.findall(message.msgid))
        for text in message.translations:
            assert sorted(PLACEHOLDER.findall(text)) == expected, message.msgid


def test_compiled_catalogue_matches_po():
    """The committed .mo is the compiled .po: `make run` needs no gettext tools."""
    with (MESSAGES / "django.mo").open("rb") as mo:
        compiled = GNUTranslations(mo)
    for context, msgid, plural, translations, _flags in CATALOGUE:
        if plural and context:
            found = [compiled.npgettext(context, msgid, plural, n) for n in (1, 2)]
        elif plural:
            found = [compiled.ngettext(msgid, plural, n) for n in (1, 2)]
        elif context:
            found = [compiled.pgettext(context, msgid)]
        else:
            found = [compiled.gettext(msgid)]
        assert found == translations, msgid


def test_english_catalogue_translates_known_messages():
    with translation.override("en"):
        assert gettext("点击阅读全文...") == "Read more..."
        assert gettext("引用") == "Cite"
        assert ngettext("%(n)s位读者", "%(n)s位读者", 1) % {"n": 1} == "1 reader"
        assert ngettext("%(n)s位读者", "%(n)s位读者", 42) % {"n": 42} == "42 readers"
    with translation.override("zh-hans"):
        assert gettext("点击阅读全文...") == "点击阅读全文..."


def test_english_comment_date_format_is_kexue_style():
    with translation.override("en"):
        date_format = pgettext("comment date", "Y年n月j日")
        assert date_format == "F jS, Y"
        assert dateformat.format(date(2022, 4, 8), date_format) == "April 8th, 2022"


@pytest.mark.parametrize(
    ("language", "heading", "link"), [("zh-hans", "5月", "5月"), ("en", "May", "May")]
)
def test_archive_months_are_named_in_the_site_language(client, settings, language, heading, link):
    settings.LANGUAGE_CODE = language
    PostFactory(published_at=datetime(2019, 5, 13, 12, tzinfo=UTC))
    assert f"<h3>{heading}</h3>" in client.get("/content.html").content.decode()
    assert f'/2019/05/">{link}</a>' in client.get("/2019/").content.decode()


def test_rate_limit_message_counts_seconds_in_english():
    with translation.override("en"):
        message = "您评论得太快了，请 %(seconds)d 秒后再试。"
        assert ngettext(message, message, 1) % {"seconds": 1} == (
            "You are commenting too quickly. Please try again in 1 second."
        )
        assert ngettext(message, message, 30) % {"seconds": 30} == (
            "You are commenting too quickly. Please try again in 30 seconds."
        )


def test_home_in_english_says_read_more_and_readers(client, settings):
    settings.LANGUAGE_CODE = "en"
    PostFactory(view_count=42)
    PostFactory(view_count=1)
    html = client.get("/").content.decode()
    assert '<html lang="en">' in html
    assert "Read more..." in html
    assert "42 readers" in html
    assert "1 reader<" in html
    assert "点击阅读全文" not in html
    assert "位读者" not in html


def test_home_in_chinese_by_default(client):
    PostFactory(view_count=42)
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "点击阅读全文..." in html
    assert "42位读者" in html
    assert "Read more..." not in html


def test_article_in_english_offers_cite_and_english_comments(client, settings):
    settings.LANGUAGE_CODE = "en"
    post = PostFactory()
    root = CommentFactory(post=post, created_at=datetime(2022, 4, 8, 12, tzinfo=UTC))
    CommentFactory(parent=root, created_at=datetime(2022, 4, 9, 12, tzinfo=UTC))
    html = client.get(post.get_absolute_url()).content.decode()
    assert '<a class="cite-toggle" href="#citation">Cite</a>' in html
    assert "If you want to cite this article, please use:" in html
    assert "2 comments" in html
    assert ">April 8th, 2022 20:00</time>" in html
    assert re.search(
        r"said on <a class=\"comment-date\"[^>]*><time[^>]*>April 9th, 2022 20:00<", html
    )
    # `{% translate %}` doubles and restores "%": the script still gets a plain placeholder.
    assert 'data-reply-template="Reply to %(name)s"' in html


def test_article_in_chinese_keeps_reply_placeholder(client):
    post = PostFactory()
    html = client.get(post.get_absolute_url()).content.decode()
    assert ">引用</a>" in html
    assert 'data-reply-template="回复给 %(name)s"' in html


def test_admin_in_english_translates_names_and_actions(client, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    PostFactory(published_at=datetime(2999, 1, 1, tzinfo=UTC))
    html = client.get("/admin/blog/post/").content.decode()
    assert "Top posts" in html
    assert "Publish selected posts now" in html
    assert "Scheduled" in html
    assert "定时发布" not in html

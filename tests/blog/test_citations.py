import datetime as dt
import json
import re
from io import StringIO
from pathlib import Path

import bibtexparser
import pytest
import rispy
from bibtexparser.bparser import BibTexParser
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from blog.caching.version import content_changed
from blog.citations import Reference, bibtex_escape
from blog.importing import PostSource, save_post
from blog.models import Citation, Post
from blog.services import linked_post_ids, sync_citations
from blog.site import base_url
from tests.factories import AuthorFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

SEED_TITLE = "细水长flow之可逆ResNet：极致的暴力美学"
SEED_TEXT = (
    "苏剑林. (Mar. 21, 2019). 《细水长flow之可逆ResNet：极致的暴力美学 》[Blog post]. "
    "Retrieved from https://kexue.fm/archives/6482"
)
SEED_BIBTEX = """@online{kexuefm-6482,
        title={细水长flow之可逆ResNet：极致的暴力美学},
        author={苏剑林},
        year={2019},
        month={Mar},
        url={\\url{https://kexue.fm/archives/6482}},
}"""


def local(*args) -> timezone.datetime:
    return timezone.make_aware(timezone.datetime(*args))


@pytest.fixture
def kexue(settings):
    settings.SPACES_BASE_URL = "https://kexue.fm"
    settings.SPACES_CITATION_KEY = "kexuefm"


@pytest.fixture
def seed_post(kexue):
    return PostFactory(
        pk=6482,
        title=SEED_TITLE,
        authors=[AuthorFactory(display_name="苏剑林")],
        published_at=local(2019, 3, 21, 10, 30),
    )


def parse_bibtex(text: str) -> list[dict]:
    parser = BibTexParser(common_strings=False, ignore_nonstandard_types=False)
    return bibtexparser.loads(text, parser=parser).entries


def citation_lists(html: str) -> str:
    """The article's 本文引用 / 被以下文章引用 section, or "" without one."""
    if 'class="post-citations"' not in html:
        return ""
    section = html[html.index('class="post-citations"') :]
    return section[: section.index("</section>")]


def lists_on(client, post: Post) -> str:
    return citation_lists(client.get(post.get_absolute_url()).content.decode())


def reference(post: Post) -> Reference:
    return Reference.of(Post.objects.with_authors().get(pk=post.pk), base_url(None))


def test_reference_text_matches_seed_site_exactly(seed_post):
    assert reference(seed_post).text == SEED_TEXT


def test_reference_bibtex_matches_seed_site_exactly(seed_post):
    assert reference(seed_post).bibtex == SEED_BIBTEX


def test_article_shows_seed_reference_and_bibtex(client, seed_post):
    html = client.get("/archives/6482").content.decode()
    block = html[html.index('id="citation"') :]
    assert "如果您需要引用本文，请参考：" in block
    assert f'<p class="citation-text">{SEED_TEXT}</p>' in block
    assert f"<code>{SEED_BIBTEX}</code>" in block
    assert 'class="cite-toggle" href="#citation"' in html


def test_reference_lists_several_authors_in_order(kexue):
    post = PostFactory(
        pk=7000,
        title="双人合作",
        authors=[AuthorFactory(display_name="苏剑林"), AuthorFactory(display_name="Ada Lovelace")],
        published_at=local(2020, 1, 2, 9),
    )
    ref = reference(post)
    assert ref.text.startswith("苏剑林, Ada Lovelace. (Jan. 02, 2020). 《双人合作 》")
    assert "        author={苏剑林 and Ada Lovelace},\n" in ref.bibtex


@pytest.mark.parametrize(
    ("moment", "text_date", "bib_month"),
    [
        (local(2021, 5, 5, 12), "(May. 05, 2021)", "month={May},"),
        (local(2022, 6, 7, 12), "(Jun. 07, 2022)", "month={Jun},"),
        (local(2018, 12, 31, 23, 59), "(Dec. 31, 2018)", "month={Dec},"),
    ],
)
def test_reference_month_always_has_a_dot_and_day_is_zero_padded(
    kexue, moment, text_date, bib_month
):
    ref = reference(PostFactory(published_at=moment))
    assert f". {text_date}. 《" in ref.text
    assert f"        {bib_month}\n" in ref.bibtex


def test_reference_date_is_in_site_time_zone(kexue, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    # 20:00 UTC on the 20th is 04:00 on the 21st in Shanghai.
    moment = dt.datetime(2019, 3, 20, 20, tzinfo=dt.UTC)
    assert "(Mar. 21, 2019)" in reference(PostFactory(published_at=moment)).text


def test_reference_without_base_url_uses_request_host(settings):
    settings.SPACES_BASE_URL = ""
    post = PostFactory()
    settings.ALLOWED_HOSTS = ["blog.example.org"]
    request = RequestFactory().get("/", secure=True, HTTP_HOST="blog.example.org")
    ref = Reference.of(Post.objects.with_authors().get(pk=post.pk), base_url(request))
    assert ref.text.endswith(f"Retrieved from https://blog.example.org/archives/{post.pk}")


def test_reference_key_prefix_is_a_setting(settings):
    settings.SPACES_CITATION_KEY = "myblog"
    post = PostFactory()
    assert reference(post).bibtex.startswith(f"@online{{myblog-{post.pk},\n")


def test_bibtex_escapes_specials_and_stays_balanced(kexue):
    post = PostFactory(title=r"{}%&#_\$^~ 公式 {a_1} 100% \LaTeX")
    bib = reference(post).bibtex
    body = bib.replace("\\{", "").replace("\\}", "")
    assert body.count("{") == body.count("}")
    entry = parse_bibtex(bib)[0]
    assert entry["title"] == bibtex_escape(post.title)
    assert "公式" in entry["title"]
    assert r"\%" in entry["title"]
    assert r"\textbackslash{}" in entry["title"]


def test_bibtex_keeps_an_author_with_a_comma_whole(kexue):
    post = PostFactory(authors=[AuthorFactory(display_name="Lab, Inc."), AuthorFactory()])
    assert "author={{Lab, Inc.} and " in reference(post).bibtex


def test_cite_bib_download_parses(client, seed_post):
    response = client.get("/archives/6482/cite.bib")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-bibtex; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="kexuefm-6482.bib"'
    entry = parse_bibtex(response.content.decode())[0]
    assert entry["ENTRYTYPE"] == "online"
    assert entry["ID"] == "kexuefm-6482"
    assert entry["title"] == SEED_TITLE
    assert entry["author"] == "苏剑林"
    assert (entry["year"], entry["month"]) == ("2019", "Mar")
    assert entry["url"] == r"\url{https://kexue.fm/archives/6482}"


def test_cite_ris_download_parses(client, kexue):
    post = PostFactory(
        title="双人合作",
        authors=[AuthorFactory(display_name="甲"), AuthorFactory(display_name="乙")],
        published_at=local(2019, 3, 21, 10),
    )
    response = client.get(f"/archives/{post.pk}/cite.ris")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert f'filename="kexuefm-{post.pk}.ris"' in response["Content-Disposition"]
    [record] = rispy.loads(response.content.decode())
    assert record["type_of_reference"] == "BLOG"
    assert record["title"] == "双人合作"
    assert record["authors"] == ["甲", "乙"]
    assert record["year"] == "2019"
    assert record["date"] == "2019/03/21/"
    assert record["urls"] == [f"https://kexue.fm/archives/{post.pk}"]


def test_cite_csl_json_download_parses(client, seed_post):
    response = client.get("/archives/6482/cite.json")
    assert response["Content-Type"] == "application/vnd.citationstyles.csl+json; charset=utf-8"
    assert 'filename="kexuefm-6482.json"' in response["Content-Disposition"]
    [item] = json.loads(response.content)
    assert item["id"] == "kexuefm-6482"
    assert item["type"] == "post-weblog"
    assert item["title"] == SEED_TITLE
    assert item["author"] == [{"literal": "苏剑林"}]
    assert item["issued"] == {"date-parts": [[2019, 3, 21]]}
    assert item["URL"] == "https://kexue.fm/archives/6482"


@pytest.mark.parametrize("fmt", ["bib", "ris", "json"])
def test_cite_downloads_are_404_for_unpublished_or_missing(client, fmt):
    draft = PostFactory(status=Post.Status.DRAFT)
    scheduled = PostFactory(published_at=timezone.now() + timezone.timedelta(days=1))
    for pk in (draft.pk, scheduled.pk, 999999):
        assert client.get(f"/archives/{pk}/cite.{fmt}").status_code == 404


def test_cite_downloads_are_404_for_drafts_even_for_their_author(client):
    author = AuthorFactory()
    draft = PostFactory(status=Post.Status.DRAFT, authors=[author])
    client.force_login(author.user)
    assert client.get(f"/archives/{draft.pk}/cite.bib").status_code == 404


@pytest.mark.parametrize("path", ["cite.txt", "cite.", "cite.bib.exe", "cite.BIB", "cite.json/"])
def test_cite_unknown_formats_are_404(client, path):
    post = PostFactory()
    assert client.get(f"/archives/{post.pk}/{path}").status_code == 404


def test_cite_refuses_post_requests(client):
    post = PostFactory()
    assert client.post(f"/archives/{post.pk}/cite.bib").status_code == 405


def test_article_has_citation_meta_tags(client, kexue):
    post = PostFactory(
        title="A & B <i>",
        authors=[AuthorFactory(display_name="甲"), AuthorFactory(display_name="乙")],
        published_at=local(2019, 3, 21, 10),
    )
    html = client.get(post.get_absolute_url()).content.decode()
    head = html[: html.index("</head>")]
    assert '<meta name="citation_title" content="A &amp; B &lt;i&gt;">' in head
    authors = re.findall(r'<meta name="citation_author" content="([^"]*)">', head)
    assert authors == ["甲", "乙"]
    assert '<meta name="citation_publication_date" content="2019/03/21">' in head
    url = f"https://kexue.fm/archives/{post.pk}"
    assert f'<meta name="citation_public_url" content="{url}">' in head
    assert '<meta name="z:itemType" content="blogPost">' in head


def test_article_has_blogposting_json_ld(client, kexue):
    author = AuthorFactory(display_name="苏剑林")
    post = PostFactory(title="标题", authors=[author], published_at=local(2019, 3, 21, 10))
    html = client.get(post.get_absolute_url()).content.decode()
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)[1]
    data = json.loads(raw)
    assert data["@type"] == "BlogPosting"
    assert data["headline"] == "标题"
    assert data["author"] == [
        {"@type": "Person", "name": "苏剑林", "url": f"https://kexue.fm{author.get_absolute_url()}"}
    ]
    assert data["datePublished"] == "2019-03-21T10:00:00+08:00"
    assert data["url"] == f"https://kexue.fm/archives/{post.pk}"


def test_json_ld_cannot_close_its_script_element(client):
    post = PostFactory(title="</script><script>alert(1)</script>")
    html = client.get(post.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)[1]
    assert json.loads(raw)["headline"] == post.title


def test_draft_preview_has_no_citation_meta_or_downloads(client):
    author = AuthorFactory()
    draft = PostFactory(status=Post.Status.DRAFT, authors=[author])
    client.force_login(author.user)
    html = client.get(draft.get_absolute_url()).content.decode()
    assert "citation_title" not in html
    assert "application/ld+json" not in html
    assert "cite.bib" not in html


# --- Cross-post citations -------------------------------------------------------------------


def link(href: str, text: str = "链接") -> str:
    return f"[{text}]({href})\n\n"


def test_linked_post_ids_match_this_site_only(settings):
    settings.SPACES_BASE_URL = "https://kexue.fm"
    settings.SPACES_OLD_HOSTS = ["spaces.ac.cn", "https://old.example.org"]
    settings.ALLOWED_HOSTS = ["kexue.fm", ".kexue.fm", "*"]
    html = "".join(
        f'<a href="{href}">x</a>'
        for href in [
            "/archives/1",
            "/archives/2/",
            "/archives/3#eq-1",
            "/archives/4?from=rss",
            "https://kexue.fm/archives/5",
            "http://www.kexue.fm/archives/6",
            "//spaces.ac.cn/archives/7",
            "https://old.example.org:8443/archives/8",
            "9",  # relative to /archives/100
            "https://KEXUE.FM/archives/10",
            "https://other.example/archives/11",
            "ftp://kexue.fm/archives/12",
            "/archives/13/cite.bib",
            "/archive/14",
            "http://[::1/archives/15",
            "/archives/99999999999999999999",
            "/archives/1",
        ]
    )
    assert linked_post_ids(html, "/archives/100") == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]


def test_sync_citations_records_existing_targets_but_not_self():
    target = PostFactory()
    draft_target = PostFactory(status=Post.Status.DRAFT)
    post = PostFactory()
    post.body = (
        link(target.get_absolute_url())
        + link(f"http://testserver/archives/{draft_target.pk}")
        + link(post.get_absolute_url())
        + link("/archives/987654")
    )
    post.save()
    sync_citations(post)
    assert set(Citation.objects.values_list("source", "target")) == {
        (post.pk, target.pk),
        (post.pk, draft_target.pk),
    }


def test_sync_citations_survives_hostile_links():
    post = PostFactory(body="".join(link(h) for h in ["javascript:alert(1)", "http://[x", "//"]))
    sync_citations(post)
    assert not Citation.objects.exists()


def test_sync_citations_caps_the_number_of_links():
    post = PostFactory(body="".join(f'<a href="/archives/{n}">{n}</a> ' for n in range(1, 2000)))
    assert len(linked_post_ids(post.body_html, post.get_absolute_url())) == 1000


def test_article_lists_published_posts_it_cites_and_that_cite_it(client):
    cited = PostFactory(title="被引用者")
    citing = PostFactory(title="引用者", body=link(cited.get_absolute_url()))
    sync_citations(citing)
    cited_html = lists_on(client, cited)
    citing_html = lists_on(client, citing)
    assert "被以下文章引用" in cited_html
    assert f'<a href="{citing.get_absolute_url()}">引用者</a>' in cited_html
    assert "本文引用" in citing_html
    assert f'<a href="{cited.get_absolute_url()}">被引用者</a>' in citing_html


def test_drafts_never_appear_in_citation_lists(client):
    post = PostFactory()
    draft_cited = PostFactory(title="草稿被引", status=Post.Status.DRAFT)
    scheduled_citing = PostFactory(
        title="定时引用",
        body=link(post.get_absolute_url()),
        published_at=timezone.now() + timezone.timedelta(days=1),
    )
    draft_citing = PostFactory(
        title="草稿引用", status=Post.Status.DRAFT, body=link(post.get_absolute_url())
    )
    post.body = link(draft_cited.get_absolute_url())
    post.save()
    for each in (post, scheduled_citing, draft_citing):
        sync_citations(each)
    assert Citation.objects.count() == 3
    html = client.get(post.get_absolute_url()).content.decode()
    for title in ("草稿被引", "定时引用", "草稿引用", "本文引用", "被以下文章引用"):
        assert title not in html


def admin_form(post: Post, **changes) -> dict:
    local_time = timezone.localtime(post.published_at)
    data = {
        "title": post.title,
        "body": post.body,
        "status": post.status,
        "published_at_0": local_time.strftime("%Y-%m-%d"),
        "published_at_1": local_time.strftime("%H:%M:%S"),
        "comments_enabled": "on",
        "post_authors-TOTAL_FORMS": "0",
        "post_authors-INITIAL_FORMS": "0",
        "post_authors-MIN_NUM_FORMS": "0",
        "post_authors-MAX_NUM_FORMS": "1000",
    }
    return {**data, **changes}


def test_admin_edit_updates_citations_on_both_sides(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    first, second = PostFactory(title="第一篇"), PostFactory(title="第二篇")
    post = PostFactory(title="引用者")
    url = f"/admin/blog/post/{post.pk}/change/"
    response = client.post(url, admin_form(post, body=link(first.get_absolute_url())))
    assert response.status_code == 302
    assert "引用者" in lists_on(client, first)
    client.post(url, admin_form(post, body=link(second.get_absolute_url())))
    assert "引用者" not in lists_on(client, first)
    assert "引用者" in lists_on(client, second)
    assert list(Citation.objects.values_list("target", flat=True)) == [second.pk]


def test_admin_add_records_citations(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    target = PostFactory()
    response = client.post(
        "/admin/blog/post/add/",
        admin_form(
            Post(title="新文章", status="published", published_at=timezone.now()),
            body=link(f"http://testserver/archives/{target.pk}"),
        ),
    )
    assert response.status_code == 302
    assert Citation.objects.get().target == target


def test_unpublishing_or_deleting_a_citing_post_removes_it_from_the_list(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    cited = PostFactory()
    citing = PostFactory(title="引用者", body=link(cited.get_absolute_url()))
    sync_citations(citing)
    client.post("/admin/blog/post/", {"action": "make_draft", "_selected_action": [citing.pk]})
    client.logout()
    assert "引用者" not in lists_on(client, cited)
    Post.objects.filter(pk=citing.pk).update(status=Post.Status.PUBLISHED)
    content_changed()  # an update() sends no signal; cached pages wait for the version
    assert "引用者" in lists_on(client, cited)
    citing.delete()
    assert not Citation.objects.exists()
    assert "被以下文章引用" not in client.get(cited.get_absolute_url()).content.decode()


def test_deleting_a_cited_post_removes_it_from_the_list(client):
    cited = PostFactory(title="被引用者")
    citing = PostFactory(body=link(cited.get_absolute_url()))
    sync_citations(citing)
    cited.delete()
    assert "本文引用" not in client.get(citing.get_absolute_url()).content.decode()


def test_import_records_citations_including_later_posts(tmp_path):
    def front(pk: int, body: str) -> str:
        return f"---\ntitle: 文章{pk}\ndate: 2020-01-0{pk}\nid: {pk}\n---\n{body}\n"

    (tmp_path / "1.md").write_text(front(1, "见[下一篇](/archives/2)。"), encoding="utf-8")
    (tmp_path / "2.md").write_text(front(2, "见[上一篇](/archives/1)。"), encoding="utf-8")
    call_command("import_markdown", str(tmp_path))
    assert set(Citation.objects.values_list("source", "target")) == {(1, 2), (2, 1)}


def test_save_post_syncs_citations():
    target = PostFactory()
    post, _created = save_post(
        PostSource(
            path=Path("x.md"),
            title="导入",
            body=link(target.get_absolute_url()),
            published_at=timezone.now(),
            status=Post.Status.PUBLISHED,
        )
    )
    assert Citation.objects.get().source == post


@pytest.mark.parametrize("count", [1, 30])
def test_citation_lists_take_one_query_however_long(client, count):
    post = PostFactory()
    cited = PostFactory.create_batch(count)
    post.body = "".join(link(p.get_absolute_url()) for p in cited)
    post.save()
    sync_citations(post)
    for citing in PostFactory.create_batch(count, body=link(post.get_absolute_url())):
        sync_citations(citing)
    with CaptureQueriesContext(connection) as captured:
        html = client.get(post.get_absolute_url()).content.decode()
    assert citation_lists(html).count("<li>") == 2 * count
    assert sum("blog_citation" in q["sql"] for q in captured.captured_queries) == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("javascript", [False, True])
def test_cite_link_reveals_the_block_in_a_browser(live_server, browser, javascript):
    post = PostFactory()
    context = browser.new_context(java_script_enabled=javascript)
    try:
        page = context.new_page()
        page.goto(live_server.url + post.get_absolute_url())
        block = page.locator("#citation")
        assert not block.is_visible()
        page.click("a.cite-toggle")
        assert block.is_visible()
        assert "如果您需要引用本文，请参考：" in block.inner_text()
        assert "@online{" in block.inner_text()
    finally:
        context.close()


def test_rerender_posts_resyncs_the_citation_graph():
    from django.core.management import call_command

    from blog.models import Citation

    target = PostFactory()
    source = PostFactory(body=f"见[前文](/archives/{target.pk})。")
    Citation.objects.all().delete()  # as after a pipeline change that altered links
    call_command("rerender_posts", stdout=StringIO())
    assert list(Citation.objects.values_list("source", "target")) == [(source.pk, target.pk)]


def test_rerender_posts_shows_on_cached_pages_at_once(client):
    post = PostFactory(body="旧的正文")
    client.get(post.get_absolute_url())  # cached
    Post.objects.filter(pk=post.pk).update(body="新的正文")  # as a pipeline change would need
    call_command("rerender_posts", stdout=StringIO())
    assert "新的正文" in client.get(post.get_absolute_url()).content.decode()


@pytest.mark.django_db(transaction=True)  # a change reaches readers when it commits
@pytest.mark.parametrize("page_cache", [True, False])
def test_a_post_that_starts_or_stops_citing_renews_the_cited_article(client, settings, page_cache):
    settings.SPACES_PAGE_CACHE = page_cache
    cited = PostFactory(title="被引用者")
    citing = PostFactory(title="引用者")
    assert lists_on(client, cited) == ""  # its page and its links are cached now
    citing.body = link(cited.get_absolute_url())
    citing.save()
    sync_citations(citing)
    assert f'<a href="{citing.get_absolute_url()}">引用者</a>' in lists_on(client, cited)
    citing.body = "不再引用。"
    citing.save()
    sync_citations(citing)
    assert lists_on(client, cited) == ""

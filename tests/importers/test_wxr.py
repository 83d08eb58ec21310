"""`manage.py import_wxr` on WordPress exports written here from the WXR format."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from blog.models import Category, Post, Tag
from comments.models import Comment
from importers.models import Attachment
from importers.wxr import convert_body

pytestmark = pytest.mark.django_db

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"
  xmlns:excerpt="{scheme}://wordpress.org/export/{v}/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:wfw="http://wellformedweb.org/CommentAPI/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:wp="{scheme}://wordpress.org/export/{v}/">
<channel>
  <title>试验站</title>
  <link>https://old.example.org</link>
  <wp:wxr_version>{v}</wp:wxr_version>
  <wp:base_site_url>https://old.example.org</wp:base_site_url>
  <wp:base_blog_url>https://old.example.org</wp:base_blog_url>
  <wp:author><wp:author_id>7</wp:author_id><wp:author_login><![CDATA[lin]]></wp:author_login>
    <wp:author_email><![CDATA[lin@example.org]]></wp:author_email>
    <wp:author_display_name><![CDATA[林写]]></wp:author_display_name></wp:author>
  <wp:category><wp:term_id>3</wp:term_id><wp:category_nicename><![CDATA[math]]></wp:category_nicename>
    <wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[数学]]></wp:cat_name>
    <wp:category_description><![CDATA[关于数学]]></wp:category_description></wp:category>
  <wp:category><wp:term_id>4</wp:term_id><wp:category_nicename><![CDATA[algebra]]></wp:category_nicename>
    <wp:category_parent><![CDATA[math]]></wp:category_parent><wp:cat_name><![CDATA[代数]]></wp:cat_name></wp:category>
  <wp:tag><wp:term_id>5</wp:term_id><wp:tag_slug><![CDATA[matrix]]></wp:tag_slug>
    <wp:tag_name><![CDATA[矩阵]]></wp:tag_name></wp:tag>
"""

POST = """
  <item>
    <title><![CDATA[{title}]]></title>
    <link>https://old.example.org/2023/01/16/{slug}/</link>
    <dc:creator><![CDATA[lin]]></dc:creator>
    <content:encoded><![CDATA[{body}]]></content:encoded>
    <excerpt:encoded><![CDATA[{excerpt}]]></excerpt:encoded>
    <wp:post_id>{id}</wp:post_id>
    <wp:post_date><![CDATA[2023-01-16 16:00:00]]></wp:post_date>
    <wp:post_date_gmt><![CDATA[2023-01-16 08:00:00]]></wp:post_date_gmt>
    <wp:comment_status><![CDATA[open]]></wp:comment_status>
    <wp:post_name><![CDATA[{slug}]]></wp:post_name>
    <wp:status><![CDATA[{status}]]></wp:status>
    <wp:post_parent>0</wp:post_parent>
    <wp:menu_order>{order}</wp:menu_order>
    <wp:post_type><![CDATA[{type}]]></wp:post_type>
    <wp:post_password><![CDATA[{password}]]></wp:post_password>
    <category domain="category" nicename="algebra"><![CDATA[代数]]></category>
    <category domain="post_tag" nicename="matrix"><![CDATA[矩阵]]></category>
    <wp:postmeta><wp:meta_key><![CDATA[_edit_lock]]></wp:meta_key><wp:meta_value><![CDATA[1]]></wp:meta_value></wp:postmeta>
    <wp:postmeta><wp:meta_key><![CDATA[source]]></wp:meta_key><wp:meta_value><![CDATA[讲义]]></wp:meta_value></wp:postmeta>
    {comments}
  </item>
"""

COMMENT = """
    <wp:comment><wp:comment_id>{id}</wp:comment_id>
      <wp:comment_author><![CDATA[{name}]]></wp:comment_author>
      <wp:comment_author_email><![CDATA[r{id}@example.org]]></wp:comment_author_email>
      <wp:comment_author_url>https://r{id}.example.org</wp:comment_author_url>
      <wp:comment_author_IP><![CDATA[203.0.113.{id}]]></wp:comment_author_IP>
      <wp:comment_date><![CDATA[2023-01-17 10:0{id}:00]]></wp:comment_date>
      <wp:comment_date_gmt><![CDATA[2023-01-17 02:0{id}:00]]></wp:comment_date_gmt>
      <wp:comment_content><![CDATA[{body}]]></wp:comment_content>
      <wp:comment_approved><![CDATA[{approved}]]></wp:comment_approved>
      <wp:comment_type><![CDATA[{type}]]></wp:comment_type>
      <wp:comment_parent>{parent}</wp:comment_parent>
      <wp:comment_user_id>0</wp:comment_user_id></wp:comment>
"""

ATTACHMENT = """
  <item>
    <title><![CDATA[图一]]></title>
    <wp:post_id>90</wp:post_id>
    <wp:post_date_gmt><![CDATA[2023-01-16 08:00:00]]></wp:post_date_gmt>
    <wp:status><![CDATA[inherit]]></wp:status>
    <wp:post_parent>{parent}</wp:post_parent>
    <wp:post_type><![CDATA[attachment]]></wp:post_type>
    <wp:attachment_url><![CDATA[https://old.example.org/wp-content/uploads/2023/01/fig1.png]]></wp:attachment_url>
    <wp:postmeta><wp:meta_key><![CDATA[_wp_attached_file]]></wp:meta_key><wp:meta_value><![CDATA[2023/01/fig1.png]]></wp:meta_value></wp:postmeta>
  </item>
"""

BODY = (
    "<!-- wp:paragraph -->\n<p>设 $A$ 为矩阵，则 $$\\det(A^T)=\\det A$$。</p>\n"
    "<!-- /wp:paragraph -->\n\n"
    '[caption id="attachment_90" align="aligncenter" width="300"]'
    '<img src="https://old.example.org/wp-content/uploads/2023/01/fig1.png" alt="fig" /> 图一：示意'
    "[/caption]\n\n"
    '[gallery ids="1,2"]\n\n<!--more-->\n\n第二段，经典编辑器写的，没有 p 标签。'
)


def comments_xml() -> str:
    rows = [
        (1, "甲", "第一条 $x^2$", "1", "", 0),
        (2, "乙", "回复甲", "1", "", 1),
        (3, "丙", "回复乙", "1", "", 2),
        (4, "丁", "待审", "0", "", 0),
        (5, "垃圾", "buy now", "spam", "", 0),
        (6, "别站", "pingback", "1", "pingback", 0),
        (7, "孤儿", "父评论不存在", "1", "", 99),
    ]
    return "".join(
        COMMENT.format(id=i, name=n, body=b, approved=a, type=t, parent=p)
        for i, n, b, a, t, p in rows
    )


def post_xml(**fields) -> str:
    values = {
        "title": "矩阵的行列式",
        "slug": "determinant",
        "body": BODY,
        "excerpt": "",
        "id": 12,
        "status": "publish",
        "order": 0,
        "type": "post",
        "password": "",
        "comments": "",
    } | fields
    return POST.format(**values)


def export(tmp_path, items: str, scheme: str = "https", version: str = "1.2") -> str:
    path = tmp_path / "export.xml"
    path.write_text(HEAD.format(scheme=scheme, v=version) + items + "</channel>\n</rss>\n")
    return str(path)


def site_export(tmp_path, **kwargs) -> str:
    items = "".join(
        [
            post_xml(comments=comments_xml()),
            post_xml(id=13, title="将来的文章", slug="future-post", status="future"),
            post_xml(id=14, title="待审文章", slug="pending-post", status="pending"),
            post_xml(id=15, title="私密文章", slug="private-post", status="private"),
            post_xml(id=16, title="有密码", slug="locked", password="secret"),
            post_xml(id=17, title="草稿", slug="draft-post", status="draft"),
            post_xml(id=20, title="关于", slug="about", type="page", order=2, body="<p>本站</p>"),
            ATTACHMENT.format(parent=12),
        ]
    )
    return export(tmp_path, items, **kwargs)


def run(path: str, *args: str) -> str:
    out = StringIO()
    call_command("import_wxr", path, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.parametrize(
    ("scheme", "version"), [("https", "1.2"), ("http", "1.1"), ("http", "1.0")]
)
def test_wxr_imports_posts_pages_terms_and_threads(tmp_path, scheme, version):
    report = run(site_export(tmp_path, scheme=scheme, version=version))
    post = Post.objects.get(pk=12)
    assert post.title == "矩阵的行列式"
    assert post.slug == "determinant"
    assert post.format == Post.Format.HTML
    assert post.status == Post.Status.PUBLISHED
    assert post.published_at.isoformat() == "2023-01-16T08:00:00+00:00"
    assert [a.display_name for a in post.ordered_authors] == ["林写"]
    assert [c.slug for c in post.categories.all()] == ["algebra"]
    assert Category.objects.get(slug="algebra").parent == Category.objects.get(slug="math")
    assert [t.name for t in post.tags.all()] == ["矩阵"]
    assert post.custom_fields == {"source": "讲义"}
    # Gutenberg comments dropped, [caption] as a figure, TeX marked, other shortcodes as text.
    assert "wp:paragraph" not in post.body_html
    assert "<figure>" in post.body_html
    assert "<figcaption>图一：示意</figcaption>" in post.body_html
    assert '<span class="arithmatex">\\[\\det(A^T)=\\det A\\]</span>' in post.body_html
    assert '[gallery ids="1,2"]' in post.body_html
    assert "<p>第二段，经典编辑器写的，没有 p 标签。</p>" in post.body_html
    assert "第二段" not in post.excerpt_html
    assert "shortcode [gallery] kept as text" in report
    # Statuses.
    assert Post.objects.get(pk=13).status == Post.Status.PUBLISHED  # future: scheduled
    assert Post.objects.get(pk=14).status == Post.Status.PENDING
    assert Post.objects.get(pk=15).status == Post.Status.DRAFT
    assert Post.objects.get(pk=16).status == Post.Status.DRAFT
    assert Post.objects.get(pk=17).status == Post.Status.DRAFT
    assert "password-protected → draft" in report
    assert "private post → draft" in report
    page = Post.objects.get(pk=20)
    assert (page.kind, page.slug, page.menu_order) == (Post.Kind.PAGE, "about", 2)
    # Comments: threads three deep, statuses, pingback skipped, orphan at the top level.
    comments = {c.pk: c for c in Comment.objects.filter(post=post)}
    assert comments[3].parent_id == 2
    assert comments[2].parent_id == 1
    assert comments[3].level == 2
    assert comments[4].status == "pending"
    assert comments[5].status == "spam"
    assert 6 not in comments
    assert comments[7].parent_id is None
    assert comments[1].ip_address == "203.0.113.1"
    assert str(comments[1].author_email) == "r1@example.org"
    post.refresh_from_db()
    assert post.comment_count == 4  # approved: 1, 2, 3, 7
    assert "pingbacks skipped" in report
    assert "replies to 99, which is missing" in report
    attachment = Attachment.objects.get()
    assert attachment.post_id == 12
    assert attachment.url.endswith("/wp-content/uploads/2023/01/fig1.png")
    assert attachment.path == "2023/01/fig1.png"


def test_wxr_import_is_idempotent_and_trees_stay_valid(tmp_path):
    path = site_export(tmp_path)
    run(path)
    counts = (Post.objects.count(), Comment.objects.count(), Tag.objects.count())
    run(path)
    assert (Post.objects.count(), Comment.objects.count(), Tag.objects.count()) == counts
    out = StringIO()
    call_command("check_comment_trees", stdout=out)
    assert "comment trees are consistent" in out.getvalue()


def test_wxr_renumbers_a_taken_id_and_says_so(tmp_path):
    from tests.factories import PostFactory

    PostFactory(id=12, title="本站已有")
    report = run(site_export(tmp_path))
    assert Post.objects.get(pk=12).title == "本站已有"
    moved = Post.objects.get(title="矩阵的行列式")
    assert moved.pk != 12
    assert f"id 12 is taken here: renumbered {moved.pk}" in report


def test_wxr_old_links_redirect(tmp_path):
    run(site_export(tmp_path))
    client = Client()
    for old, new in [
        ("/?p=12", "/archives/12"),
        ("/?page_id=20", "/about.html"),
        ("/2023/01/16/determinant/", "/archives/12"),
        ("/tag/matrix/", "/tag/%E7%9F%A9%E9%98%B5/"),
        ("/feed/", "/feed"),
    ]:
        response = client.get(old)
        assert response.status_code == 301, old
        assert response["Location"] == new, old


def test_wxr_dry_run_writes_nothing(tmp_path):
    report = run(site_export(tmp_path), "--dry-run")
    assert "Dry run" in report
    assert not Post.objects.exists()
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("<rss><channel><item>", "not a complete WordPress export"),
        ("<rss><channel><title>x</title></channel></rss>", "not a WordPress export"),
        (
            '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
            "<rss>&b;</rss>",
            "refused for safety",
        ),
    ],
)
def test_wxr_bad_files_are_refused_with_a_message(tmp_path, content, message):
    path = tmp_path / "bad.xml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CommandError, match=message):
        run(str(path))
    assert not Post.objects.exists()


def test_wxr_truncated_export_writes_nothing(tmp_path):
    whole = open(site_export(tmp_path)).read()  # noqa: SIM115, PTH123 - read once
    path = tmp_path / "cut.xml"
    path.write_text(whole[: len(whole) // 2])
    with pytest.raises(CommandError, match="not a complete WordPress export"):
        run(str(path))
    assert not Post.objects.exists()


def test_wxr_post_without_date_fails_alone(tmp_path):
    broken = (
        post_xml(id=30, title="坏", slug="bad")
        .replace("<![CDATA[2023-01-16 08:00:00]]>", "<![CDATA[0000-00-00 00:00:00]]>")
        .replace("<![CDATA[2023-01-16 16:00:00]]>", "<![CDATA[]]>")
    )
    path = export(tmp_path, broken + post_xml(id=31, title="好", slug="good"))
    with pytest.raises(CommandError, match="1 item"):
        run(path)
    assert Post.objects.filter(pk=31).exists()
    assert not Post.objects.filter(pk=30).exists()


def test_convert_body_keeps_html_blocks_and_counts_shortcodes():
    body, shortcodes = convert_body(
        '<!-- wp:image --><figure class="wp-block-image"><img src="/a.png"/></figure>'
        "<!-- /wp:image -->\n\n[embed]https://video.example/1[/embed]\n\nx [0,1] y"
    )
    assert "wp:image" not in body
    assert '<figure class="wp-block-image">' in body
    assert shortcodes == ["embed"]

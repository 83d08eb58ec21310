"""`export_markdown` then `import_markdown` into an empty database gives the same site."""

from io import BytesIO, StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from PIL import Image

from blog.models import Category, Post, PostDailyViews
from comments.models import Comment
from tests.factories import (
    AuthorFactory,
    CategoryFactory,
    CommentFactory,
    PageFactory,
    PostFactory,
    TagFactory,
    UserFactory,
)
from uploads.models import Upload
from uploads.services import create_upload

pytestmark = pytest.mark.django_db(transaction=True)

POST_FIELDS = [
    "id",
    "kind",
    "title",
    "slug",
    "status",
    "format",
    "body",
    "body_html",
    "excerpt",
    "excerpt_html",
    "toc",
    "has_math",
    "published_at",
    "updated_at",
    "comments_enabled",
    "view_count",
    "comment_count",
    "menu_order",
    "custom_fields",
]
COMMENT_FIELDS = [
    "id",
    "post_id",
    "parent_id",
    "status",
    "author_name",
    "author_email",
    "author_url",
    "ip_address",
    "user_agent",
    "created_at",
    "body",
    "body_html",
    "level",
]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def build_site() -> None:
    """A site with every kind of content: posts in each state, a page, an HTML post, a
    hierarchy of categories, co-authored bylines, threads three deep in every status."""
    parent = CategoryFactory(name="数学", slug="math", description="关于数学", order=2)
    child = CategoryFactory(name="代数", slug="algebra")
    child.parent = parent
    child.save()
    tag = TagFactory(name="矩阵")
    first, second = AuthorFactory(display_name="甲"), AuthorFactory(display_name="乙")
    post = PostFactory(
        title="行列式",
        slug="det",
        authors=[second, first],
        categories=[child],
        tags=[tag],
        view_count=1234,
        body=(
            "## 定义\n\n$$\\det A \\label{eq:det}$$\n\n见 $\\eqref{eq:det}$。"
            "\n\n<!--more-->\n\n后文"
        ),
        custom_fields={"source": "讲义"},
    )
    PostFactory(title="草稿", status=Post.Status.DRAFT, authors=[first])
    PostFactory(title="待审", status=Post.Status.PENDING, authors=[first])
    PostFactory(
        title="定时",
        published_at=timezone.now() + timezone.timedelta(days=3),
        comments_enabled=False,
    )
    PostFactory(title="HTML 文章", format=Post.Format.HTML, body="<p>导入的 $x$</p>")
    page = PageFactory(title="留言板", slug="guestbook", menu_order=3)
    reader = UserFactory(username="reader")
    top = CommentFactory(post=post, body="顶层 $a$", user=reader)
    reply = CommentFactory(parent=top, body="回复")
    CommentFactory(parent=reply, body="三层")
    CommentFactory(post=post, status="pending", body="待审")
    CommentFactory(post=post, status="spam", body="垃圾")
    CommentFactory(post=post, status="removed", body="删了")
    CommentFactory(post=page, body="留言")
    PostDailyViews.objects.create(post=post, day=timezone.localdate(), views=5)
    buffer = BytesIO()
    Image.new("RGB", (1800, 900), (10, 20, 30)).save(buffer, "PNG")
    buffer.seek(0)
    create_upload(buffer, name="图.png", size=len(buffer.getvalue()), alt_text="一张图")


def snapshot() -> dict:
    posts = list(Post.objects.with_views().order_by("pk").values(*POST_FIELDS))
    bylines = {
        post.pk: [author.display_name for author in post.ordered_authors]
        for post in Post.objects.with_authors()
    }
    terms = {
        post.pk: (
            sorted(c.name for c in post.categories.all()),
            sorted(t.name for t in post.tags.all()),
        )
        for post in Post.objects.prefetch_related("categories", "tags")
    }
    categories = list(
        Category.objects.order_by("pk").values(
            "id", "name", "slug", "description", "order", "parent__slug"
        )
    )
    comments = list(Comment.objects.order_by("pk").values(*COMMENT_FIELDS))
    uploads = list(
        Upload.objects.order_by("pk").values(
            "id", "file", "title", "alt_text", "size", "renditions"
        )
    )
    return {
        "posts": posts,
        "bylines": bylines,
        "terms": terms,
        "categories": categories,
        "comments": comments,
        "uploads": uploads,
    }


def empty_database() -> None:
    """Everything goes (as on a new site), the migrations' own rows stay."""
    Comment.objects.all().delete()
    Post.objects.all().delete()
    Category.objects.all().delete()
    Upload.objects.all().delete()
    from django.contrib.auth import get_user_model

    from blog.models import Author, Tag

    Author.objects.all().delete()
    Tag.objects.all().delete()
    get_user_model().objects.all().delete()


def test_export_then_import_gives_the_same_site(tmp_path, settings):
    build_site()
    before = snapshot()
    pages_before = {
        url: Client().get(url).content for url in ["/archives/" + str(before["posts"][0]["id"])]
    }
    folder = tmp_path / "export"
    out = StringIO()
    call_command("export_markdown", str(folder), stdout=out)
    assert "5 posts, 1 pages, 7 comments" in out.getvalue()
    media = settings.MEDIA_ROOT
    empty_database()
    for path in media.rglob("*"):
        if path.is_file():
            path.unlink()
    call_command("import_markdown", str(folder), stdout=StringIO(), stderr=StringIO())
    after = snapshot()
    for key in before:
        assert after[key] == before[key], key
    call_command("check_comment_trees", stdout=StringIO())
    for url, content in pages_before.items():
        assert Client().get(url).content.count(b"arithmatex") == content.count(b"arithmatex")
    for name in after["uploads"][0]["renditions"]:
        assert (media / name["name"]).is_file()
    # The next post made here gets a free id.
    assert PostFactory().pk > max(row["id"] for row in before["posts"])
    if connection.vendor == "postgresql":
        assert CommentFactory(post=PostFactory()).pk > max(row["id"] for row in before["comments"])


def test_export_refuses_a_folder_with_markdown_in_it(tmp_path):
    (tmp_path / "old.md").write_text("x")
    with pytest.raises(CommandError, match="already holds"):
        call_command("export_markdown", str(tmp_path), stdout=StringIO())


def test_import_reports_a_broken_comments_file_and_keeps_the_post_out(tmp_path):
    build_site()
    folder = tmp_path / "export"
    call_command("export_markdown", str(folder), stdout=StringIO())
    sidecar = next(folder.glob("*.comments.yaml"))
    sidecar.write_text("- id: x\n  body: [unclosed\n")
    empty_database()
    err = StringIO()
    with pytest.raises(CommandError, match="failed"):
        call_command("import_markdown", str(folder), stdout=StringIO(), stderr=err)
    assert sidecar.name in err.getvalue() or "invalid YAML" in err.getvalue()
    broken_id = int(sidecar.name.split("-")[0])
    assert not Post.objects.filter(pk=broken_id).exists()  # the post and its comments, or neither
    assert Post.objects.filter(title="草稿").exists()

"""The role matrix: what each group may do in the admin, tried through the admin itself."""

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from blog.models import Author, Category, Post, PostAuthor, Tag
from comments.models import BlocklistEntry, Comment
from tests.admin_forms import submit
from tests.factories import AuthorFactory, CategoryFactory, CommentFactory, PostFactory, UserFactory
from uploads.models import Upload
from uploads.services import create_upload

pytestmark = pytest.mark.django_db

ROLES = ["Contributors", "Authors", "Editors", "Moderators"]


@dataclass
class World:
    client: Client
    user: object
    author: Author
    draft: Post
    published: Post
    others: Post
    page: Post
    own_comment: Comment
    others_comment: Comment
    pending_by_other: Post


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world_for(client) -> Callable[[str], World]:
    def make(role: str) -> World:
        user = UserFactory(is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        author = AuthorFactory(user=user)
        other = AuthorFactory()
        published = PostFactory(authors=[author])
        others = PostFactory(authors=[other])
        client.force_login(user)
        return World(
            client=client,
            user=user,
            author=author,
            draft=PostFactory(authors=[author], status=Post.Status.DRAFT),
            published=published,
            others=others,
            page=PostFactory(authors=[other], kind=Post.Kind.PAGE, title="关于"),
            own_comment=CommentFactory(post=published, status=Comment.Status.PENDING),
            others_comment=CommentFactory(post=others, status=Comment.Status.PENDING),
            pending_by_other=PostFactory(authors=[other], status=Post.Status.PENDING, title="投稿"),
        )

    return make


def change_post(w: World, post: Post, changes: dict) -> Post:
    submit(w.client, f"/admin/blog/post/{post.pk}/change/", changes, form_id="post_form")
    return Post.objects.get(pk=post.pk)


def future() -> dict:
    when = timezone.localtime() + timezone.timedelta(days=3)
    return {"published_at_0": when.strftime("%Y-%m-%d"), "published_at_1": "09:00:00"}


def write_draft(w: World) -> bool:
    changes = {"title": "新草稿", "body": "$x$", "status": "draft"}
    submit(w.client, "/admin/blog/post/add/", changes, form_id="post_form")
    return Post.objects.filter(title="新草稿", authors=w.author).exists()


def edit_own_draft(w: World) -> bool:
    return change_post(w, w.draft, {"title": "改过的草稿"}).title == "改过的草稿"


def submit_for_review(w: World) -> bool:
    return change_post(w, w.draft, {"status": "pending"}).status == Post.Status.PENDING


def publish_own(w: World) -> bool:
    return change_post(w, w.draft, {"status": "published"}).status == Post.Status.PUBLISHED


def schedule_own(w: World) -> bool:
    post = change_post(w, w.draft, {"status": "published", **future()})
    return post.status == Post.Status.PUBLISHED and post.published_at > timezone.now()


def publish_with_the_list_action(w: World) -> bool:
    w.client.post("/admin/blog/post/", {"action": "publish_now", "_selected_action": [w.draft.pk]})
    return Post.objects.get(pk=w.draft.pk).status == Post.Status.PUBLISHED


def edit_own_published(w: World) -> bool:
    return change_post(w, w.published, {"title": "改标题"}).title == "改标题"


def delete_own_draft(w: World) -> bool:
    w.client.post(f"/admin/blog/post/{w.draft.pk}/delete/", {"post": "yes"})
    return not Post.objects.filter(pk=w.draft.pk).exists()


def edit_others_post(w: World) -> bool:
    return change_post(w, w.others, {"title": "别人的"}).title == "别人的"


def see_others_pending_post(w: World) -> bool:
    html = w.client.get("/admin/blog/post/?state=pending").content.decode()
    return "投稿" in html and "待审核" in html


def edit_page(w: World) -> bool:
    submit(w.client, f"/admin/blog/page/{w.page.pk}/change/", {"title": "关于本站"}, "page_form")
    return Post.objects.get(pk=w.page.pk).title == "关于本站"


def create_tag(w: World) -> bool:
    w.client.post("/admin/blog/tag/add/", {"name": "新标签", "slug": "new-tag"})
    return Tag.objects.filter(slug="new-tag").exists()


def assign_tag(w: World) -> bool:
    tag = Tag.objects.create(name="旧标签", slug="old-tag")
    return tag in change_post(w, w.draft, {"tags": [str(tag.pk)]}).tags.all()


def assign_category(w: World) -> bool:
    category = CategoryFactory()
    return category in change_post(w, w.draft, {"categories": [str(category.pk)]}).categories.all()


def create_category(w: World) -> bool:
    w.client.post("/admin/blog/category/add/", {"name": "新分类", "slug": "new-c", "order": 0})
    return Category.objects.filter(slug="new-c").exists()


def add_coauthor_first(w: World) -> bool:
    """Put a co-author before oneself in the byline of one's own post."""
    coauthor = AuthorFactory()
    own_link = PostAuthor.objects.get(post=w.draft)
    changes = {
        "post_authors-TOTAL_FORMS": "2",
        "post_authors-0-order": "1",
        "post_authors-1-author": str(coauthor.pk),
        "post_authors-1-order": "0",
        "post_authors-1-post": str(w.draft.pk),
        "post_authors-1-id": "",
    }
    change_post(w, w.draft, changes)
    byline = list(PostAuthor.objects.filter(post=w.draft).order_by("order"))
    return [link.author for link in byline] == [coauthor, own_link.author]


def set_byline_of_others_post(w: World) -> bool:
    changes = {"post_authors-0-author": str(w.author.pk)}
    change_post(w, w.others, changes)
    return list(w.others.authors.all()) == [w.author]


def edit_own_profile(w: World) -> bool:
    url = f"/admin/blog/author/{w.author.pk}/change/"
    submit(w.client, url, {"display_name": "新名字", "bio": "简介", "website": ""}, "author_form")
    return Author.objects.get(pk=w.author.pk).display_name == "新名字"


def edit_others_profile(w: World) -> bool:
    other = w.others.authors.get()
    url = f"/admin/blog/author/{other.pk}/change/"
    submit(w.client, url, {"display_name": "冒名"}, "author_form")
    return Author.objects.get(pk=other.pk).display_name == "冒名"


def see_comments_on_own_posts(w: World) -> bool:
    html = w.client.get("/admin/comments/comment/").content.decode()
    return f'value="{w.own_comment.pk}"' in html


def moderate_comment(w: World, comment: Comment) -> bool:
    data = {"action": "approve", "_selected_action": [comment.pk]}
    w.client.post("/admin/comments/comment/", data)
    return Comment.objects.get(pk=comment.pk).status == Comment.Status.APPROVED


def moderate_own_posts_comment(w: World) -> bool:
    return moderate_comment(w, w.own_comment)


def moderate_others_posts_comment(w: World) -> bool:
    return moderate_comment(w, w.others_comment)


def reply_on_own_post(w: World) -> bool:
    w.client.post(f"/admin/comments/comment/{w.own_comment.pk}/reply/", {"body": "谢谢"})
    return Comment.objects.filter(parent=w.own_comment, user=w.user).exists()


def upload_image(w: World) -> bool:
    from tests.uploads.conftest import image_file

    api = "/admin/uploads/upload/api/upload/"
    w.client.post(api, {"file": image_file("fig.png", 300, 200), "alt_text": "示意图"})
    return Upload.objects.filter(uploader=w.user).exists()


def edit_others_upload(w: World) -> bool:
    from tests.uploads.conftest import image_file

    file = image_file("theirs.png", 300, 200)
    theirs = create_upload(file, name=file.name, size=file.size, uploader=None, alt_text="图")
    url = f"/admin/uploads/upload/{theirs.pk}/change/"
    w.client.post(url, {"title": "改了", "alt_text": "图", "caption": ""})
    return Upload.objects.get(pk=theirs.pk).title == "改了"


def manage_blocklist(w: World) -> bool:
    url = "/admin/comments/blocklistentry/add/"
    w.client.post(url, {"kind": "word", "value": "casino", "note": ""})
    return BlocklistEntry.objects.filter(value="casino").exists()


def block_a_commenter(w: World) -> bool:
    data = {"action": "block_email", "_selected_action": [w.own_comment.pk]}
    w.client.post("/admin/comments/comment/", data)
    return BlocklistEntry.objects.filter(value=w.own_comment.author_email).exists()


# role order: Contributors, Authors, Editors, Moderators
MATRIX: dict[Callable[[World], bool], tuple[bool, bool, bool, bool]] = {
    write_draft: (True, True, True, False),
    edit_own_draft: (True, True, True, False),
    submit_for_review: (True, True, True, False),
    delete_own_draft: (True, True, True, False),
    assign_tag: (True, True, True, False),
    assign_category: (True, True, True, False),
    publish_own: (False, True, True, False),
    schedule_own: (False, True, True, False),
    publish_with_the_list_action: (False, True, True, False),
    edit_own_published: (False, True, True, False),
    create_tag: (False, True, True, False),
    add_coauthor_first: (False, True, True, False),
    edit_own_profile: (False, True, True, False),
    see_comments_on_own_posts: (False, True, True, True),
    moderate_own_posts_comment: (False, True, True, True),
    reply_on_own_post: (False, True, True, True),
    edit_others_post: (False, False, True, False),
    see_others_pending_post: (False, False, True, False),
    edit_page: (False, False, True, False),
    create_category: (False, False, True, False),
    set_byline_of_others_post: (False, False, True, False),
    edit_others_profile: (False, False, True, False),
    moderate_others_posts_comment: (False, False, True, True),
    upload_image: (False, True, True, False),
    edit_others_upload: (False, False, True, False),
    manage_blocklist: (False, False, True, True),
    block_a_commenter: (False, False, True, True),
}


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        pytest.param(role, action, expected[i], id=f"{role}-{action.__name__}")
        for action, expected in MATRIX.items()
        for i, role in enumerate(ROLES)
    ],
)
def test_role_matrix(world_for, role: str, action, allowed: bool):
    assert action(world_for(role)) is allowed


def test_author_cannot_drop_themselves_from_the_byline(world_for):
    w = world_for("Authors")
    coauthor = AuthorFactory()
    response = submit(
        w.client,
        f"/admin/blog/post/{w.draft.pk}/change/",
        {"post_authors-0-author": str(coauthor.pk)},
        form_id="post_form",
    )
    assert response.status_code == 200
    assert "您不能把自己从署名中移除" in response.content.decode()
    assert list(w.draft.authors.all()) == [w.author]


def test_contributor_is_offered_draft_and_review_only(world_for):
    w = world_for("Contributors")
    html = w.client.get(f"/admin/blog/post/{w.draft.pk}/change/").content.decode()
    assert 'value="pending"' in html
    assert 'value="published"' not in html


def test_admin_reply_wears_the_author_badge_only_from_an_author(world_for, client):
    w = world_for("Moderators")
    author = AuthorFactory(display_name="真作者")
    PostAuthor.objects.filter(post=w.published).update(author=author)
    assert reply_on_own_post(w)
    client.force_login(author.user)
    author.user.is_staff = author.user.is_superuser = True
    author.user.save()
    client.post(f"/admin/comments/comment/{w.own_comment.pk}/reply/", {"body": "作者答复"})
    html = client.get(w.published.get_absolute_url()).content.decode()
    replies = Comment.objects.filter(parent=w.own_comment).order_by("pk")
    assert [(r.author_name, r.user) for r in replies] == [
        (w.author.display_name, w.user),
        ("真作者", author.user),
    ]
    badges = [
        'class="author-badge"' in html.split(f">{reply.author_name}</span>", 1)[1][:60]
        for reply in replies
    ]
    assert badges == [False, True]

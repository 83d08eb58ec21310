import pytest
from django.contrib.auth.models import Group
from django.db.models import F, Max

from blog.caching.version import content_changed
from blog.models import Post
from comments.models import Comment
from tests.factories import CommentFactory, PostFactory, UserFactory
from tests.pins import assert_same_for_1_and_200

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _rendered_whole(settings):
    """Pages rendered whole on every request: the page cache would hide what they cost."""
    settings.SPACES_PAGE_CACHE = False


def grower(post: Post):
    """Add approved top-level comments to `post` in bulk (the tree fields of new roots set as
    django-mptt sets them), keeping the post's count."""

    def grow(count: int) -> None:
        first = (Comment.objects.aggregate(top=Max("tree_id"))["top"] or 0) + 1
        Comment.objects.bulk_create(
            Comment(
                post=post,
                author_name=f"读者{n}",
                author_email=f"reader{n}@example.com",
                body=f"评论 {n}",
                body_html=f"<p>评论 {n}</p>",
                status=Comment.Status.APPROVED,
                tree_id=first + n,
                lft=1,
                rght=2,
                level=0,
            )
            for n in range(count)
        )
        Post.objects.filter(pk=post.pk).update(comment_count=F("comment_count") + count)
        content_changed()  # bulk writes send no signals

    return grow


@pytest.mark.parametrize(
    "path",
    ["{post}", "{post}/comment-page-1", "{post}/feed", "/feed/comments", "/feed/comments/atom"],
)
def test_comment_pages_cost_the_same_for_1_and_200_comments(client, path):
    post = PostFactory()
    url = path.format(post=post.get_absolute_url())
    assert_same_for_1_and_200(client, lambda: url, grower(post))


def test_a_comment_permalink_costs_the_same_for_1_and_200_comments(client):
    post = PostFactory()
    first = CommentFactory(post=post)
    assert_same_for_1_and_200(client, first.get_absolute_url, grower(post), status=302)


def admin_user(role: str, post: Post):
    """A superuser; a moderator (every comment); or the post's author (their posts' comments)."""
    if role == "superuser":
        return UserFactory(is_staff=True, is_superuser=True)
    user = UserFactory(is_staff=True) if role == "moderator" else post.authors.get().user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    user.groups.add(Group.objects.get(name="Moderators" if role == "moderator" else "Authors"))
    return user


@pytest.mark.parametrize("role", ["superuser", "moderator", "author"])
def test_the_admin_comment_list_costs_the_same_for_1_and_200_comments(client, role):
    post = PostFactory()
    client.force_login(admin_user(role, post))
    assert_same_for_1_and_200(client, lambda: "/admin/comments/comment/", grower(post))

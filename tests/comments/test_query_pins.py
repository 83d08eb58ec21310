import pytest
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


def test_the_admin_comment_list_costs_the_same_for_1_and_200_comments(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert_same_for_1_and_200(client, lambda: "/admin/comments/comment/", grower(PostFactory()))

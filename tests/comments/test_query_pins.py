import pytest
from django.contrib.auth.models import Group
from django.db.models import F, Max

from blog import articles
from blog.caching.version import content_changed
from blog.models import Post
from comments.models import Comment
from comments.threads import author_user_ids, thread_page
from tests.factories import AuthorFactory, CommentFactory, PostFactory, UserFactory
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


@pytest.mark.parametrize("own", [False, True])
def test_a_page_of_comment_threads_is_two_queries_for_1_and_200_comments(
    django_assert_num_queries, own
):
    """The threads' ids, then the page's comments; the post and its byline come read."""
    post = PostFactory()
    grow = grower(post)
    own_ids = [CommentFactory(post=post, status=Comment.Status.PENDING).pk] if own else []
    article = articles.article(pk=post.pk)
    for count in (1, 199):
        grow(count)
        with django_assert_num_queries(2):
            page = thread_page(article, None, own_ids, author_user_ids(article))
        assert page.nodes


def test_the_article_is_one_query_for_its_post_and_byline(django_assert_num_queries):
    post = PostFactory(authors=AuthorFactory.create_batch(3))
    with django_assert_num_queries(1):
        assert len(articles.article(pk=post.pk).ordered_authors) == 3

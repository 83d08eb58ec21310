import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.utils import timezone

from blog.articles import SHOWN, article
from blog.models import Post, PostAuthor
from tests.factories import AuthorFactory, PageFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_article_is_the_post_and_its_byline_in_one_query(django_assert_num_queries):
    first, second, third = AuthorFactory.create_batch(3)
    post = PostFactory(authors=[first, second, third], comments_enabled=False)
    for order, author in enumerate([second, third, first]):  # the byline's order, not the rows'
        PostAuthor.objects.filter(post=post, author=author).update(order=order)
    post.toc = [[2, "a", "标题"]]
    post.save()
    loaded = Post.objects.get(pk=post.pk)
    with django_assert_num_queries(1):
        read = article(pk=post.pk)
        # what the page shows, as the ORM gives it (converted: datetimes, booleans, JSON)
        assert {name: getattr(read, name) for name in SHOWN} == {
            name: getattr(loaded, name) for name in SHOWN
        }
        assert read.ordered_authors == [second, third, first]
        assert [a.display_name for a in read.ordered_authors] == [
            second.display_name,
            third.display_name,
            first.display_name,
        ]
        assert read.get_absolute_url() == post.get_absolute_url()
    assert read.get_deferred_fields() >= {"body", "search_text"}


def test_article_of_a_post_without_authors_has_an_empty_byline():
    post = PostFactory()
    PostAuthor.objects.filter(post=post).delete()
    assert article(pk=post.pk).ordered_authors == []
    assert article(pk=post.pk + 1) is None


def test_article_finds_a_page_by_its_slug_among_pages_only():
    page = PageFactory(slug="about")
    PostFactory(slug="about")  # an article with the same slug is no page
    assert article(page_slug="about").pk == page.pk
    assert article(page_slug="missing") is None


def viewer(kind: str, post: Post):
    if kind == "anonymous":
        return AnonymousUser()
    if kind == "author":
        return post.authors.get().user
    user = UserFactory(is_superuser=kind == "superuser", is_staff=kind != "stranger")
    if kind == "editor":
        user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.mark.parametrize("status", ["published", "scheduled", "draft", "pending"])
@pytest.mark.parametrize("kind", ["anonymous", "stranger", "author", "editor", "superuser"])
def test_is_visible_to_and_visible_to_are_one_rule(status, kind):
    when = timezone.now() + timezone.timedelta(days=1 if status == "scheduled" else -1)
    stored = "published" if status == "scheduled" else status
    post = PostFactory(status=stored, published_at=when)
    user = viewer(kind, post)
    in_database = Post.objects.visible_to(user).filter(pk=post.pk).exists()
    assert article(pk=post.pk).is_visible_to(user) == in_database
    assert in_database == (status == "published" or kind in {"author", "editor", "superuser"})

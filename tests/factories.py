import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from blog.models import Author, Category, Post, PostAuthor, PostViews, Tag


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author

    user = factory.SubFactory(UserFactory)
    display_name = factory.Sequence(lambda n: f"作者{n}")
    slug = factory.Sequence(lambda n: f"author-{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"分类{n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"标签{n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")


class PostFactory(factory.django.DjangoModelFactory):
    """A published post by one new author; pass `authors=[...]` for a byline in order."""

    class Meta:
        model = Post
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"文章 {n}")
    body = "第一段，含公式 $E=mc^2$。\n\n<!--more-->\n\n第二段。"
    status = Post.Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=1))

    @factory.post_generation
    def authors(post, create, extracted, **kwargs):
        if not create:
            return
        for order, author in enumerate(extracted or [AuthorFactory()]):
            PostAuthor.objects.create(post=post, author=author, order=order)

    @factory.post_generation
    def view_count(post, create, extracted, **kwargs):
        """`view_count=N`: the post's reads in all (its `PostViews` row)."""
        if create and extracted:
            PostViews.objects.create(post=post, views=extracted)

    @factory.post_generation
    def categories(post, create, extracted, **kwargs):
        if create and extracted:
            post.categories.add(*extracted)

    @factory.post_generation
    def tags(post, create, extracted, **kwargs):
        if create and extracted:
            post.tags.add(*extracted)


class PageFactory(PostFactory):
    """A published standalone page (`/<slug>.html`)."""

    kind = Post.Kind.PAGE
    title = factory.Sequence(lambda n: f"页面 {n}")
    slug = factory.Sequence(lambda n: f"page-{n}")
    body = "关于本站。"


class CommentFactory(factory.django.DjangoModelFactory):
    """An approved comment; pass `parent=` for a reply (on the parent's post)."""

    class Meta:
        # A string, so that this module keeps its imports at the top without a comments import.
        model = "comments.Comment"

    post = factory.LazyAttribute(lambda c: c.parent.post if c.parent else PostFactory())
    parent = None
    author_name = factory.Sequence(lambda n: f"读者{n}")
    author_email = factory.Sequence(lambda n: f"reader{n}@example.com")
    body = factory.Sequence(lambda n: f"评论 {n}：$x^{n}$")
    status = "approved"
    ip_address = "192.0.2.1"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """Stored by the comments service, which keeps `Post.comment_count` exact."""
        from comments.services import store_comment

        return store_comment(model_class(*args, **kwargs))

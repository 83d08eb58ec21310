import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from blog.models import Author, Category, Post, PostAuthor, Tag


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
    def categories(post, create, extracted, **kwargs):
        if create and extracted:
            post.categories.add(*extracted)

    @factory.post_generation
    def tags(post, create, extracted, **kwargs):
        if create and extracted:
            post.tags.add(*extracted)

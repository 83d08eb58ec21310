from django.urls import path, register_converter
from django.views.generic import RedirectView

from blog.converters import PageNumberConverter, PostIdConverter
from blog.views import posts

register_converter(PostIdConverter, "postid")
register_converter(PageNumberConverter, "pagenum")

app_name = "blog"

urlpatterns = [
    path("", posts.PostListView.as_view(), name="post_list"),
    path("page/<pagenum:page>/", posts.PostListView.as_view(), name="post_list_page"),
    path("archives/<postid:pk>", posts.PostDetailView.as_view(), name="post_detail"),
    path(
        "archives/<postid:pk>/",
        RedirectView.as_view(pattern_name="blog:post_detail", permanent=True),
        name="post_detail_slash",
    ),
    path("category/<str:slug>", posts.CategoryDetailView.as_view(), name="category_detail"),
    path(
        "category/<str:slug>/<pagenum:page>/",
        posts.CategoryDetailView.as_view(),
        name="category_detail_page",
    ),
    path("tag/<str:name>/", posts.TagDetailView.as_view(), name="tag_detail"),
    path("tag/<str:name>/<pagenum:page>/", posts.TagDetailView.as_view(), name="tag_detail_page"),
    path("author/<str:slug>/", posts.AuthorDetailView.as_view(), name="author_detail"),
    path(
        "author/<str:slug>/<pagenum:page>/",
        posts.AuthorDetailView.as_view(),
        name="author_detail_page",
    ),
    path("preview/", posts.preview, name="preview"),
]

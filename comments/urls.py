from django.urls import path, register_converter

from blog.converters import PageNumberConverter, PostIdConverter
from comments import feeds, views

# Names of their own: blog.urls registers these converters as "postid" and "pagenum" after us.
register_converter(PostIdConverter, "id18")
register_converter(PageNumberConverter, "commentpage")

app_name = "comments"

urlpatterns = [
    path("archives/<id18:pk>/comment", views.post_comment, name="post_comment"),
    path("archives/<id18:pk>/comment-tokens", views.form_tokens, name="form_tokens"),
    path(
        "archives/<id18:pk>/comment-page-<commentpage:page>",
        views.CommentPageView.as_view(),
        name="comment_page",
    ),
    path("archives/<id18:pk>/feed", feeds.PostCommentsFeed(), name="post_feed"),
    path("comments/<id18:pk>", views.comment_permalink, name="permalink"),
    path("comments/<id18:pk>/edit", views.edit_comment, name="edit"),
    path("comments/<id18:pk>/delete", views.delete_comment, name="delete"),
    path("comments/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
    path("feed/comments", feeds.LatestCommentsFeed(), name="feed"),
    path("feed/comments/atom", feeds.LatestCommentsAtomFeed(), name="feed_atom"),
]

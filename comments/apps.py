from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = _("评论")

    def ready(self) -> None:
        from blog.caching import pages
        from comments import visitors

        # A remembered commenter's form is filled in with their details: not the cached page.
        pages.PERSONAL_COOKIES.add(visitors.COOKIE)

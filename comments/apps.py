from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommentsConfig(AppConfig):
    name = "comments"
    verbose_name = _("评论")

    def ready(self) -> None:
        from blog.caching import holes, pages
        from comments import personal, visitors

        # A remembered commenter's form is filled in with their details: the cached page is
        # served to them only through the form's personal filler.
        pages.PERSONAL_COOKIES.add(visitors.COOKIE)
        holes.register_hole(personal.HOLE, personal.anonymous_forms, personal.own_forms)

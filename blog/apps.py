from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = _("博客")

    def ready(self) -> None:
        from blog.caching import holes, invalidation, version
        from blog.counting.display import fill_view_counts
        from blog.search import restore_sqlite_index
        from blog.templatetags.sidebar_tags import in_languages, random_posts_html, widgets_html

        post_migrate.connect(restore_sqlite_index, sender=self)
        version.connect_signals()
        invalidation.connect_signals()
        holes.register_hole("views", fill_view_counts)
        holes.register_hole("random", in_languages(random_posts_html))
        holes.register_hole("sidebar", in_languages(widgets_html))

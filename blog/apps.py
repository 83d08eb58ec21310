from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BlogConfig(AppConfig):
    name = "blog"
    verbose_name = _("博客")

    def ready(self) -> None:
        from blog.discovery import connect_signals
        from blog.search import restore_sqlite_index

        post_migrate.connect(restore_sqlite_index, sender=self)
        connect_signals()

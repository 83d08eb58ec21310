"""Which scopes of the content version (blog.caching.version) each write of blog content renews:
the receivers of post, tag and category signals, since the admin, imports and services all write.

A post saved with only its own text changed (body, excerpt, fields its own page shows) renews its
pages and the listings; anything other pages show of it, a new or deleted post, tags and
categories renew every page. Comments name their scopes in comments/services.py.
"""

from django.db.models.signals import m2m_changed, post_delete, post_save

from blog.caching.version import LISTINGS, content_changed, post_scope
from blog.models import Category, Post, Tag


def post_saved(instance: Post, created: bool, **kwargs) -> None:
    if created or instance.changes_other_pages():
        content_changed()
    else:
        content_changed(LISTINGS, post_scope(instance.pk))


def site_changed(**kwargs) -> None:
    content_changed()


def connect_signals() -> None:
    post_save.connect(post_saved, sender=Post, dispatch_uid="content-saved-post")
    post_delete.connect(site_changed, sender=Post, dispatch_uid="content-gone-post")
    for model in (Tag, Category):
        post_save.connect(site_changed, sender=model, dispatch_uid=f"content-saved-{model}")
        post_delete.connect(site_changed, sender=model, dispatch_uid=f"content-gone-{model}")
    for relation in (Post.tags.through, Post.categories.through, Post.authors.through):
        m2m_changed.connect(site_changed, sender=relation, dispatch_uid=f"content-{relation}")

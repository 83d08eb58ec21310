from importlib import import_module

import pytest
from django.apps import apps

from comments.models import Comment
from tests.factories import CommentFactory

pytestmark = pytest.mark.django_db


def test_the_migration_renders_stored_comments_with_html_macros_again():
    comment = CommentFactory(body=r"$\class{x}{y}$")
    plain = CommentFactory(body="$z$")
    Comment.objects.filter(pk=comment.pk).update(body_html="<p>stale</p>")
    Comment.objects.filter(pk=plain.pk).update(body_html="<p>kept</p>")
    import_module("comments.migrations.0006_rerender_mathjax_macros").rerender(apps, None)
    comment.refresh_from_db()
    plain.refresh_from_db()
    assert "\\backslash\\mathrm{class}{x}" in comment.body_html
    assert plain.body_html == "<p>kept</p>"

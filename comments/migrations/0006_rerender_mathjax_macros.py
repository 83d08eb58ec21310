from django.db import migrations
from django.db.models import Q

# Macros that comments now show as text (blog.rendering): render again the comments using them.
MACROS = ("data", "style", "class", "cssId", "href", "require")


def rerender(apps, schema_editor):
    from blog.rendering import Profile, render_markdown

    Comment = apps.get_model("comments", "Comment")
    uses_one = Q()
    for name in MACROS:
        uses_one |= Q(body__contains="\\" + name)
    for comment in Comment.objects.filter(uses_one).only("id", "body").iterator():
        html = render_markdown(comment.body, Profile.COMMENT).html
        Comment.objects.filter(pk=comment.pk).update(body_html=html)


class Migration(migrations.Migration):
    dependencies = [("comments", "0005_blocklist")]

    operations = [migrations.RunPython(rerender, migrations.RunPython.noop)]

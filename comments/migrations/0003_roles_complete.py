from django.contrib.auth.management import create_permissions
from django.db import migrations

# Authors moderate the comments on their own posts (comments.admin narrows the queue to them);
# Editors and Moderators, with moderate_any_comment, all comments.
GRANTS = [
    ("Authors", ["view_comment", "change_comment"]),
    ("Editors", ["view_comment", "change_comment", "delete_comment", "moderate_any_comment"]),
    ("Moderators", ["view_comment", "change_comment", "moderate_any_comment"]),
]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("comments")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="comments", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS:
        if name == "Moderators":
            codenames = ["moderate_any_comment"]
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="comments", codename__in=codenames)
            )


class Migration(migrations.Migration):

    dependencies = [
        ('comments', '0002_moderators'),
        ('blog', '0008_roles_complete'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='comment',
            options={'ordering': ['tree_id', 'lft'], 'permissions': [('moderate_any_comment', 'Can moderate comments on any post')], 'verbose_name': '评论', 'verbose_name_plural': '评论'},
        ),
        migrations.RunPython(grant, revoke),
    ]

from django.contrib.auth.management import create_permissions
from django.db import migrations

# What each group may do with blog's models; blog.roles says how the admin applies them.
WRITING = [
    "add_post", "change_post", "delete_post", "view_post",
    "view_category", "view_tag", "view_author",
]
CONTRIBUTOR_PERMISSIONS = WRITING
AUTHOR_PERMISSIONS = [
    *WRITING, "publish_post", "add_tag", "change_author",
    "add_postauthor", "change_postauthor", "delete_postauthor", "view_postauthor",
]
EDITOR_PERMISSIONS = [
    *AUTHOR_PERMISSIONS, "change_any_post", "manage_pages",
    "add_category", "change_category", "delete_category",
    "change_tag", "delete_tag", "add_author",
]
GRANTS = [
    ("Contributors", CONTRIBUTOR_PERMISSIONS),
    ("Authors", AUTHOR_PERMISSIONS),
    ("Editors", EDITOR_PERMISSIONS),
]


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations; the groups need them now.
    app_config = apps.get_app_config("blog")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="blog", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Group.objects.filter(name="Contributors").delete()
    added = {"Authors": AUTHOR_PERMISSIONS[len(WRITING):], "Editors": ["publish_post", "manage_pages"]}
    for name, codenames in added.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="blog", codename__in=codenames)
            )


class Migration(migrations.Migration):

    dependencies = [
        ('blog', '0007_post_kind_format_pending'),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='post',
            options={'ordering': ['-published_at', '-id'], 'permissions': [('change_any_post', 'Can change posts of any author'), ('publish_post', 'Can publish posts'), ('manage_pages', 'Can manage pages')], 'verbose_name': '文章', 'verbose_name_plural': '文章'},
        ),
        migrations.RunPython(grant, revoke),
    ]

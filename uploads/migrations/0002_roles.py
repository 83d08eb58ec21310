from django.contrib.auth.management import create_permissions
from django.db import migrations

# Like WordPress: authors upload and manage their own files and may use anyone's; editors manage
# all of them. Contributors (and moderators) get nothing: a draft for review needs no uploads.
AUTHOR_PERMISSIONS = ["add_upload", "change_upload", "delete_upload", "view_upload"]
EDITOR_PERMISSIONS = [*AUTHOR_PERMISSIONS, "change_any_upload"]


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations; the groups need them now.
    app_config = apps.get_app_config("uploads")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in [("Authors", AUTHOR_PERMISSIONS), ("Editors", EDITOR_PERMISSIONS)]:
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="uploads", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=["Authors", "Editors"]):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="uploads"))


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0001_initial"),
        ("blog", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]

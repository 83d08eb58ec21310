"""The database cache's table, as `createcachetable` would make it, so that `migrate` alone gives
a working site. A table already made by `createcachetable` is kept."""

from django.db import migrations, models


def create_table(apps, schema_editor):
    model = apps.get_model("blog", "CacheEntry")
    tables = schema_editor.connection.introspection.table_names()
    if model._meta.db_table not in tables:
        schema_editor.create_model(model)


def drop_table(apps, schema_editor):
    schema_editor.delete_model(apps.get_model("blog", "CacheEntry"))


class Migration(migrations.Migration):
    dependencies = [("blog", "0012_revisions_autosave")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="CacheEntry",
                    fields=[
                        (
                            "cache_key",
                            models.CharField(max_length=255, primary_key=True, serialize=False),
                        ),
                        ("value", models.TextField()),
                        ("expires", models.DateTimeField(db_index=True)),
                    ],
                    options={"db_table": "spaces_cache"},
                ),
            ],
        ),
        migrations.RunPython(create_table, drop_table),
    ]

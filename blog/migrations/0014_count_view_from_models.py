"""`spaces_count_view` again, now made from the models' table and column names and the one
definition of "published" (`blog.models.published_sql`) by `count_view_function()`."""

from django.db import migrations

from blog.counting.postgresql import count_view_function


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(count_view_function())


class Migration(migrations.Migration):
    dependencies = [("blog", "0013_cache_table")]

    operations = [migrations.RunPython(create_function, migrations.RunPython.noop)]

"""The content version gets one row per scope (blog.caching.version), keyed by the scope's name,
and `spaces_read_post` answers the tokens of the scopes it is asked for. The old row only named a
cache state: the table starts empty, and the first request stores a new site token."""

from django.db import migrations, models

from blog.counting.postgresql import read_post_function


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS spaces_read_post(bigint, text, timestamptz, date)"
        )
        schema_editor.execute(read_post_function())


class Migration(migrations.Migration):
    dependencies = [("blog", "0014_count_view_from_models")]

    operations = [
        migrations.DeleteModel(name="ContentVersion"),
        migrations.CreateModel(
            name="ContentVersion",
            fields=[
                ("scope", models.CharField(max_length=40, primary_key=True, serialize=False)),
                ("token", models.CharField(max_length=32)),
                ("valid_until", models.FloatField(default=0)),
            ],
        ),
        migrations.RunPython(create_function, migrations.RunPython.noop),
    ]

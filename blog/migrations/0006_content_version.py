"""The content version moves into the database, and on PostgreSQL the counted read returns it.

An article request then needs one round trip for both: `spaces_read_post` counts the read with
`spaces_count_view` (migration 0005) and answers the token and how long it holds
(`blog.caching.version`) in the same call.
"""

from django.db import migrations, models

READ_POST = """
CREATE OR REPLACE FUNCTION spaces_read_post(
    post bigint, published text, read_at timestamptz, read_on date,
    OUT views bigint, OUT token text, OUT valid_until double precision
) LANGUAGE plpgsql AS $$
BEGIN
    views := spaces_count_view(post, published, read_at, read_on);
    SELECT version.token, version.valid_until INTO token, valid_until
        FROM blog_contentversion AS version WHERE version.id = 1;
END
$$
"""


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(READ_POST)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS spaces_read_post(bigint, text, timestamptz, date)"
        )


class Migration(migrations.Migration):
    dependencies = [("blog", "0005_count_view_function")]

    operations = [
        migrations.CreateModel(
            name="ContentVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(max_length=32)),
                ("valid_until", models.FloatField()),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="content_version_one_row"
                    )
                ],
            },
        ),
        migrations.RunPython(create_function, drop_function),
    ]

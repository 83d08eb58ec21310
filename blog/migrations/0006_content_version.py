"""The content version moves into the database, and on PostgreSQL the counted read returns it.

An article request then needs one round trip for both: `spaces_count_view` now also answers
the token and how long it holds (`blog.discovery`), read in the same call as the count.
"""

import importlib

from django.db import migrations, models

COUNT_VIEW = """
CREATE FUNCTION spaces_count_view(
    post bigint, published text, read_at timestamptz, read_on date,
    OUT views bigint, OUT token text, OUT valid_until double precision
) LANGUAGE plpgsql AS $$
BEGIN
    -- A crash of the database server may lose the last moments of reads, never double them;
    -- not waiting for the WAL flush is for this transaction only.
    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE blog_post SET view_count = view_count + 1
        WHERE id = post AND status = published AND published_at <= read_at
        RETURNING view_count INTO views;
    IF FOUND THEN
        INSERT INTO blog_postdailyviews (post_id, day, views) VALUES (post, read_on, 1)
            ON CONFLICT (post_id, day)
            DO UPDATE SET views = blog_postdailyviews.views + 1;
    END IF;
    SELECT version.token, version.valid_until INTO token, valid_until
        FROM blog_contentversion AS version WHERE version.id = 1;
END
$$
"""
DROP_COUNT_VIEW = "DROP FUNCTION IF EXISTS spaces_count_view(bigint, text, timestamptz, date)"


def replace_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_COUNT_VIEW)
        schema_editor.execute(COUNT_VIEW)


def restore_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_COUNT_VIEW)
        previous = importlib.import_module("blog.migrations.0005_count_view_function")
        schema_editor.execute(previous.COUNT_VIEW)


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
        migrations.RunPython(replace_function, restore_function),
    ]

"""A post's total reads move from the wide `blog_post` row to a narrow table of their own
(`PostViews`): the counts are copied, `spaces_count_view` is made again to count there, and
`Post.view_count` goes, so the total has one place. Reversible: the counts go back."""

import django.db.models.deletion
from django.db import migrations, models

from blog.counting.postgresql import count_view_function

# `spaces_count_view` as it was before this migration (0014's, with today's names), for undoing it.
OLD_COUNT_VIEW = """
CREATE OR REPLACE FUNCTION spaces_count_view(
    post bigint, published text, read_at timestamptz, read_on date
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    counted bigint;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE "blog_post" SET "view_count" = "view_count" + 1
        WHERE "id" = post AND "blog_post"."status" = published
            AND "blog_post"."published_at" <= read_at
        RETURNING "view_count" INTO counted;
    IF FOUND THEN
        INSERT INTO "blog_postdailyviews" ("post_id", "day", "views") VALUES (post, read_on, 1)
            ON CONFLICT ("post_id", "day")
            DO UPDATE SET "views" = "blog_postdailyviews"."views" + 1;
    END IF;
    RETURN counted;
END
$$
"""


def names(schema_editor, model, *fields):
    quote = schema_editor.quote_name
    return quote(model._meta.db_table), *(quote(model._meta.get_field(f).column) for f in fields)


def copy_counts(apps, schema_editor):
    totals, post, views = names(schema_editor, apps.get_model("blog", "PostViews"), "post", "views")
    posts, pk, count = names(schema_editor, apps.get_model("blog", "Post"), "id", "view_count")
    schema_editor.execute(
        f"INSERT INTO {totals} ({post}, {views}) SELECT {pk}, {count} FROM {posts} "
        f"WHERE {count} > 0"
    )


def copy_counts_back(apps, schema_editor):
    totals, post, views = names(schema_editor, apps.get_model("blog", "PostViews"), "post", "views")
    posts, pk, count = names(schema_editor, apps.get_model("blog", "Post"), "id", "view_count")
    schema_editor.execute(
        f"UPDATE {posts} SET {count} = COALESCE("
        f"(SELECT {views} FROM {totals} WHERE {totals}.{post} = {posts}.{pk}), 0)"
    )


def count_in_totals(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(count_view_function())


def count_in_posts(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OLD_COUNT_VIEW)


class Migration(migrations.Migration):
    dependencies = [("blog", "0015_content_version_scopes")]

    operations = [
        migrations.CreateModel(
            name="PostViews",
            fields=[
                (
                    "post",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="total_views",
                        serialize=False,
                        to="blog.post",
                    ),
                ),
                ("views", models.BigIntegerField(default=0, verbose_name="阅读数")),
            ],
            options={
                "verbose_name": "阅读数",
                "verbose_name_plural": "阅读数",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("views__gte", 0)), name="post_views_gte_0"
                    )
                ],
            },
        ),
        migrations.RunPython(copy_counts, copy_counts_back),
        migrations.RunPython(count_in_totals, count_in_posts),
        migrations.RemoveConstraint(model_name="post", name="post_view_count_gte_0"),
        migrations.RemoveField(model_name="post", name="view_count"),
    ]

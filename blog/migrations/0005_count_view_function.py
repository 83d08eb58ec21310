"""PostgreSQL: one counted read as a function, whose statements are planned once per connection.

Sent as plain SQL, the post's UPDATE and the day's upsert are parsed and planned on every read,
which costs the server more than running them. PL/pgSQL keeps the plans of a function's
statements for the session, without client-side prepared statements (which Django leaves off so
that transaction-mode connection poolers keep working). `blog.counting.write_view` calls it.
"""

from django.db import migrations

COUNT_VIEW = """
CREATE OR REPLACE FUNCTION spaces_count_view(
    post bigint, published text, read_at timestamptz, read_on date
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    counted bigint;
BEGIN
    -- A crash of the database server may lose the last moments of reads, never double them;
    -- not waiting for the WAL flush is for this transaction only.
    PERFORM set_config('synchronous_commit', 'off', true);
    UPDATE blog_post SET view_count = view_count + 1
        WHERE id = post AND status = published AND published_at <= read_at
        RETURNING view_count INTO counted;
    IF FOUND THEN
        INSERT INTO blog_postdailyviews (post_id, day, views) VALUES (post, read_on, 1)
            ON CONFLICT (post_id, day)
            DO UPDATE SET views = blog_postdailyviews.views + 1;
    END IF;
    RETURN counted;
END
$$
"""


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(COUNT_VIEW)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS spaces_count_view(bigint, text, timestamptz, date)"
        )


class Migration(migrations.Migration):
    dependencies = [("blog", "0004_post_fillfactor")]

    operations = [migrations.RunPython(create_function, drop_function)]

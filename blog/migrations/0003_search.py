"""Search: the body as plain text on every database, then each database's own index over it.

PostgreSQL: a `search_vector` tsvector column kept by a trigger (title weight A, body weight B)
with a GIN index, and pg_trgm GIN indexes on UPPER(title) and UPPER(search_text) for the
`icontains` substring tests. A trigger rather than a generated column, because a generated column
is recomputed on every UPDATE (view counts) and blocks later type changes of `title`.
SQLite: an FTS5 trigram table over the same columns, kept by triggers (blog.search).
"""

from django.db import migrations, models

from blog.rendering import plain_text
from blog.search import install_sqlite_index, remove_sqlite_index

POSTGRESQL_FORWARDS = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "ALTER TABLE blog_post ADD COLUMN search_vector tsvector NOT NULL DEFAULT ''",
    """
    CREATE OR REPLACE FUNCTION blog_post_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector :=
            setweight(to_tsvector('english', NEW.title), 'A')
            || setweight(to_tsvector('english', NEW.search_text), 'B');
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER blog_post_search_vector
    BEFORE INSERT OR UPDATE OF title, search_text ON blog_post
    FOR EACH ROW EXECUTE FUNCTION blog_post_search_vector()
    """,
    """
    UPDATE blog_post SET search_vector =
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', search_text), 'B')
    """,
    "CREATE INDEX blog_post_search_vector_idx ON blog_post USING gin (search_vector)",
    "CREATE INDEX blog_post_title_trgm_idx ON blog_post USING gin (UPPER(title::text) gin_trgm_ops)",
    "CREATE INDEX blog_post_search_text_trgm_idx ON blog_post USING gin (UPPER(search_text) gin_trgm_ops)",
]
POSTGRESQL_BACKWARDS = [
    "DROP TRIGGER IF EXISTS blog_post_search_vector ON blog_post",
    "DROP FUNCTION IF EXISTS blog_post_search_vector()",
    "DROP INDEX IF EXISTS blog_post_search_text_trgm_idx",
    "DROP INDEX IF EXISTS blog_post_title_trgm_idx",
    "ALTER TABLE blog_post DROP COLUMN IF EXISTS search_vector",
]


def fill_search_text(apps, schema_editor):
    Post = apps.get_model("blog", "Post")
    batch = []
    for post in Post.objects.only("id", "body_html").iterator(chunk_size=500):
        post.search_text = plain_text(post.body_html)
        batch.append(post)
        if len(batch) == 500:
            Post.objects.bulk_update(batch, ["search_text"])
            batch = []
    Post.objects.bulk_update(batch, ["search_text"])


def create_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for statement in POSTGRESQL_FORWARDS:
            schema_editor.execute(statement)
    install_sqlite_index(connection)


def drop_indexes(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for statement in POSTGRESQL_BACKWARDS:
            schema_editor.execute(statement)
    remove_sqlite_index(connection)


class Migration(migrations.Migration):

    dependencies = [
        ("blog", "0002_roles"),
    ]

    operations = [
        migrations.AddField(
            model_name="post",
            name="search_text",
            field=models.TextField(blank=True, default="", editable=False),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop),
        migrations.RunPython(create_indexes, drop_indexes),
    ]

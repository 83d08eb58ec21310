"""The names the counting SQL uses, taken from the models, and the statements shared by the
per-database recorders and the batch writer."""

from functools import lru_cache

from django.db import connection

from blog.models import Post, PostDailyViews, PostViews, published_sql


def quoted_names(model: type, *fields: str) -> tuple[str, ...]:
    """The quoted table name of `model`, then the quoted columns of `fields`."""
    quote = connection.ops.quote_name
    return (
        quote(model._meta.db_table),
        *(quote(model._meta.get_field(name).column) for name in fields),
    )


@lru_cache(maxsize=2)
def daily_upsert(placeholder: str = "%s") -> str:
    """INSERT of a (post, day, views) row that adds the views to an existing row instead."""
    table, post, day, views = quoted_names(PostDailyViews, "post", "day", "views")
    return (
        f"INSERT INTO {table} ({post}, {day}, {views}) VALUES ({', '.join([placeholder] * 3)}) "
        f"ON CONFLICT ({post}, {day}) DO UPDATE SET {views} = {table}.{views} + excluded.{views}"
    )


def add_views_sql(post: str, views: str, published: tuple[str, str] | None = None) -> str:
    """Add `views` reads to the total of the post with id `post`, making its row on its first
    read, and answer the new total; with `published` = (status, now) only to a published and
    due post, else to any existing one (no row answered: nothing added). The arguments are
    what the SQL compares with: placeholders, or a function's variables."""
    totals, total_post, total_views = quoted_names(PostViews, "post", "views")
    posts, pk = quoted_names(Post, "id")
    due = f" AND {published_sql(posts, *published)}" if published else ""
    return (
        f"INSERT INTO {totals} ({total_post}, {total_views}) "
        f"SELECT {posts}.{pk}, {views} FROM {posts} WHERE {posts}.{pk} = {post}{due} "
        f"ON CONFLICT ({total_post}) DO UPDATE SET {total_views} = {totals}.{total_views} + "
        f"excluded.{total_views} RETURNING {total_views}"
    )


def update_views_sql(post: str, views: str, published: tuple[str, str]) -> str:
    """`add_views_sql()` for a post that has its row already, as an UPDATE (answering no row
    when it has none): PostgreSQL's function tries it first, as it costs less CPU than the
    upsert (165-185 against 175-230 µs per counted read with the day's row, in a loop)."""
    totals, total_post, total_views = quoted_names(PostViews, "post", "views")
    posts, pk = quoted_names(Post, "id")
    return (
        f"UPDATE {totals} SET {total_views} = {total_views} + {views} "
        f"WHERE {total_post} = {post} AND EXISTS (SELECT FROM {posts} "
        f"WHERE {posts}.{pk} = {post} AND {published_sql(posts, *published)}) "
        f"RETURNING {total_views}"
    )


@lru_cache(maxsize=1)
def raise_views_sql() -> str:
    """Make a post's total at least the given number (post id, views): an import never lowers
    a total that reads have raised since."""
    totals, post, views = quoted_names(PostViews, "post", "views")
    return (
        f"INSERT INTO {totals} ({post}, {views}) VALUES (%s, %s) ON CONFLICT ({post}) DO UPDATE "
        f"SET {views} = CASE WHEN excluded.{views} > {totals}.{views} THEN excluded.{views} "
        f"ELSE {totals}.{views} END"
    )


@lru_cache(maxsize=64)
def view_counts_sql(size: int) -> str:
    """The view counts of `size` posts by id (posts never read have no row)."""
    table, post, views = quoted_names(PostViews, "post", "views")
    return f"SELECT {post}, {views} FROM {table} WHERE {post} IN ({', '.join(['%s'] * size)})"

"""The names the counting SQL uses, taken from the models, and the statements shared by the
per-database recorders and the batch writer."""

from functools import lru_cache

from django.db import connection

from blog.models import Post, PostDailyViews


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


@lru_cache(maxsize=64)
def view_counts_sql(size: int) -> str:
    """The view counts of `size` posts by id."""
    table, pk, views = quoted_names(Post, "id", "view_count")
    return f"SELECT {pk}, {views} FROM {table} WHERE {pk} IN ({', '.join(['%s'] * size)})"

"""Recording a read on PostgreSQL: one call of the `spaces_read_post` function (migrations), which
counts the read and answers the content version's tokens in the same round trip."""

import datetime as dt

from django.db import connection
from django.utils import timezone

from blog.caching.version import SITE, SITE_WIDE, post_scope, state_of
from blog.counting.contract import Read
from blog.counting.sql import add_views_sql, quoted_names, update_views_sql
from blog.models import PUBLISHED_STATUS, ContentVersion, PostDailyViews

READ_POST = "SELECT * FROM spaces_read_post(%s::bigint, %s, %s::timestamptz, %s::date, %s::text[])"


def record_read(post_id: int, day: dt.date) -> Read:
    """The `Recorder` for PostgreSQL, answering with the tokens of the scopes the article's
    cached page needs; psycopg prepares the call once a connection has made it a few times
    (`prepare_threshold`, config/settings.py)."""
    scopes = [*SITE_WIDE, post_scope(post_id)]
    with connection.cursor() as cursor:
        cursor.execute(READ_POST, [post_id, PUBLISHED_STATUS, timezone.now(), day, scopes])
        views, found, tokens, valid_until = cursor.fetchone()
    rows = [
        (scope, token, valid_until if scope == SITE else 0)
        for scope, token in zip(found or [], tokens or [], strict=True)
    ]
    return Read(views is not None, None if views is None else int(views), state_of(scopes, rows))


def read_post_function() -> str:
    """`spaces_read_post`: the read counted by `spaces_count_view` and the tokens of the scopes
    asked for, in one round trip; the version table's names come from the model."""
    table, scope, token, valid_until = quoted_names(ContentVersion, "scope", "token", "valid_until")
    return f"""
CREATE OR REPLACE FUNCTION spaces_read_post(
    post bigint, published text, read_at timestamptz, read_on date, scopes text[],
    OUT views bigint, OUT scope_names text[], OUT scope_tokens text[],
    OUT site_valid_until double precision
) LANGUAGE plpgsql AS $$
BEGIN
    views := spaces_count_view(post, published, read_at, read_on);
    SELECT array_agg(version.{scope}), array_agg(version.{token}),
           max(version.{valid_until}) FILTER (WHERE version.{scope} = '{SITE}')
        INTO scope_names, scope_tokens, site_valid_until
        FROM {table} AS version WHERE version.{scope} = ANY(scopes);
END
$$
"""


def count_view_function() -> str:
    """`spaces_count_view`, which `spaces_read_post` calls: the post's total (`PostViews`; the
    wide post row is only read, for `published_sql()`'s condition) and the day's row, with the
    tables and columns of the models. Migrations create it from here; a change to either needs
    a new migration that runs this again.

    Its transaction commits without waiting for the WAL to reach the disk (`synchronous_commit`
    off for that transaction only; other writes, comments among them, still wait). A crash of
    the database server, not of a worker, can lose the reads of its last fraction of a second
    (up to three `wal_writer_delay`s, 0.6 s by default), never count one twice: for reader
    counts a fair trade. Measured: 1,000 counted reads made 7 WAL flushes instead of 914, and
    a commit that waits costs 3.7 ms of wall time. A read counted inside a caller's transaction
    makes that transaction's commit asynchronous too (no view does so)."""
    daily, post, day, day_views = quoted_names(PostDailyViews, "post", "day", "views")
    return f"""
CREATE OR REPLACE FUNCTION spaces_count_view(
    post bigint, published text, read_at timestamptz, read_on date
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    counted bigint;
BEGIN
    -- A crash of the database server may lose the last moments of reads, never double them;
    -- not waiting for the WAL flush is for this transaction only.
    PERFORM set_config('synchronous_commit', 'off', true);
    {update_views_sql("post", "1", ("published", "read_at"))} INTO counted;
    IF NOT FOUND THEN  -- its first read, or not published
        {add_views_sql("post", "1", ("published", "read_at"))} INTO counted;
    END IF;
    IF counted IS NOT NULL THEN
        INSERT INTO {daily} ({post}, {day}, {day_views}) VALUES (post, read_on, 1)
            ON CONFLICT ({post}, {day})
            DO UPDATE SET {day_views} = {daily}.{day_views} + 1;
    END IF;
    RETURN counted;
END
$$
"""

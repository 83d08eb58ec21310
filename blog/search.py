"""Post search: one meaning on every database, and each database's own index to find matches.

A query becomes *terms*: its words, and its runs of Chinese (Japanese, Korean) characters cut into
overlapping trigrams, since those scripts put no spaces between words and a whole-sentence query
rarely occurs verbatim. A post matches when any term occurs in its title or body text; it scores 2
per term in the title and 1 per term in the body, and equal scores list the newest first.

PostgreSQL also finds posts by full-text search (stemmed English words, `websearch` syntax); those
that no term matches follow the others, by rank below 1. It serves the substring tests from pg_trgm
GIN indexes. SQLite finds terms of three or more characters in an FTS5 trigram table where the
library has one, and scans with LIKE for shorter terms or without the table.

`search()` is all of this as one query; the search page ranks with blog.ranking instead, which
gives the same order from pieces that queries share.
"""

import contextlib
import functools
import html
import re
import sqlite3
import unicodedata
from collections.abc import Collection

from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVectorField,
)
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Case, FloatField, Q, QuerySet, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Greatest
from django.utils.safestring import SafeString, mark_safe

from blog.rendering import shorten

MAX_QUERY_LENGTH = 100
MAX_TERMS = 16
TRIGRAM = 3  # the shortest term a trigram index can look up
TEXT_SEARCH_CONFIG = "english"  # stems English words and keeps runs of CJK characters whole
FTS_TABLE = "blog_post_fts"
SNIPPET_LENGTH = 160

_CJK = "\u2e80-\u2fdf\u3040-\u30ff\u3100-\u312f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_RUN_RE = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+")
_CJK_RE = re.compile(f"[{_CJK}]")
# Dropped when the query has other terms: as substrings they would match nearly every post.
_STOP_WORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "in", "is", "it"}
    | {"of", "on", "or", "that", "the", "to", "was", "what", "when", "why", "with"}
)
# ts_headline marks its matches with these; they become <mark> after the text is escaped.
_HEADLINE_START, _HEADLINE_STOP = "\ue000", "\ue001"


def clean_query(query: str) -> str:
    """The query as searched: compatibility forms unified, control characters out, length capped."""
    text = unicodedata.normalize("NFKC", query[: MAX_QUERY_LENGTH * 2])
    text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split())[:MAX_QUERY_LENGTH]


def parse_terms(query: str) -> list[str]:
    """The substrings a query looks for, lowercase, at most MAX_TERMS of them."""
    found: list[str] = []
    for run in _RUN_RE.findall(clean_query(query).lower()):
        if len(run) > TRIGRAM and _CJK_RE.match(run):
            found.extend(run[i : i + TRIGRAM] for i in range(len(run) - TRIGRAM + 1))
        else:
            found.append(run)
    unique = list(dict.fromkeys(found))
    meaningful = [
        term
        for term in unique
        if term not in _STOP_WORDS and (len(term) > 1 or _CJK_RE.match(term))
    ]
    return (meaningful or unique)[:MAX_TERMS]


def search(posts: QuerySet, query: str) -> QuerySet:
    """`posts` matching `query`, best first, each annotated with its `score`."""
    terms = parse_terms(query)
    if not terms:
        return posts.none()
    score = Value(0)
    for term in terms:
        score += Case(When(title__icontains=term, then=2), default=0)
        score += Case(When(search_text__icontains=term, then=1), default=0)
    vendor = connections[posts.db].vendor
    if vendor == "postgresql":
        posts = _postgresql(posts, clean_query(query), terms, score)
    elif vendor == "sqlite" and sqlite_trigram_available():
        posts = posts.filter(_sqlite_candidates(terms)).annotate(score=score)
    else:
        posts = posts.filter(_substring(terms)).annotate(score=score)
    return posts.order_by("-score", "-published_at", "-id")


def _substring(terms: list[str]) -> Q:
    found = Q()
    for term in terms:
        found |= Q(title__icontains=term) | Q(search_text__icontains=term)
    return found


def _postgresql(posts: QuerySet, query: str, terms: list[str], score) -> QuerySet:
    text_query = SearchQuery(query, search_type="websearch", config=TEXT_SEARCH_CONFIG)
    posts, rank = text_rank(posts, text_query)
    return posts.filter(_substring(terms) | Q(search_vector=text_query)).annotate(
        score=Greatest(score, rank, output_field=FloatField())
    )


def text_rank(posts: QuerySet, text_query: SearchQuery) -> tuple[QuerySet, SearchRank]:
    """`posts` with the `search_vector` alias, and the full-text rank of `text_query` in it."""
    # The column exists only in the database (migration blog 0003), kept up to date by a trigger.
    table = connections[posts.db].ops.quote_name(posts.model._meta.db_table)
    vector = RawSQL(f"{table}.search_vector", [], output_field=SearchVectorField())
    # Weights are {D, C, B, A}: a word in the title (A) counts double one in the body (B);
    # normalization 32 maps the rank into [0, 1), below any substring match's score.
    rank = SearchRank(vector, text_query, weights=[0.1, 0.2, 0.5, 1.0], normalization=32)
    return posts.alias(search_vector=vector), rank


def with_headline(posts: QuerySet, query: str, pks: Collection[int]) -> QuerySet:
    """On PostgreSQL, `posts` with the `headline` its full-text search marks (stemmed words).

    Only the posts in `pks` get one: the others contain a term, which their snippet shows instead.
    """
    if connections[posts.db].vendor != "postgresql" or not pks:
        return posts
    text_query = SearchQuery(clean_query(query), search_type="websearch", config=TEXT_SEARCH_CONFIG)
    headline = SearchHeadline(
        "search_text",
        text_query,
        start_sel=_HEADLINE_START,
        stop_sel=_HEADLINE_STOP,
        max_fragments=1,
        max_words=35,
        min_words=15,
    )
    return posts.annotate(
        headline=Case(When(pk__in=pks, then=headline), default=Value(""), output_field=TextField())
    )


def _sqlite_candidates(terms: list[str]) -> Q:
    long_terms = [term for term in terms if len(term) >= TRIGRAM]
    short_terms = [term for term in terms if len(term) < TRIGRAM]
    found = _substring(short_terms)
    if long_terms:
        # Each term as an FTS5 string: operators, quotes and punctuation in it are plain text.
        match = " OR ".join('"{}"'.format(term.replace('"', '""')) for term in long_terms)
        found |= Q(
            pk__in=RawSQL(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", (match,))
        )
    return found


# --- Snippets ------------------------------------------------------------------------------------


def highlight(text: str, terms: list[str]) -> SafeString:
    """`text` escaped, with every occurrence of a term (overlaps merged) in <mark>."""
    lowered = text.lower()
    found = []
    if len(lowered) == len(text):  # lower() keeps positions for all but a few exotic letters
        for term in filter(None, terms):
            start = lowered.find(term)
            while start >= 0:
                found.append((start, start + len(term)))
                start = lowered.find(term, start + 1)
    marks: list[list[int]] = []  # [start, end] of each <mark>, overlapping and adjacent merged
    for start, end in sorted(found):
        if marks and start <= marks[-1][1]:
            marks[-1][1] = max(marks[-1][1], end)
        else:
            marks.append([start, end])
    # The standard library's escape(): Django's is the same, wrapped for lazy strings.
    pieces, shown = [], 0
    for start, end in marks:
        pieces += [
            html.escape(text[shown:start]),
            "<mark>",
            html.escape(text[start:end]),
            "</mark>",
        ]
        shown = end
    pieces.append(html.escape(text[shown:]))
    return mark_safe("".join(pieces))


def snippet(text: str, terms: list[str], headline: str = "") -> SafeString:
    """A stretch of `text` around its first term, highlighted; else around the words PostgreSQL's
    headline marks, else its start. Formulas are never cut: they show whole, for MathJax."""
    lowered = text.lower()
    positions = [p for p in (lowered.find(term) for term in terms) if p >= 0]
    if not positions and headline:
        marked = re.findall(f"{_HEADLINE_START}(.*?){_HEADLINE_STOP}", headline)
        terms = [word.lower() for word in marked if word]
        positions = [p for p in (lowered.find(term) for term in terms) if p >= 0]
    start = max(0, min(positions, default=0) - SNIPPET_LENGTH // 4)
    shortened = shorten(text, SNIPPET_LENGTH, start)
    marked_math = lambda tex: any(term in tex.lower() for term in terms)  # noqa: E731
    return mark_safe(shortened.html(lambda piece: highlight(piece, terms), marked_math))


# --- Indexes -------------------------------------------------------------------------------------


@functools.cache
def sqlite_trigram_available() -> bool:
    """Whether this SQLite library has FTS5 with the trigram tokenizer (SQLite 3.34 and later)."""
    try:
        with contextlib.closing(sqlite3.connect(":memory:")) as db:
            db.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
    except sqlite3.Error:
        return False
    return True


_SQLITE_TRIGGERS = {
    f"{FTS_TABLE}_insert": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON blog_post BEGIN
            INSERT INTO {FTS_TABLE}(rowid, title, search_text)
            VALUES (new.id, new.title, new.search_text);
        END""",
    f"{FTS_TABLE}_delete": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON blog_post BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, search_text)
            VALUES ('delete', old.id, old.title, old.search_text);
        END""",
    # Only when the indexed text changes: view counts update posts all the time.
    f"{FTS_TABLE}_update": f"""
        CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update
        AFTER UPDATE OF title, search_text ON blog_post BEGIN
            INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, title, search_text)
            VALUES ('delete', old.id, old.title, old.search_text);
            INSERT INTO {FTS_TABLE}(rowid, title, search_text)
            VALUES (new.id, new.title, new.search_text);
        END""",
}


def install_sqlite_index(connection: BaseDatabaseWrapper) -> None:
    """Create the FTS5 table and its triggers where missing, then fill the table from the posts."""
    if connection.vendor != "sqlite" or not sqlite_trigram_available():
        return
    with connection.cursor() as cursor:
        if "blog_post" not in connection.introspection.table_names(cursor):
            return
        columns = connection.introspection.get_table_description(cursor, "blog_post")
        if "search_text" not in {column.name for column in columns}:
            return  # migrated back to before blog 0003
        names = [FTS_TABLE, *_SQLITE_TRIGGERS]
        cursor.execute(
            f"SELECT count(*) FROM sqlite_master WHERE name IN ({', '.join('%s' for _ in names)})",
            names,
        )
        if cursor.fetchone()[0] == len(names):
            return
        cursor.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(title, search_text, "
            "content='blog_post', content_rowid='id', tokenize='trigram')"
        )
        for statement in _SQLITE_TRIGGERS.values():
            cursor.execute(statement)
        cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")


def remove_sqlite_index(connection: BaseDatabaseWrapper) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in _SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def restore_sqlite_index(using: str, **kwargs) -> None:
    """post_migrate: SQLite drops a table's triggers when a migration rebuilds the table."""
    install_sqlite_index(connections[using])

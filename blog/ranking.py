"""Search ranking from pieces that queries share, for the search page.

It gives `blog.search.search()`'s order and meaning (see there) from the published posts containing
each term (in the title, in the body) and, on PostgreSQL, matching each lexeme, each looked up
once per content version (blog.caching.version) and kept in the shared cache as bitmaps over the
published posts, newest first; each process keeps copies of those it used last. Readers' queries
are new combinations of words seen before, so most cost no database work for their terms; ranking
and counting the matches are then a few operations on bitmaps.
"""

import functools
import hashlib
import operator
import re
from array import array
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.contrib.postgres.search import SearchQuery
from django.core.cache import cache
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

from blog.caching.local import LocalCopies
from blog.caching.version import LISTINGS, SITE, content_version
from blog.models import Post
from blog.search import (
    FTS_TABLE,
    TEXT_SEARCH_CONFIG,
    TRIGRAM,
    clean_query,
    parse_terms,
    sqlite_trigram_available,
    text_rank,
)

CACHE_PREFIX = "spaces:search"
LOCAL_PIECES_BYTES = 16 * 1024 * 1024  # per process
WORD_TSQUERIES = 10_000  # per process
# websearch_to_tsquery's output when the query is a plain list of words: 'a' & 'b' & …
_LEXEME = r"'(?:[^'\\]|''|\\.)*'"
_CONJUNCTION = re.compile(f"{_LEXEME}(?: & {_LEXEME})*")
# Letters and digits, one space between words: no quotes or dashes, websearch's operators.
_PLAIN_WORDS = re.compile(r"[^\W_]+(?: [^\W_]+)*")
# A piece: ("term", term) or ("lexeme", tsquery text); its SQL: a (query, parameters) per bitmap.
Piece = tuple[str, str]
PieceSQL = list[tuple[str, list]]


class Ranking(Sequence):
    """Ids of the published posts matching a query, best first; lists only the slices asked for.

    `levels` are bitmaps (bit i: the i-th newest published post) of the posts with each score,
    highest first. On PostgreSQL, the posts only full-text search finds (`tail`) follow, by rank.
    """

    def __init__(self, order: Sequence[int], levels: list[int], tail: int = 0, query: str = ""):
        self.order, self.levels, self.tail, self.query = order, levels, tail, query
        self.size = sum(level.bit_count() for level in levels) + tail.bit_count()

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0] if index >= 0 else self[len(self) + index]
        start, stop, _ = index.indices(len(self))
        found: list[int] = []
        for level in self.levels:
            if start < stop:
                found += [self.order[p] for p in _positions(level, start, stop)]
            start, stop = max(0, start - level.bit_count()), max(0, stop - level.bit_count())
        if start < stop:
            found += self._tail_ids()[start:stop]
        return found

    @functools.cached_property
    def text_search_only(self) -> frozenset[int]:
        """The ids of the posts only full-text search finds: no term occurs in them."""
        return frozenset(self.order[p] for p in _positions(self.tail, 0, self.tail.bit_count()))

    def _tail_ids(self) -> list[int]:
        text_query = SearchQuery(self.query, search_type="websearch", config=TEXT_SEARCH_CONFIG)
        posts, rank = text_rank(Post.objects.filter(pk__in=self.text_search_only), text_query)
        posts = posts.annotate(rank=rank).order_by("-rank", "-published_at", "-id")
        return list(posts.values_list("id", flat=True))


def rank(query: str) -> Ranking:
    """The published posts matching `query`, best first: `search()`'s order, from cached pieces."""
    terms = parse_terms(query)
    if not terms:
        return Ranking([], [])
    connection = connections[Post.objects.db]
    lexemes = _lexemes(connection, clean_query(query)) if connection.vendor == "postgresql" else []
    pieces = {("term", term): _term_sql(connection, term) for term in terms}
    pieces |= {("lexeme", lexeme): _lexeme_sql(lexeme) for lexeme in lexemes}
    order, bitmaps = _pieces(connection, pieces)
    # A term in the title scores 2, in the body 1.
    weighted = [
        (bits, 2 - kind) for term in terms for kind, bits in enumerate(bitmaps["term", term])
    ]
    levels = _levels(weighted)
    tail = 0
    if lexemes:
        tail = functools.reduce(operator.and_, (bitmaps["lexeme", lexeme][0] for lexeme in lexemes))
        tail &= ~functools.reduce(operator.or_, levels, 0)
    return Ranking(order, levels, tail, clean_query(query))


def _pieces(
    connection: BaseDatabaseWrapper, pieces: dict[Piece, PieceSQL]
) -> tuple[Sequence[int], dict[Piece, tuple[int, ...]]]:
    """The published ids newest first, and each piece's bitmaps: from this process's copies, the
    shared cache, or else one query."""
    version = content_version((SITE, LISTINGS))  # posts' text, titles and places
    prefix = f"{CACHE_PREFIX}:{version}"
    keys = {
        piece: f"{prefix}:{piece[0]}:{hashlib.sha256(piece[1].encode()).hexdigest()}"
        for piece in pieces
    }
    wanted = [f"{prefix}:order", *keys.values()]
    found = _local_pieces.get_many(version, wanted)
    if unknown := [key for key in wanted if key not in found]:
        shared = cache.get_many(unknown)
        _local_pieces.keep(version, shared)
        found |= shared
    missing = [piece for piece, key in keys.items() if key not in found]
    new = {}
    order = found.get(f"{prefix}:order")
    if order is None:
        published = Post.objects.published().order_by("-published_at", "-id")
        order = _compact(published.values_list("id", flat=True))
        new[f"{prefix}:order"] = order
    if missing:
        looked_up = _look_up(connection, order, pieces, missing)
        new |= {keys[piece]: bitmaps for piece, bitmaps in looked_up.items()}
    if new:
        cache.set_many(new, settings.SPACES_DISCOVERY_CACHE_SECONDS)
        _local_pieces.keep(version, new)
    return order, {piece: found[key] if key in found else new[key] for piece, key in keys.items()}


def _size(value: Sequence[int]) -> int:
    """Bytes of the order (an array) or of a piece's bitmaps."""
    if isinstance(value, array):
        return value.itemsize * len(value)
    return sum((bits.bit_length() + 7) // 8 for bits in value)


# Readers' queries reuse a limited vocabulary, so most rankings read nothing from the shared cache
# but the content version.
_local_pieces = LocalCopies(LOCAL_PIECES_BYTES, _size)
_word_tsqueries: dict[tuple[str, str], str] = {}  # (database alias, word): its tsquery text


def _look_up(
    connection: BaseDatabaseWrapper,
    order: Sequence[int],
    pieces: dict[Piece, PieceSQL],
    missing: list,
) -> dict[Piece, tuple[int, ...]]:
    """Bitmaps of the `missing` pieces: one query, each part a lookup in an index."""
    parts, params = [], []
    for piece in missing:
        for sql, part_params in pieces[piece]:
            parts.append(f"SELECT {len(parts)}, id FROM ({sql}) AS part{len(parts)}")
            params += part_params
    hits: list[list[int]] = [[] for _ in parts]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        for part, pk in cursor.fetchall():
            hits[part].append(pk)
    positions = {pk: position for position, pk in enumerate(order)}
    bitmaps = iter([_bitmap(part_hits, positions) for part_hits in hits])
    return {piece: tuple(next(bitmaps) for _ in pieces[piece]) for piece in missing}


def _compact(ids: Iterable[int]) -> array:
    """`ids` as an array, of 4-byte numbers where they fit: a fraction of a list's size in the
    cache and in memory, and quicker to load."""
    ids = list(ids)
    return array("I" if max(ids, default=0) < 1 << 32 else "Q", ids)


def _term_sql(connection: BaseDatabaseWrapper, term: str) -> PieceSQL:
    """SQL selecting the ids of the posts with `term` in the title, and in the body."""
    table = connection.ops.quote_name(FTS_TABLE)
    if connection.vendor == "sqlite" and len(term) >= TRIGRAM and sqlite_trigram_available():
        # The term as an FTS5 string: operators, quotes and punctuation in it are plain text.
        phrase = '"{}"'.format(term.replace('"', '""'))
        sql = f"SELECT rowid AS id FROM {table} WHERE {table} MATCH %s"
        return [(sql, [f"title : {phrase}"]), (sql, [f"search_text : {phrase}"])]
    pattern = f"%{connection.ops.prep_for_like_query(term)}%"
    if connection.vendor == "postgresql":  # the expressions of the pg_trgm indexes
        test, columns = "UPPER({}) LIKE UPPER(%s)", ("title::text", "search_text")
    else:
        test, columns = "{} LIKE %s ESCAPE '\\'", ("title", "search_text")
    return [
        (f"SELECT id FROM blog_post WHERE {test.format(column)}", [pattern]) for column in columns
    ]


def _lexemes(connection: BaseDatabaseWrapper, query: str) -> list[str]:
    """The query's full-text search as tsquery texts whose matches all match: its lexemes when
    the query is a plain list of words, else the whole tsquery."""
    words = query.split()
    if _PLAIN_WORDS.fullmatch(query) and "or" not in map(str.lower, words):
        text = _words_tsquery(connection, words)
    else:
        text = _tsquery(connection, query)
    if not text:  # only stop words
        return []
    return re.findall(_LEXEME, text) if _CONJUNCTION.fullmatch(text) else [text]


def _tsquery(connection: BaseDatabaseWrapper, query: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT websearch_to_tsquery(%s::regconfig, %s)::text", [TEXT_SEARCH_CONFIG, query]
        )
        return cursor.fetchone()[0]


def _words_tsquery(connection: BaseDatabaseWrapper, words: list[str]) -> str:
    """websearch_to_tsquery() of words without operators: each word's tsquery, joined with &.

    Only the text search configuration decides a word's, so this process keeps them: readers'
    queries are new combinations of known words, and then need no query for this.
    """
    known = {word: _word_tsqueries.get((connection.alias, word)) for word in words}
    if unknown := [word for word, text in known.items() if text is None]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word, websearch_to_tsquery(%s::regconfig, word)::text"
                " FROM unnest(%s::text[]) AS word",
                [TEXT_SEARCH_CONFIG, unknown],
            )
            found = dict(cursor.fetchall())
        known |= found
        if len(_word_tsqueries) + len(found) > WORD_TSQUERIES:
            _word_tsqueries.clear()
        _word_tsqueries.update(((connection.alias, word), text) for word, text in found.items())
    return " & ".join(filter(None, (known[word] for word in words)))


def _lexeme_sql(text: str) -> PieceSQL:
    return [("SELECT id FROM blog_post WHERE search_vector @@ %s::tsquery", [text])]


def _bitmap(pks: Iterable[int], positions: dict[int, int]) -> int:
    """Bit i set for the i-th newest published post among `pks`; drafts and others left out."""
    bits = bytearray(len(positions) // 8 + 1)
    for pk in pks:
        if (position := positions.get(pk)) is not None:
            bits[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(bits, "little")


def _levels(weighted: list[tuple[int, int]]) -> list[int]:
    """Bitmaps of the posts with each score, highest first, from (bitmap, weight) pairs.

    The scores are added bit-sliced: plane j holds bit j of every post's score.
    """
    planes: list[int] = []
    for bits, weight in weighted:
        carry, j = bits, weight.bit_length() - 1
        while carry:
            planes += [0] * (j + 1 - len(planes))
            planes[j], carry = planes[j] ^ carry, planes[j] & carry
            j += 1
    matched = functools.reduce(operator.or_, planes, 0)
    levels = []
    for score in range((1 << len(planes)) - 1, 0, -1):
        level = matched
        for j, plane in enumerate(planes):
            level &= plane if score >> j & 1 else ~plane
        if level:
            levels.append(level)
    return levels


def _positions(bits: int, start: int, stop: int) -> list[int]:
    """Positions of the set bits of `bits`, lowest first: the start-th to before the stop-th."""
    found = []
    for index in range(stop):
        if not bits:
            break
        lowest = bits & -bits
        if index >= start:
            found.append(lowest.bit_length() - 1)
        bits ^= lowest
    return found

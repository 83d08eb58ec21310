"""Read-only access to another application's database: a SQLite file, MySQL/MariaDB or PostgreSQL.

Text comes back as bytes and is decoded per value, so that one row with invalid UTF-8 is one
bad item instead of an error that stops the whole read.
"""

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from importers.core import SourceError


class BadText(ValueError):
    """A value that is not valid UTF-8."""


def text(value: object) -> str:
    """A column's value as text ("" for NULL); raises BadText for bytes that are not UTF-8."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadText(f"invalid UTF-8 at byte {error.start}") from None
    return str(value)


def number(value: object) -> int:
    try:
        return int(text(value) or 0)
    except ValueError:
        return 0


class Database:
    """A connection, with its dialect's identifier quoting."""

    def __init__(self, connection, quote: str, errors: tuple[type[Exception], ...]) -> None:
        self.connection = connection
        self.quote = quote
        self.errors = errors

    def name(self, identifier: str) -> str:
        return f"{self.quote}{identifier}{self.quote}"

    def columns(self, table: str) -> list[str] | None:
        """The table's column names, or None when there is no such table."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(f"SELECT * FROM {self.name(table)} WHERE 1 = 0")
        except self.errors:
            self.connection.rollback()
            return None
        names = [text(column[0]) for column in cursor.description]
        cursor.close()
        return names

    def rows(self, table: str, order_by: str) -> Iterator[dict[str, object]]:
        """Every row as {column: raw value}, in order."""
        cursor = self.connection.cursor()
        try:
            cursor.execute(f"SELECT * FROM {self.name(table)} ORDER BY {self.name(order_by)}")
            names = [text(column[0]) for column in cursor.description]
            while batch := cursor.fetchmany(2000):
                yield from (dict(zip(names, row, strict=True)) for row in batch)
        except self.errors as error:
            raise SourceError(f"cannot read table {table}: {error}") from None
        finally:
            cursor.close()

    def close(self) -> None:
        self.connection.close()


def open_database(source: str) -> Database:
    """Connect to `source`: a path to a SQLite file, or a mysql:// or postgres:// URL."""
    scheme = urlsplit(source).scheme.lower() if "://" in source else ""
    if scheme in {"mysql", "mariadb"}:
        return _mysql(source)
    if scheme in {"postgres", "postgresql"}:
        return _postgres(source)
    if scheme:
        raise SourceError(f"unknown database URL scheme {scheme!r}: use mysql:// or postgres://")
    return _sqlite(Path(source))


def _sqlite(path: Path) -> Database:
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    try:
        with path.open("rb") as file:
            header = file.read(16)
    except OSError as error:
        raise SourceError(f"{path}: cannot read: {error.strerror or error}") from None
    if header != b"SQLite format 3\x00":
        raise SourceError(f"{path}: not a SQLite database")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    connection.text_factory = bytes
    return Database(connection, '"', (sqlite3.Error,))


def _mysql(url: str) -> Database:
    try:
        import pymysql
    except ImportError:
        raise SourceError(
            "reading MySQL/MariaDB needs PyMySQL: pip install 'spaces[mysql]'"
        ) from None
    parts = urlsplit(url)
    try:
        connection = pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            database=unquote(parts.path.lstrip("/")),
            charset="utf8mb4",
            use_unicode=False,
            connect_timeout=10,
        )
    except pymysql.Error as error:
        raise SourceError(f"cannot connect to MySQL: {error}") from None
    return Database(connection, "`", (pymysql.Error,))


def _postgres(url: str) -> Database:
    import psycopg

    try:
        connection = psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as error:
        raise SourceError(f"cannot connect to PostgreSQL: {error}") from None
    connection.read_only = True
    return Database(connection, '"', (psycopg.Error,))

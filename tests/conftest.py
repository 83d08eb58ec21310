import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from urllib.parse import unquote, urlsplit

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _isolated_settings(settings):
    """Each test gets its own memory cache, plain static storage and no canonical base URL."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"}
    }
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.SPACES_BASE_URL = ""
    settings.SPACES_POSTS_PER_PAGE = 8
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Reads written to the database at once, where tests read them; the journal's own tests
    # (tests/blog/test_journal.py) turn it on in a folder of their own.
    settings.SPACES_VIEW_JOURNAL = "off"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def postgres(db):
    """Skip outside PostgreSQL; CI runs the suite a second time on PostgreSQL to cover these."""
    from django.db import connection

    if connection.vendor != "postgresql":
        if IN_CI and os.environ.get("DATABASE_URL"):
            pytest.fail("CI=true and DATABASE_URL is set, but the database is not PostgreSQL")
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def sqlite(db):
    """Skip outside SQLite: CI runs the suite on SQLite too (without DATABASE_URL), where these
    run; under CI=true a SQLite run that is not on SQLite fails."""
    from django.db import connection

    if connection.vendor != "sqlite":
        if IN_CI and not os.environ.get("DATABASE_URL"):
            pytest.fail("CI=true and no DATABASE_URL, but the database is not SQLite")
        pytest.skip("needs SQLite (unset DATABASE_URL)")


@pytest.fixture
def redis_url():
    """An emptied Redis database of its own (3) for view-buffer tests; required under CI=true."""
    import redis

    url = os.environ.get("SPACES_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        if IN_CI:
            pytest.fail(f"CI=true but Redis at {url} is unreachable: {error}")
        pytest.skip(f"needs Redis at {url}")
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def mariadb():
    """The URL of a new, empty MariaDB database, dropped afterwards; required under CI=true.

    The server is SPACES_TEST_MARIADB_URL's (default: root@127.0.0.1:3306, as `.ci/run` starts it).
    """
    import pymysql

    server = urlsplit(os.environ.get("SPACES_TEST_MARIADB_URL", "mysql://root@127.0.0.1:3306"))
    options = {
        "host": server.hostname or "127.0.0.1",
        "port": server.port or 3306,
        "user": unquote(server.username or "root"),
        "password": unquote(server.password or ""),
        "connect_timeout": 2,
    }
    try:
        admin = pymysql.connect(**options)
    except pymysql.Error as error:
        if IN_CI:
            pytest.fail(f"CI=true but MariaDB at {server.netloc} is unreachable: {error}")
        pytest.skip(f"needs MariaDB at {server.netloc}")
    name = f"spaces_test_{os.getpid()}_{os.urandom(4).hex()}"
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield f"mysql://{server.netloc}/{name}"
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture
def use_redis_cache(settings) -> Callable[[str], None]:
    """Point the cache at a Redis URL the way production does (config.settings.redis_cache),
    with no circuit breaker state left by another test."""
    from blog import cache
    from config.settings import redis_cache

    def use(url: str, pause: float = 10) -> None:
        cache._breakers.clear()
        settings.CACHES = {"default": redis_cache(url, pause)}

    yield use
    cache._breakers.clear()


@pytest.fixture
def silent_redis() -> Iterator[SimpleNamespace]:
    """A listener that accepts connections and never answers, like a hung Redis: its `url`, and
    the connections it `accepted` so far (each is one attempt by a client)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    stop = threading.Event()
    accepted: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"redis://127.0.0.1:{server.getsockname()[1]}/0", accepted=accepted)
    stop.set()
    thread.join()
    server.close()
    for connection in accepted:
        connection.close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright; required under CI=true."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if IN_CI:
            pytest.fail(f"CI=true but {CHROMIUM} is missing: apt-get install chromium")
        pytest.skip("Chromium is not installed")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs an event loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()

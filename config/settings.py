"""Spaces settings: everything that differs between machines comes from the environment."""

import json
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


BASE_DIR = Path(__file__).resolve().parent.parent

# --- The environment, read in one place -------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
SQLITE_PATH = os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3"))  # when no DATABASE_URL
# postgres://user:pass@host:5432/name?opt=v, or sqlite:///relative/path, sqlite:////absolute/path
DATABASE_URL = os.environ.get("DATABASE_URL", "") or f"sqlite:///{SQLITE_PATH}"
REDIS_URL = os.environ.get("REDIS_URL", "")
# Seconds to leave the Redis cache alone after it failed, before one request tries it again.
SPACES_REDIS_PAUSE = float(os.environ.get("SPACES_REDIS_PAUSE", "10"))
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "Asia/Shanghai")
LANGUAGE_CODE = os.environ.get("DJANGO_LANGUAGE_CODE", "zh-hans")
SECURE = env_bool("DJANGO_SECURE", not DEBUG)
EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "webmaster@localhost")
SPACES_SITE_NAME = os.environ.get("SPACES_SITE_NAME", "Spaces")
SPACES_TAGLINE = os.environ.get("SPACES_TAGLINE", "渴望成为一个小飞侠")
# The site's icons and the image shared pages show when a post has no figure of its own: each a
# path in the static files or a full URL. The defaults ship with Spaces (tools/make_icons.py).
SPACES_FAVICON = os.environ.get("SPACES_FAVICON", "img/favicon.svg")
SPACES_FAVICON_ICO = os.environ.get("SPACES_FAVICON_ICO", "img/favicon.ico")
SPACES_TOUCH_ICON = os.environ.get("SPACES_TOUCH_ICON", "img/apple-touch-icon.png")
SPACES_DEFAULT_IMAGE = os.environ.get("SPACES_DEFAULT_IMAGE", "img/share.png")
# Canonical base URL, e.g. https://example.org; empty means "the request's own scheme and host".
SPACES_BASE_URL = os.environ.get("SPACES_BASE_URL", "").rstrip("/")
SPACES_OLD_HOSTS = env_list("SPACES_OLD_HOSTS")
SPACES_CITATION_KEY = os.environ.get("SPACES_CITATION_KEY", "spaces")
SPACES_POSTS_PER_PAGE = int(os.environ.get("SPACES_POSTS_PER_PAGE", "8"))
# How often the post editor autosaves while the text changes.
SPACES_AUTOSAVE_SECONDS = int(os.environ.get("SPACES_AUTOSAVE_SECONDS", "30"))
SPACES_VIEW_BUFFER = env_bool("SPACES_VIEW_BUFFER", False)
# Counted reads are appended to a journal on this machine (SPACES_VIEW_JOURNAL: its directory,
# by default var/reads/<database> under the project) and moved into the database every
# SPACES_VIEW_FLUSH_SECONDS by the process whose turn it is, and by `manage.py flush_views`;
# "off" writes each read to the database at once (blog/counting/journal.py).
SPACES_VIEW_JOURNAL = os.environ.get("SPACES_VIEW_JOURNAL", "").strip()
SPACES_VIEW_FLUSH_SECONDS = float(os.environ.get("SPACES_VIEW_FLUSH_SECONDS", "5"))
# Feeds: how many posts, and whole articles instead of excerpts with a link.
SPACES_FEED_ITEMS = int(os.environ.get("SPACES_FEED_ITEMS", "10"))
SPACES_FEED_FULL_TEXT = env_bool("SPACES_FEED_FULL_TEXT", False)
# How long the archive page, the random posts' id list and the popular tags may lag behind edits.
SPACES_DISCOVERY_CACHE_SECONDS = int(os.environ.get("SPACES_DISCOVERY_CACHE_SECONDS", "600"))
# Anonymous readers' pages from the shared page cache (0: every page rendered whole, per request).
SPACES_PAGE_CACHE = env_bool("SPACES_PAGE_CACHE", True)
# View counting: off entirely, and "server" (the article response counts) or "beacon" (a script on
# the page posts to /archives/<id>/hit: for article HTML cached by a CDN).
SPACES_VIEW_COUNTING = env_bool("SPACES_VIEW_COUNTING", True)
SPACES_VIEW_COUNT_MODE = os.environ.get("SPACES_VIEW_COUNT_MODE", "server").strip().lower()
# Comments: nesting levels (a top-level comment is level 1), threads per page, which page the
# article shows ("last" like the seed site, or "first"), and the moderation policy's thresholds.
SPACES_COMMENT_MAX_DEPTH = int(os.environ.get("SPACES_COMMENT_MAX_DEPTH", "10"))
SPACES_COMMENT_THREADS_PER_PAGE = int(os.environ.get("SPACES_COMMENT_THREADS_PER_PAGE", "10"))
SPACES_COMMENT_DEFAULT_PAGE = os.environ.get("SPACES_COMMENT_DEFAULT_PAGE", "last")
# How long a comment's writer may change or delete it (the same browser, or the same user).
SPACES_COMMENT_EDIT_SECONDS = int(os.environ.get("SPACES_COMMENT_EDIT_SECONDS", "900"))
SPACES_COMMENT_MAX_LINKS = int(os.environ.get("SPACES_COMMENT_MAX_LINKS", "2"))
SPACES_COMMENT_MIN_INTERVAL = int(os.environ.get("SPACES_COMMENT_MIN_INTERVAL", "60"))
SPACES_COMMENT_HOURLY_LIMIT = int(os.environ.get("SPACES_COMMENT_HOURLY_LIMIT", "20"))
# Commenters with an approved comment are limited per e-mail address instead of per IP address.
SPACES_COMMENT_KNOWN_MIN_INTERVAL = int(os.environ.get("SPACES_COMMENT_KNOWN_MIN_INTERVAL", "10"))
SPACES_COMMENT_KNOWN_HOURLY_LIMIT = int(os.environ.get("SPACES_COMMENT_KNOWN_HOURLY_LIMIT", "60"))
# A comment form sent sooner than this many seconds after it was shown is refused (bots).
SPACES_COMMENT_MIN_FORM_AGE = int(os.environ.get("SPACES_COMMENT_MIN_FORM_AGE", "3"))
# Words, domains and IP addresses or networks; a comment matching one is marked as spam.
SPACES_COMMENT_BLOCKLIST = env_list("SPACES_COMMENT_BLOCKLIST")
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use REMOTE_ADDR).
SPACES_PROXY_COUNT = int(os.environ.get("SPACES_PROXY_COUNT", "0"))
# The media library: largest file accepted, and most pixels an image may decode to (a 48 MP
# phone photo fits; more is refused as a possible decompression bomb).
SPACES_UPLOAD_MAX_BYTES = int(os.environ.get("SPACES_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024)))
SPACES_UPLOAD_MAX_PIXELS = int(os.environ.get("SPACES_UPLOAD_MAX_PIXELS", "50000000"))
# Where uploads are stored (a Django storage class; e.g. storages.backends.s3.S3Storage from
# django-storages for several app servers), its options as JSON, and the URL they are served at.
MEDIA_STORAGE_BACKEND = os.environ.get(
    "DJANGO_MEDIA_STORAGE", "django.core.files.storage.FileSystemStorage"
)
MEDIA_STORAGE_OPTIONS = json.loads(os.environ.get("DJANGO_MEDIA_STORAGE_OPTIONS", "{}"))
MEDIA_URL = os.environ.get("DJANGO_MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", str(BASE_DIR / "media")))
# Optional Akismet spam check; unset means no request ever leaves the site for it.
AKISMET_API_KEY = os.environ.get("AKISMET_API_KEY", "")
# -----------------------------------------------------------------------------------------------

if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string, or set DJANGO_DEBUG=1 "
            "for local development."
        )
    SECRET_KEY = "insecure-development-key-only-for-DJANGO_DEBUG"
if SPACES_VIEW_COUNT_MODE not in {"server", "beacon"}:
    raise ImproperlyConfigured("SPACES_VIEW_COUNT_MODE must be 'server' or 'beacon'.")
if SPACES_VIEW_BUFFER and not REDIS_URL:
    raise ImproperlyConfigured("SPACES_VIEW_BUFFER=1 needs REDIS_URL: the buffer lives in Redis.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "mptt",
    "blog",
    "comments",
    "uploads",
    "importers",
    "stats",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "blog.middleware.RefuseMalformedRequests",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: it answers old addresses of imported content only where the site has nothing.
    "importers.redirects.RedirectFallbackMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    # The pages readers see (templates/jinja2/): Jinja2, whose environment (comments/jinja.py,
    # blog/jinja.py) gives them the apps' template tags as globals. First, so that their names
    # are found without asking the Django engine.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "comments.jinja.environment",
            "context_processors": ["blog.context_processors.site"],
        },
    },
    # The admin's, the e-mails' and the forms' templates.
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "blog.context_processors.site",
            ],
        },
    },
]


def database_from_url(url: str) -> dict:
    """DATABASE_URL in Django's form (dj-database-url), with Spaces' choices per database."""
    database = dj_database_url.parse(url)
    options = database.setdefault("OPTIONS", {})
    test_name = options.pop("test_name", None)
    if database["ENGINE"] == "django.db.backends.postgresql":
        return {
            **database,
            # Django's backend with a health check that needs no round trip.
            "ENGINE": "config.postgresql",
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            # psycopg prepares a statement once a connection has run it this often (the
            # counted read, the content version: every request's): parsing and planning them
            # again cost the server about a fifth of the counted read. Preparing needs
            # server-side binding. Behind a pooler in transaction mode that cannot keep
            # prepared statements, set ?prepare_threshold=none.
            "OPTIONS": {
                **options,
                "server_side_binding": options.get("server_side_binding", "true") == "true",
                "prepare_threshold": threshold(options.get("prepare_threshold", "5")),
            },
            "TEST": {"NAME": test_name},
        }
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return {
            **database,
            # Opening the file and setting its pragmas costs more than many a page's queries.
            "CONN_MAX_AGE": 600,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue instead of
                # failing halfway with "database is locked"; WAL lets readers run meanwhile.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                **options,
            },
        }
    raise ImproperlyConfigured(f"DATABASE_URL: {database['ENGINE']} is not supported.")


def threshold(value: str | int | None) -> int | None:
    """prepare_threshold from the URL: a count, or none (never prepare)."""
    if value is None or str(value).lower() in {"", "none"}:
        return None
    return int(value)


DATABASES = {"default": database_from_url(DATABASE_URL)}
if DATABASES["default"]["ENGINE"] == "config.postgresql":
    INSTALLED_APPS.append("django.contrib.postgres")


def redis_cache(url: str, pause: float) -> dict:
    """django-redis on `url`: an outage makes reads miss and drops writes instead of failing
    pages, and a Redis that failed is skipped for `pause` seconds (blog.cache), so a silent one
    costs one timeout per pause and process, not one per cache call."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            "REDIS_CLIENT_CLASS": "blog.cache.CircuitBreakingRedis",
            "REDIS_CLIENT_KWARGS": {"pause": pause},
        },
    }


if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL, SPACES_REDIS_PAUSE)}
else:
    # A database table is shared by every worker process, unlike a per-process memory cache.
    CACHES = {
        "default": {
            # Django's, but each write is one upsert; every 100th write of a process culls the
            # expired rows, then those that expire soonest (never-expiring keys last), back to
            # MAX_ENTRIES. Key names no longer matter to culling. A post keeps about four
            # entries (its page, its empty comment form, its links, its citations), besides
            # listings and searches: 5,000 evicted pages of a 2,000-post site while they were
            # read (the benchmark's site's day), 30,000 hold a site of several thousand posts.
            "BACKEND": "blog.cache.DatabaseCache",
            "LOCATION": "spaces_cache",  # blog.models.CacheEntry's table, made by `migrate`
            "OPTIONS": {"MAX_ENTRIES": 30_000},
        }
    }

# Django's own first (new hashes); then imported sites' hashes, each replaced on its next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "importers.hashers.PhpassPasswordHasher",
    "importers.hashers.TypechoMD5PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

USE_I18N = True
USE_TZ = True
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": MEDIA_STORAGE_BACKEND, "OPTIONS": MEDIA_STORAGE_OPTIONS},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Uploaded images in articles get `srcset` from their resized copies.
SPACES_IMAGE_SOURCES = "uploads.sources.image_sources"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024

SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_SSL_REDIRECT = SECURE and env_bool("DJANGO_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000" if SECURE else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts only from our own static files (MathJax included): no inline script, no on* handler,
# no eval. Styles may be inline: MathJax's CHTML output writes a <style> element and style
# attributes, and articles keep the style attributes the sanitiser lets through (their values
# checked by blog.rendering). Images may come from any https site, as imported articles link them.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "https:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Powerful browser features no page of the site uses, off for it and anything it embeds.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "browsing-topics",
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}

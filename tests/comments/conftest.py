import pytest


@pytest.fixture(autouse=True)
def _comment_settings(settings):
    """No rate limits, blocklist or Akismet unless a test asks; the defaults for the rest."""
    settings.SPACES_COMMENT_MIN_INTERVAL = 0
    settings.SPACES_COMMENT_HOURLY_LIMIT = 0
    settings.SPACES_COMMENT_KNOWN_MIN_INTERVAL = 0
    settings.SPACES_COMMENT_KNOWN_HOURLY_LIMIT = 0
    settings.SPACES_COMMENT_BLOCKLIST = []
    settings.SPACES_COMMENT_MAX_LINKS = 2
    settings.SPACES_COMMENT_MAX_DEPTH = 10
    settings.SPACES_COMMENT_THREADS_PER_PAGE = 10
    settings.SPACES_COMMENT_DEFAULT_PAGE = "last"
    settings.SPACES_PROXY_COUNT = 0
    settings.AKISMET_API_KEY = ""


@pytest.fixture
def quick_forms(settings):
    """Comment forms may be sent at once: tests that fill a form need not wait like a person."""
    settings.SPACES_COMMENT_MIN_FORM_AGE = 0

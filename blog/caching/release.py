"""A fingerprint of the code and templates that make pages: cached pages and values are keyed
with it, so that after a deploy no server shows what the code before it made."""

import functools
import hashlib
from pathlib import Path

from django.conf import settings

RELEASE_FILES = {".py", ".html", ".txt", ".xml"}


@functools.cache
def release() -> str:
    """The fingerprint, computed once per process; during a rolling deploy, old and new servers
    keep apart."""
    roots = [settings.BASE_DIR / name for name in ("blog", "comments", "config", "templates")]
    files = [path for root in roots for path in root.rglob("*") if path.suffix in RELEASE_FILES]
    files += [Path(settings.STATIC_ROOT) / "staticfiles.json", *catalogues()]
    # By name and content, so that servers with the same release agree wherever it is installed.
    entries = sorted(
        f"{path.name}:{hashlib.sha256(path.read_bytes()).hexdigest()}"
        for path in files
        if path.is_file()
    )
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()[:12]


def catalogues() -> list[Path]:
    return [path for root in settings.LOCALE_PATHS for path in Path(root).rglob("*.mo")]

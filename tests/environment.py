"""Loaded first by pytest (`-p tests.environment`): a development environment for the suite."""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")

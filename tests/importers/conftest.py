"""Typecho sites for the importer tests, and running the command on them."""

import sqlite3
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.importers import typecho_site as site


def build_sqlite(path, data=None, *, views=True, prefix="typecho_"):
    data = site.sample_site(views=views) if data is None else data
    connection = sqlite3.connect(path)
    cursor = connection.cursor()
    site.create_tables(cursor, "sqlite", prefix=prefix, views=views)
    for table, rows in data.items():
        site.insert(cursor, "sqlite", table, rows, prefix=prefix)
    connection.commit()
    connection.close()
    return str(path)


@pytest.fixture
def typecho_file(tmp_path):
    return build_sqlite(tmp_path / "typecho.db")


def run(source, *args):
    out = StringIO()
    call_command("import_typecho", source, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def run_failing(source, *args):
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import_typecho", source, *args, stdout=out, stderr=StringIO())
    return str(error.value), out.getvalue()

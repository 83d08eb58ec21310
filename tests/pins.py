"""Query-count pins for pages: the same number of queries for 1 row as for 200, whatever the
components (sidebar, navigation, threads) cost; those have pins of their own."""

from collections.abc import Callable

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def page_queries(client: Client, url: str, status: int = 200) -> int:
    """Queries of a page rendered whole, after a first request has cached its components."""
    assert client.get(url).status_code == status
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == status
    return len(captured)


def assert_same_for_1_and_200(
    client: Client, url: Callable[[], str], grow: Callable[[int], object], status: int = 200
) -> None:
    """`grow(n)` adds n rows the page shows; the page costs as much with 1 as with 200."""
    grow(1)
    one = page_queries(client, url(), status)
    grow(199)
    assert page_queries(client, url(), status) == one

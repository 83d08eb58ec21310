"""The moderation queue in a browser: formulas typeset, one row fits a 1280 px screen."""

import pytest
from django.test import Client

from comments.models import Comment
from tests.blog.test_csp import RECORD_VIOLATIONS
from tests.factories import CommentFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def log_in(page, live_server) -> None:
    # A superuser: transactional tests empty the tables, the groups made by migrations with them.
    user = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def test_queue_typesets_math_fits_1280_and_moderates_in_one_click(live_server, page):
    comment = CommentFactory(
        status=Comment.Status.PENDING,
        author_email="a-rather-long-address-for-a-reader@university.example.edu",
        body="由 $$\\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}$$ 可得" + " 很长" * 80,
    )
    log_in(page, live_server)
    page.add_init_script(RECORD_VIOLATIONS)  # the Content-Security-Policy's reports
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/comments/comment/")
    page.wait_for_selector(f"#queue-{comment.pk} mjx-container", timeout=15_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    assert page.evaluate("window.cspViolations") == []
    page.click(f"#queue-{comment.pk} >> xpath=ancestor::tr >> button[value=approved]")
    page.wait_for_selector(".queue-undo")
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.APPROVED
    page.click(".queue-undo")
    page.wait_for_selector("text=已改为“待审核”")
    assert Comment.objects.get(pk=comment.pk).status == Comment.Status.PENDING
    assert page.evaluate("window.cspViolations") == []

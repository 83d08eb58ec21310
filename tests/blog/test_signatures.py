from unittest import mock

import pytest
from django.core import signing
from django.http import HttpResponse
from django.test import RequestFactory

from blog import signatures
from blog.counting import reads as counting
from comments import moderation

NOW = 1_795_000_000.25


@pytest.fixture(autouse=True)
def frozen_clock():
    with mock.patch("time.time", return_value=NOW):
        yield


@pytest.mark.parametrize("value", ["101", "", "7-1795000000.12-34", "引用:a:b"])
def test_signs_exactly_as_djangos_timestamp_signer(value):
    expected = signing.TimestampSigner(salt="some.salt").sign(value)
    assert signatures.timestamp_sign(value, "some.salt") == expected


def test_a_new_secret_key_changes_the_signature(settings):
    before = signatures.timestamp_sign("101", "some.salt")
    settings.SECRET_KEY = "another-secret-" + "k" * 40
    after = signatures.timestamp_sign("101", "some.salt")
    assert after != before
    assert after == signing.TimestampSigner(salt="some.salt").sign("101")


def test_the_comment_token_is_what_django_would_sign_and_verifies():
    token = moderation.make_token(42)
    assert token == signing.TimestampSigner(salt=moderation.TOKEN_SALT).sign("42")
    assert signing.TimestampSigner(salt=moderation.TOKEN_SALT).unsign(token) == "42"


def test_the_read_cookie_is_signed_as_timestamp_signer_would_and_reads_back():
    response = HttpResponse()
    counting.remember_read(response, {7: int(NOW) - 60}, 9)
    value = response.cookies[counting.COOKIE_NAME].value
    assert value == signing.TimestampSigner(salt=counting.COOKIE_SALT).sign(
        f"7-{int(NOW) - 60}.9-{int(NOW)}"
    )
    request = RequestFactory().get("/archives/9", HTTP_COOKIE=f"{counting.COOKIE_NAME}={value}")
    assert counting.recently_read(request) == {7: int(NOW) - 60, 9: int(NOW)}
    forged = value[:-1] + ("A" if value[-1] != "A" else "B")
    request = RequestFactory().get("/archives/9", HTTP_COOKIE=f"{counting.COOKIE_NAME}={forged}")
    assert counting.recently_read(request) == {}

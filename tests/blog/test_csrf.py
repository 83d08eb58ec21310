from collections import Counter

import pytest
from django.http import HttpResponse
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CsrfViewMiddleware,
    _unmask_cipher_token,
)
from django.test import RequestFactory

from blog.csrf import csrf_input, csrf_token, random_chars


def test_random_chars_are_from_the_alphabet_and_unbiased():
    drawn = random_chars(62 * 20_000)
    assert len(drawn) == 62 * 20_000
    counts = Counter(drawn)
    assert set(counts) == set(CSRF_ALLOWED_CHARS)
    # A plain `byte % 62` would draw the first 8 characters 25 % more often than the rest.
    assert max(counts.values()) / min(counts.values()) < 1.1


def test_a_new_reader_gets_a_secret_and_a_token_that_unmasks_to_it():
    request = RequestFactory().get("/")
    token = csrf_token(request)
    secret = request.META["CSRF_COOKIE"]
    assert len(secret) == CSRF_SECRET_LENGTH
    assert len(token) == 2 * CSRF_SECRET_LENGTH
    assert set(token) <= set(CSRF_ALLOWED_CHARS)
    assert _unmask_cipher_token(token) == secret
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert csrf_token(request) != token  # masked afresh each time
    assert _unmask_cipher_token(csrf_token(request)) == secret


def test_a_reader_with_a_cookie_keeps_their_secret():
    request = RequestFactory().get("/")
    request.META["CSRF_COOKIE"] = secret = random_chars(CSRF_SECRET_LENGTH)
    assert _unmask_cipher_token(csrf_token(request)) == secret


@pytest.mark.django_db  # the refusal is the site's own 403 page
@pytest.mark.parametrize("tamper", [False, True])
def test_the_middleware_accepts_the_token_and_refuses_a_changed_one(tamper):
    factory = RequestFactory()
    page = factory.get("/")
    middleware = CsrfViewMiddleware(lambda request: HttpResponse())
    middleware.process_request(page)
    token = csrf_token(page)
    cookie = middleware(page).cookies["csrftoken"].value
    if tamper:
        token = token[:-1] + ("a" if token[-1] != "a" else "b")
    post = factory.post("/", {"csrfmiddlewaretoken": token})
    post.COOKIES["csrftoken"] = cookie
    middleware.process_request(post)
    refused = middleware.process_view(post, lambda request: HttpResponse(), (), {})
    assert (refused.status_code if refused else None) == (403 if tamper else None)


def test_csrf_input_is_the_form_field():
    html = csrf_input(RequestFactory().get("/"))
    assert html.startswith('<input type="hidden" name="csrfmiddlewaretoken" value="')

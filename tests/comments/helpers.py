import time
from unittest import mock

from comments.moderation import make_token


def aged_token(post, seconds: float = 10) -> str:
    """A form token as if the form had been shown `seconds` ago."""
    with mock.patch("django.core.signing.time.time", return_value=time.time() - seconds):
        return make_token(post.pk)


def form_data(post, **overrides) -> dict:
    """A valid comment form submission for `post`; an override of None drops the field."""
    data = {
        "author_name": "张三",
        "author_email": "zhang@example.com",
        "author_url": "",
        "body": "请问公式 $(14)$ 是怎么来的？",
        "token": aged_token(post),
        "subject": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}

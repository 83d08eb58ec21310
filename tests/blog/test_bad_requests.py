import pytest
from django.test import Client

from blog.models import Post
from tests.factories import AuthorFactory, CategoryFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db

PART = b'--x\r\nContent-Disposition: form-data; name="body"\r\n\r\n1\r\n--x--\r\n'
HUGE_HEADER = PART.replace(b"\r\n\r\n", b"\r\nX-Padding: " + b"y" * 9000 + b"\r\n\r\n")


@pytest.fixture
def anonymous(settings) -> Client:
    """A reader's client that gets the 500 page instead of the exception, as in production."""
    settings.DEBUG = False
    return Client(raise_request_exception=False)


@pytest.mark.parametrize(
    "url",
    [
        "/category/%00",
        "/category/%00/feed",
        "/tag/a%00b/",
        "/tag/a%00b/2/",
        "/tag/a%00b/feed",
        "/author/%00/",
        "/author/%00/feed",
        "/content.html?tag=%00",
        "/search/%00/",
    ],
)
def test_a_nul_byte_in_a_url_is_a_404(anonymous, url):
    """PostgreSQL refuses strings with NUL bytes (a 500 before); SQLite found nothing (a 404)."""
    PostFactory(
        categories=[CategoryFactory(slug="a")],
        tags=[TagFactory(name="a")],
        authors=[AuthorFactory(slug="a")],
    )
    assert anonymous.get(url).status_code == 404


def test_a_nul_byte_in_a_search_is_dropped(anonymous):
    PostFactory(title="Softmax")
    assert "Softmax" in anonymous.get("/search/?q=soft%00max", follow=True).content.decode()


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",  # no boundary
        "multipart/form-data; boundary=",
        "multipart/form-data; boundary=\xe9",
        "multipart/form-data; boundary=" + "x" * 300,
    ],
)
def test_a_multipart_post_without_a_usable_boundary_is_a_400_at_any_url(anonymous, content_type):
    draft = PostFactory(status=Post.Status.DRAFT)
    for url in ("/no-such-page", f"/archives/{draft.pk}/comment", "/archives/%00/hit", "/"):
        response = anonymous.generic("POST", url, PART, content_type=content_type)
        assert response.status_code == 400, url


def test_a_malformed_multipart_body_is_a_400_where_it_is_read(anonymous):
    post = PostFactory()
    for url in (f"/archives/{post.pk}/comment", "/preview/"):
        response = anonymous.generic(
            "POST", url, HUGE_HEADER, content_type="multipart/form-data; boundary=x"
        )
        assert response.status_code == 400, url


def test_a_well_formed_form_body_still_reaches_its_view(anonymous):
    draft = PostFactory(status=Post.Status.DRAFT)
    response = anonymous.generic(
        "POST",
        f"/archives/{draft.pk}/comment",
        PART,
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 404

from urllib.parse import unquote

import pytest
from django.db import IntegrityError

from importers.models import Redirect
from importers.redirects import add_redirect
from tests.importers.conftest import run

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/index.php/archives/1/", "/archives/1"),
        ("/index.php/archives/12", "/archives/12"),
        ("/index.php/category/math/", "/category/math"),
        ("/index.php/category/群论/", "/category/群论"),
        ("/index.php/tag/cnn-rnn/", "/tag/CNN/RNN/"),
        ("/tag/cnn-rnn/", "/tag/CNN/RNN/"),
        ("/index.php/tag/机器学习/", "/tag/机器学习/"),
        ("/index.php/feed/", "/feed"),
        ("/author/1/", "/author/admin/"),
        ("/index.php/author/3/", "/author/writer/"),
    ],
)
def test_typecho_old_addresses_move_permanently(client, typecho_file, old, new):
    run(typecho_file)
    response = client.get(old)
    assert response.status_code == 301
    assert unquote(response["Location"]) == new


def test_typecho_old_page_address_moves_to_the_page(client, typecho_file):
    from blog.models import Post

    run(typecho_file)
    response = client.get("/index.php/about.html")
    assert response.status_code == 301
    assert unquote(response["Location"]) == Post.objects.get(pk=9).get_absolute_url()


def test_redirect_answers_a_query_address_on_the_home_page(client):
    add_redirect("/?p=12", "/archives/12")
    response = client.get("/?p=12")
    assert response.status_code == 301
    assert response["Location"] == "/archives/12"
    assert client.get("/?p=13").status_code == 200


def test_redirect_only_after_nothing_else_answers(client, typecho_file):
    run(typecho_file)
    add_redirect("/feed", "/archives/1")  # the site's own feed wins over a stale record
    assert client.get("/feed").status_code == 200


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "evil", "/x\n/y"]
)
def test_redirect_never_points_off_the_site(target):
    with pytest.raises(ValueError, match="stay on this site"):
        add_redirect("/old/", target)
    assert not Redirect.objects.exists()


def test_redirect_table_refuses_an_off_site_target():
    with pytest.raises(IntegrityError):
        Redirect.objects.create(old_path="/old/", new_path="//evil.example/")


def test_open_redirect_attempts_stay_on_the_site(client, typecho_file):
    run(typecho_file)
    for path in ["//evil.example/", "/index.php/archives/1/?next=//evil.example/"]:
        response = client.get(path)
        assert not response.get("Location", "").startswith(("//", "http"))

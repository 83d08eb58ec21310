import pytest


def test_healthz_answers_ok_without_touching_the_database(client):
    # No django_db mark: any query would raise, so this also proves there is none.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_head(client):
    assert client.head("/healthz").status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_healthz_rejects_unsafe_methods(client, method):
    assert getattr(client, method)("/healthz").status_code == 405

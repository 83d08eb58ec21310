"""Uploaded images in articles: figures with their caption, and srcset from the resized copies."""

import pytest

from blog.rendering import render_markdown
from tests.factories import PostFactory
from tests.uploads.conftest import image_file
from uploads.services import create_upload

pytestmark = pytest.mark.django_db


def test_figure_caption_comes_from_the_title_or_the_alt_text():
    titled = render_markdown('![a cat](/static/cat.png "猫在睡觉")').html
    assert "<figcaption>猫在睡觉</figcaption>" in titled
    assert 'title="' not in titled
    assert "<figcaption>a cat</figcaption>" in render_markdown("![a cat](/static/cat.png)").html


def test_uploaded_image_gets_srcset_and_size(django_assert_num_queries):
    file = image_file("wide.jpg", 4000, 2000)
    upload = create_upload(
        file, name=file.name, size=file.size, alt_text="宽图", caption="一张宽图"
    )
    with django_assert_num_queries(1):
        post = PostFactory.build(
            body=f"前文\n\n{upload.markdown}\n\n![外链](https://example.org/x.png)"
        )
        post.render()
    html = post.body_html
    stem = upload.file.url.rsplit(".", 1)[0]
    assert f'<a href="{upload.file.url}">' in html
    assert f'src="{stem}.1600w.jpg"' in html
    assert f'srcset="{stem}.800w.jpg 800w, {stem}.1600w.jpg 1600w"' in html
    assert 'height="800"' in html
    assert 'width="1600"' in html
    assert "<figcaption>一张宽图</figcaption>" in html
    assert 'src="https://example.org/x.png"' in html
    assert html.count("srcset") == 1


def test_small_uploaded_image_keeps_its_own_file():
    file = image_file("small.png", 600, 300)
    upload = create_upload(file, name=file.name, size=file.size, alt_text="小图")
    html = PostFactory(body=upload.markdown).body_html
    assert f'src="{upload.file.url}"' in html
    assert "srcset" not in html
    assert 'height="300"' in html
    assert 'width="600"' in html


def test_rendering_without_uploads_makes_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        PostFactory.build(body="![图](/static/img/demo-gradient-flow.svg)\n\n正文").render()

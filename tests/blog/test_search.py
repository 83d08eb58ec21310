import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from blog import ranking, search
from blog.caching.local import LocalCopies
from blog.caching.version import content_changed
from blog.counting.batches import write_views
from blog.models import Post
from tests.factories import AuthorFactory, PostFactory

pytestmark = pytest.mark.django_db


def days_ago(days: int):
    return timezone.now() - timezone.timedelta(days=days)


def found(client, query: str) -> list[str]:
    response = client.get(reverse("blog:search_results", kwargs={"keywords": query}))
    assert response.status_code == 200
    return [post.title for post in response.context_data["posts"]]


def test_parse_terms_cuts_chinese_runs_into_trigrams_and_keeps_words():
    assert search.parse_terms("什么是流模型 GAN") == ["什么是", "么是流", "是流模", "流模型", "gan"]


def test_parse_terms_drops_stop_words_and_single_letters_unless_nothing_else():
    assert search.parse_terms("the softmax of a x") == ["softmax"]
    assert search.parse_terms("the") == ["the"]


def test_parse_terms_unifies_full_width_letters_and_caps_their_number():
    assert search.parse_terms("ＳＯＦＴＭＡＸ") == ["softmax"]
    assert len(search.parse_terms("字" * 200)) == 1
    assert len(search.parse_terms(" ".join(f"w{n}" for n in range(50)))) == search.MAX_TERMS


def test_search_finds_an_english_word_in_the_body(client):
    PostFactory(title="Temperature", body="The softmax function, again.")
    PostFactory(title="Other", body="Nothing to see.")
    assert found(client, "softmax") == ["Temperature"]


def test_search_is_case_insensitive(client):
    PostFactory(title="Notes", body="About SoftMax.")
    assert found(client, "SOFTMAX") == ["Notes"]


def test_search_finds_a_chinese_substring(client):
    PostFactory(title="细水长流", body="这篇文章介绍流模型的基本概念与实现。")
    PostFactory(title="无关", body="今天天气不错。")
    assert found(client, "流模型") == ["细水长流"]


def test_search_finds_a_two_character_chinese_word(client):
    PostFactory(title="梯度", body="关于梯度下降。")
    PostFactory(title="无关", body="今天天气不错。")
    assert found(client, "下降") == ["梯度"]


def test_search_answers_a_whole_chinese_sentence(client):
    PostFactory(
        title="细水长流之NICE：流模型的基本概念与实现", body="正文。", published_at=days_ago(3)
    )
    PostFactory(title="随笔", body="顺便提到了流模型。", published_at=days_ago(2))
    PostFactory(title="无关", body="今天天气不错。", published_at=days_ago(1))
    assert found(client, "请问什么是流模型") == ["细水长流之NICE：流模型的基本概念与实现", "随笔"]


def test_search_ranks_a_title_match_above_a_body_match(client):
    PostFactory(title="In the body", body="softmax here", published_at=days_ago(1))
    PostFactory(title="Softmax in the title", body="nothing", published_at=days_ago(2))
    PostFactory(title="Softmax in both", body="softmax", published_at=days_ago(3))
    assert found(client, "softmax") == ["Softmax in both", "Softmax in the title", "In the body"]


@pytest.mark.parametrize(("title_post_age", "expected_first"), [(1, "Title"), (3, "Body")])
def test_search_weighs_a_title_match_exactly_double_a_body_match(
    client, title_post_age, expected_first
):
    # One term in the title (2) ties with two terms in the body (1 + 1): the newer wins.
    PostFactory(title="Title softmax", body="nothing", published_at=days_ago(title_post_age))
    PostFactory(title="Body", body="softmax and temperature", published_at=days_ago(2))
    assert found(client, "softmax temperature")[0].startswith(expected_first)


def test_search_never_finds_drafts_or_scheduled_posts(client):
    PostFactory(title="草稿 softmax", status=Post.Status.DRAFT)
    PostFactory(title="定时 softmax", published_at=timezone.now() + timezone.timedelta(hours=1))
    PostFactory(title="公开 softmax")
    assert found(client, "softmax") == ["公开 softmax"]


def test_search_drafts_stay_hidden_from_their_logged_in_author(client):
    author = AuthorFactory()
    PostFactory(title="草稿 softmax", status=Post.Status.DRAFT, authors=[author])
    client.force_login(author.user)
    assert found(client, "softmax") == []


def test_search_follows_edits_and_deletions(client):
    post = PostFactory(title="Old title", body="body")
    post.title = "New softmax title"
    post.save()
    assert found(client, "softmax") == ["New softmax title"]
    assert found(client, "old") == []
    post.delete()
    assert found(client, "softmax") == []


def test_search_ignores_view_count_updates(client):
    post = PostFactory(title="Softmax")
    write_views({(post.pk, timezone.localdate()): 5})
    assert found(client, "softmax") == ["Softmax"]


def test_search_snippet_highlights_terms_and_escapes_the_text(client):
    PostFactory(
        title="A <b>bold</b> title about softmax", body="`<script>alert(1)</script>` softmax"
    )
    html = client.get(reverse("blog:search_results", kwargs={"keywords": "softmax"})).content
    html = html.decode()
    assert "<mark>softmax</mark>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "A &lt;b&gt;bold&lt;/b&gt; title about <mark>softmax</mark>" in html


def test_search_highlight_merges_adjacent_terms_and_escapes_inside_marks():
    html = search.highlight("Softmax<T>max", ["soft", "max", "<t>"])
    assert html == "<mark>Softmax&lt;T&gt;max</mark>"
    assert (
        search.highlight("a softmax b max", ["max"]) == "a soft<mark>max</mark> b <mark>max</mark>"
    )
    assert search.highlight("a & b", []) == "a &amp; b"


def test_search_snippet_merges_overlapping_chinese_trigrams():
    html = search.snippet("介绍流模型的基本概念", search.parse_terms("流模型的"))
    assert html == "介绍<mark>流模型的</mark>基本概念"


def test_search_snippet_shows_the_text_around_a_late_match():
    text = "前言。" * 200 + "这里讲流模型。" + "后记。" * 200
    html = search.snippet(text, ["流模型"])
    assert html.startswith("…")
    assert html.endswith("…")
    assert "<mark>流模型</mark>" in html
    assert len(html) < search.SNIPPET_LENGTH + 40


def test_search_title_and_page_header(client):
    PostFactory(title="Softmax")
    response = client.get(reverse("blog:search_results", kwargs={"keywords": "softmax"}))
    html = response.content.decode()
    assert "<title>包含关键字 softmax 的文章 | " in html
    assert "共找到 1 篇文章" in html
    assert '<meta name="robots" content="noindex, follow">' in html


def test_search_form_redirects_to_the_keywords_url(client):
    response = client.get(reverse("blog:search"), {"q": "  流模型 "})
    assert response.status_code == 302
    assert response["Location"] == "/search/%E6%B5%81%E6%A8%A1%E5%9E%8B/"


def test_search_form_turns_slashes_into_spaces(client):
    response = client.get(reverse("blog:search"), {"q": "CNN/RNN"})
    assert response["Location"] == "/search/CNN%20RNN/"


def test_search_raw_unicode_and_percent_encoded_urls_agree(client):
    PostFactory(title="流模型")
    raw = client.get("/search/流模型/")
    assert [p.title for p in raw.context_data["posts"]] == ["流模型"]
    encoded = client.get("/search/%E6%B5%81%E6%A8%A1%E5%9E%8B/")  # the same page, from the cache
    assert encoded.content == raw.content


def test_search_without_query_shows_the_form(client):
    PostFactory(title="Softmax")
    response = client.get(reverse("blog:search"))
    assert response.status_code == 200
    assert "请输入要搜索的关键词" in response.content.decode()
    assert list(response.context_data["posts"]) == []


def test_search_paginates_and_404s_past_the_last_page(client):
    PostFactory.create_batch(9, title="softmax", authors=[AuthorFactory()])
    first = client.get("/search/softmax/")
    assert len(first.context_data["posts"]) == 8
    assert 'href="/search/softmax/2/"' in first.content.decode()
    assert len(client.get("/search/softmax/2/").context_data["posts"]) == 1
    assert client.get("/search/softmax/3/").status_code == 404


def test_search_with_no_result_is_a_page_not_a_404(client):
    PostFactory(title="Softmax")
    response = client.get("/search/nothing-like-it/")
    assert response.status_code == 200
    assert "没有找到相关文章" in response.content.decode()


BAD_QUERIES = [
    "x" * 10_000,
    "!!! ??? ...",
    "'\"%_\\",
    "%",
    "_",
    'AND OR NOT NEAR * ^ " :',
    'NEAR("a" "b") title:foo -bar "unclosed',
    "'; DROP TABLE blog_post; --",
    "1' OR '1'='1",
    "\x00\x01 softmax \x7f",
    "<script>alert(1)</script>",
    "()",
    "*",
    "🙂" * 50,
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_search_survives_hostile_queries_through_the_form(client, query):
    PostFactory(title="Softmax", body="text with 100% and a_b")
    response = client.get(reverse("blog:search"), {"q": query}, follow=True)
    assert response.status_code == 200
    assert Post.objects.count() == 1


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_search_survives_hostile_queries_in_the_path(client, query):
    PostFactory(title="Softmax", body="text with 100% and a_b")
    query = query.replace("/", " ").replace("\x00", "")
    response = client.get(reverse("blog:search_results", kwargs={"keywords": query}))
    assert response.status_code == 200


@pytest.mark.parametrize("url", ["/search/%ED%A0%80/", "/search/?q=%ED%A0%80", "/search/%FF%FE/"])
def test_search_survives_invalid_utf8(client, url):
    PostFactory(title="Softmax")
    assert client.get(url, follow=True).status_code == 200


@pytest.mark.parametrize("query", ["%", "_", "'\"%_\\", "*", "!!!"])
def test_search_wildcards_and_punctuation_match_nothing(client, query):
    PostFactory(title="Softmax", body="text with 100% and a_b")
    assert found(client, query) == []


def test_search_percent_in_a_word_is_a_literal(client):
    PostFactory(title="Odds", body="about 100% sure")
    PostFactory(title="Other", body="about 1000 things")
    # The term is "100": "%" separates words and never acts as a wildcard.
    assert sorted(found(client, "100%")) == ["Odds", "Other"]


def test_search_fts_operators_are_plain_words(client):
    PostFactory(title="Near field", body="NEAR and NOT are words here")
    PostFactory(title="Other", body="nothing")
    assert found(client, "NEAR") == ["Near field"]


def test_search_works_without_the_fts5_table(client, monkeypatch):
    PostFactory(title="细水长流", body="流模型 and softmax", published_at=days_ago(2))
    PostFactory(title="softmax", body="other", published_at=days_ago(1))
    with_index = found(client, "流模型 softmax")
    content_changed()  # forget the cached ranking and page
    monkeypatch.setattr(search, "sqlite_trigram_available", lambda: False)
    assert found(client, "流模型 softmax") == with_index == ["softmax", "细水长流"]


@pytest.mark.parametrize("count", [1, 200])
def test_search_query_count_is_constant(client, django_assert_num_queries, count):
    PostFactory.create_batch(count, title="softmax 流模型", authors=[AuthorFactory()])
    ranking._word_tsqueries.clear()
    # the published ids newest first, the matches of every term in one query (PostgreSQL: and
    # of every lexeme, after one query that turns the words into lexemes), the page's posts,
    # navigation categories; sidebar: published ids for random posts, their titles, recent
    # comments, popular tags (the content version: the one this test's writes started)
    postgresql = connection.vendor == "postgresql"
    with django_assert_num_queries(8 + postgresql):
        response = client.get("/search/softmax 流模型/")
    assert response.status_code == 200
    assert len(response.context_data["posts"]) == min(count, 8)
    # the page is cached
    with django_assert_num_queries(0):
        assert client.get("/search/softmax 流模型/").status_code == 200
    # A new query of known words looks none of them up: only the page's posts are queried.
    with django_assert_num_queries(1):
        response = client.get("/search/流模型 softmax/")
    assert len(response.context_data["posts"]) == min(count, 8)


def test_search_page_rechecks_that_the_posts_it_shows_are_published(client):
    post = PostFactory(title="softmax")
    assert found(client, "softmax") == ["softmax"]
    # No signal, so the ranking of the content version still lists the post.
    Post.objects.filter(pk=post.pk).update(status=Post.Status.DRAFT)
    assert ranking.rank("softmax temperature")[:] == [post.pk]
    assert found(client, "softmax temperature") == []


def test_search_rank_orders_like_the_single_query(client):
    PostFactory(title="Softmax and temperature", body="流模型", published_at=days_ago(1))
    PostFactory(title="细水长流", body="介绍流模型。softmax", published_at=days_ago(2))
    PostFactory(title="Flows", body="The flow of ideas; temperature.", published_at=days_ago(3))
    PostFactory(title="梯度", body="关于梯度下降。", published_at=days_ago(4))
    PostFactory(title="草稿 softmax", status=Post.Status.DRAFT)
    for number in range(12):
        PostFactory(title=f"Note {number}", body="softmax" if number % 2 else "flowing temperature")
    queries = ["softmax", "softmax temperature", "流模型 softmax", "flowing", "下降", "the", "x"]
    for query in queries:
        expected = list(Post.objects.published().search(query).values_list("id", flat=True))
        ranked = ranking.rank(query)
        assert len(ranked) == len(expected)
        assert ranked[:] == expected
        assert ranked[3:9] == expected[3:9]


class SpyCache:
    """The shared cache, noting the keys read."""

    def __init__(self, real) -> None:
        self.real, self.read = real, []

    def get_many(self, keys: list[str]) -> dict:
        self.read += keys
        return self.real.get_many(keys)

    def set_many(self, values: dict, timeout: int) -> list:
        return self.real.set_many(values, timeout)


def test_search_rank_reads_known_pieces_from_the_process_copies(monkeypatch):
    PostFactory(title="softmax 流模型", published_at=days_ago(2))
    PostFactory(title="softmax", published_at=days_ago(1))
    spy = SpyCache(ranking.cache)
    monkeypatch.setattr(ranking, "cache", spy)
    first = ranking.rank("softmax 流模型")[:]
    assert spy.read
    read = len(spy.read)
    assert ranking.rank("流模型 softmax")[:] == first
    assert len(spy.read) == read  # only the content version, which blog.caching.version reads
    PostFactory(title="流模型 softmax", published_at=days_ago(3))  # a new content version
    assert len(ranking.rank("流模型 softmax")) == 3
    assert len(spy.read) > read


def test_local_pieces_keep_the_most_recently_used_within_their_budget():
    bitmaps = (1 << 1023,)  # 128 bytes
    local = LocalCopies(3 * 128, ranking._size)
    assert local.get_many("v1", ["a", "b", "c"]) == {}
    local.keep("v1", {"a": bitmaps, "b": bitmaps, "c": bitmaps})
    assert local.get_many("v1", ["a"]) == {"a": bitmaps}
    local.keep("v1", {"d": bitmaps})
    assert sorted(local.get_many("v1", ["a", "b", "c", "d"])) == ["a", "c", "d"]
    local.keep("v1", {"e": (1 << 4096,)})  # larger than the budget
    assert sorted(local.get_many("v1", ["a", "c", "d", "e"])) == ["a", "c", "d"]
    assert local.get_many("v2", ["a"]) == {}
    local.keep("v1", {"a": bitmaps})  # from a request of the old version
    assert local.get_many("v2", ["a"]) == {}


# --- Database specifics --------------------------------------------------------------------------


def test_sqlite_index_triggers_come_back_after_a_table_rebuild(sqlite):
    assert search.sqlite_trigram_available()  # SQLite ≥ 3.34 with FTS5, as CI's
    with connection.cursor() as cursor:
        for name in search._SQLITE_TRIGGERS:
            cursor.execute(f"DROP TRIGGER {name}")
    PostFactory(title="Written while the triggers were gone")
    search.restore_sqlite_index(using="default")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH %s",
            ['"triggers"'],
        )
        assert cursor.fetchone()[0] == 1
        cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")
        assert cursor.fetchone()[0] >= len(search._SQLITE_TRIGGERS)


def test_postgresql_finds_stemmed_english_words_after_substring_matches(postgres, client):
    PostFactory(title="Flows", body="The flow of ideas.", published_at=days_ago(2))
    PostFactory(title="Flowing", body="Nothing else.", published_at=days_ago(1))
    # "flowing" occurs only in the second; full-text search adds the first (stem "flow") after it.
    assert found(client, "flowing") == ["Flowing", "Flows"]


@pytest.mark.parametrize(
    "query",
    ["gradient", "Flows of the matrices", "the of", "流模型 softmax 100", "naïve x1y2 x1y2"],
)
def test_postgresql_lexemes_of_known_words_need_no_query(
    postgres, django_assert_num_queries, query
):
    ranking._word_tsqueries.clear()
    with django_assert_num_queries(1):
        lexemes = ranking._lexemes(connection, query)
    # the same as PostgreSQL's own reading of the whole query
    assert " & ".join(lexemes) == ranking._tsquery(connection, query)
    with django_assert_num_queries(0):
        assert ranking._lexemes(connection, " ".join(reversed(query.split()))) == lexemes[::-1]


@pytest.mark.parametrize("query", ["gradient or matrix", '"gradient flow"', "-gradient flow"])
def test_postgresql_queries_with_operators_are_read_whole(
    postgres, django_assert_num_queries, query
):
    ranking._word_tsqueries.clear()
    with django_assert_num_queries(1):
        lexemes = ranking._lexemes(connection, query)
    assert lexemes == [ranking._tsquery(connection, query)]


def test_postgresql_headline_marks_stemmed_matches(postgres, client):
    PostFactory(title="Notes", body="Rivers flow to the sea.")
    response = client.get("/search/flowing/")
    assert "<mark>flow</mark>" in response.content.decode()


def test_postgresql_substring_tests_can_use_the_trigram_indexes(postgres):
    PostFactory(title="流模型")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = Post.objects.filter(search_text__icontains="流模型").explain()
    assert "blog_post_search_text_trgm_idx" in plan
    plan = Post.objects.filter(title__icontains="流模型").explain()
    assert "blog_post_title_trgm_idx" in plan


def test_postgresql_full_text_uses_the_gin_index(postgres):
    PostFactory(title="Flows")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = str(Post.objects.search("flows").explain())
    assert "blog_post_search_vector_idx" in plan


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_search_box_lands_on_highlighted_results(live_server, page):
    PostFactory(title="细水长流之NICE", body="介绍流模型的基本概念。")
    page.goto(live_server.url + "/")
    page.locator(".search-widget input[name=q]").fill("流模型")
    page.locator(".search-widget button").click()
    page.wait_for_url("**/search/**")
    assert page.url.endswith("/search/%E6%B5%81%E6%A8%A1%E5%9E%8B/")
    assert page.locator(".search-snippet mark").first.inner_text() == "流模型"

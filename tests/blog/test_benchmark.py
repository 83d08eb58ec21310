import pytest

from blog.models import Post
from tests import benchmark

WRK_REPORT = """Running 3s test @ http://127.0.0.1:8123/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.12ms    1.01ms  19.20ms   88.00%
    Req/Sec     0.98k    80.00     1.10k    70.00%
  Latency Distribution
     50%    3.90ms
     75%    4.40ms
     90%    5.10ms
     99%    1.25s
  5873 requests in 3.00s, 1.20MB read
  Socket errors: connect 1, read 5873, write 2, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:   1957.61
Transfer/sec:    409.44KB
"""


def test_parse_wrk_reads_rate_latency_and_failures():
    load = benchmark.parse_wrk(WRK_REPORT)
    assert load.rps == pytest.approx(1957.61)
    assert load.p99_ms == pytest.approx(1250)
    assert load.requests == 5873
    assert load.kilobytes == pytest.approx(1.2 * 1024 / 5873)
    # Read errors are gunicorn closing each connection, not failed requests.
    assert load.failures == 4 + 1 + 2 + 3


def test_parse_wrk_without_errors_counts_no_failures():
    report = WRK_REPORT.replace("  Non-2xx or 3xx responses: 4\n", "")
    report = report.replace("  Socket errors: connect 1, read 5873, write 2, timeout 3\n", "")
    assert benchmark.parse_wrk(report).failures == 0


def test_combine_weighs_per_request_figures_by_requests():
    fast = benchmark.Load(rps=300, p99_ms=10, requests=600, failures=0, kilobytes=2, cpu_ms=1)
    slow = benchmark.Load(rps=100, p99_ms=50, requests=200, failures=3, kilobytes=6, cpu_ms=5)
    load = benchmark.combine([fast, slow])
    assert (load.rps, load.p99_ms, load.requests, load.failures) == (200, 50, 800, 3)
    assert (load.kilobytes, load.cpu_ms) == (3, 2)


def test_cpu_used_counts_new_processes_and_ignores_gone_ones():
    before = {1: 10.0, 2: 5.0, 3: 7.0}
    after = {1: 12.0, 2: 5.5, 4: 0.25}  # 3 exited, 4 started
    assert benchmark.cpu_used(before, after) == 2.75


def test_parse_args_takes_scenarios_by_number_or_name():
    options = benchmark.parse_args(["--scenarios", "1,archive", "--quick"])
    assert options.scenarios == ["pages", "archive"]
    assert (options.warmup, options.rounds, options.round_seconds) == (1, 3, 1)


def test_parse_args_rejects_unknown_scenario():
    with pytest.raises(SystemExit):
        benchmark.parse_args(["--scenarios", "99"])


def test_parse_args_takes_postgresql_with_redis_and_refuses_other_databases():
    options = benchmark.parse_args(["--databases", "sqlite,postgres+redis"])
    assert options.databases == ["sqlite", "postgres+redis"]
    with pytest.raises(SystemExit):
        benchmark.parse_args(["--databases", "mysql"])


def test_postgresql_with_redis_gives_its_servers_redis_as_the_cache():
    plain = benchmark.PostgresDatabase("postgres://postgres@127.0.0.1:5432/spaces_bench")
    cached = benchmark.PostgresDatabase(plain.url, benchmark.REDIS_DEFAULT)
    assert "REDIS_URL" not in plain.env()
    assert cached.env()["REDIS_URL"] == benchmark.REDIS_DEFAULT
    assert cached.env()["DATABASE_URL"] == plain.env()["DATABASE_URL"]
    assert (plain.label, cached.label) == ("PostgreSQL", "PostgreSQL + Redis")


@pytest.mark.django_db
def test_seed_builds_a_published_site_that_renders(client):
    site = benchmark.seed(posts=12)
    assert Post.objects.published().count() == 12
    article = Post.objects.get(pk=site["article"])
    assert article.has_math
    assert article.body_html.count('class="arithmatex"') >= 30
    assert all(post.tags.count() == 3 for post in Post.objects.all())
    assert client.get("/").status_code == 200
    assert "arithmatex" in client.get(article.get_absolute_url()).content.decode()
    assert client.get(f"/tag/{site['tag']}/").status_code == 200


@pytest.mark.django_db
def test_seed_comments_builds_valid_trees_and_counts(client):
    from comments.management.commands.check_comment_trees import tree_errors
    from comments.models import Comment

    site = benchmark.seed(posts=12, comments=[10, 25])
    few, many = (Post.objects.get(pk=pk) for pk in site["commented"])
    assert (few.comment_count, many.comment_count) == (10, 25)
    assert Comment.objects.filter(post=many, status=Comment.Status.APPROVED).count() == 25
    assert Comment.objects.filter(post=many, level=2).exists()
    assert list(tree_errors()) == []
    assert client.get(many.get_absolute_url()).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("query", [query for _, query in benchmark.SEARCHES])
def test_seed_is_found_by_the_searches_the_benchmark_measures(client, query):
    benchmark.seed(posts=16)
    response = client.get(f"/search/{query}/")
    assert response.status_code == 200
    assert "/archives/" in response.content.decode()


def test_site_day_mix_has_its_shares_of_crawlers_commenters_and_popular_pages():
    ids = list(range(1, 2001))
    mix, popular = benchmark.site_day_mix(ids, "spaces_commenter=x")
    kinds = [kind for _path, kind in mix.requests]
    assert len(mix) == benchmark.SITE_DAY_REQUESTS
    assert kinds.count("crawler") / len(mix) == pytest.approx(0.30, abs=0.02)
    assert kinds.count("commenter") / len(mix) == pytest.approx(0.10, abs=0.02)
    readers = [path for path, kind in mix.requests if kind != "crawler"]
    # Zipf: the home page (rank 1) is read about twice as often as the most popular post.
    top = readers.count(f"/archives/{popular[0]}")
    assert readers.count("/") == pytest.approx(2 * top, rel=0.25)
    crawled = {path for path, kind in mix.requests if kind == "crawler"}
    assert len(crawled) > 1500  # uniform over the 2,000 posts
    assert mix.headers["commenter"] == {"Cookie": "spaces_commenter=x"}
    assert "Googlebot" in mix.headers["crawler"]["User-Agent"]


def test_mix_script_lists_every_request_with_its_kind():
    mix = benchmark.Mix(
        (("/", "reader"), ("/archives/7", "crawler")), {"reader": {}, "crawler": {}}
    )
    script = benchmark.mix_script(mix)
    assert '{"/", "reader"}, {"/archives/7", "crawler"}' in script
    # The tally line's "\n" stays an escape in the Lua string, not a line break.
    assert 'string.format("PAGE-CACHE hit=%d miss=%d other=%d\\n", hit, miss, other)' in script


@pytest.mark.django_db
def test_commenter_cookie_is_accepted_by_the_site(client):
    site = benchmark.seed(posts=4)
    client.cookies.load(benchmark.commenter_cookie())  # as a browser's Cookie header
    html = client.get(f"/archives/{site['article']}").content.decode()
    assert 'value="常客"' in html  # the form is filled in from the cookie


@pytest.mark.django_db(transaction=True)
def test_writer_approves_comments_and_edits_posts():
    from comments.models import Comment

    site = benchmark.seed(posts=4, ids=True)
    written = benchmark.write_continuously(site["ids"], 0, 0, limit=3)
    assert written == {"comments": 3, "edits": 3} == benchmark.writes_so_far()
    assert Comment.objects.approved().count() == 3
    assert sum(Post.objects.values_list("comment_count", flat=True)) == 3

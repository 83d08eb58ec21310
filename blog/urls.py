from django.contrib.sitemaps.views import sitemap
from django.urls import path, register_converter
from django.views.generic import RedirectView

from blog import feeds
from blog.caching.pages import LISTING_PAGES, cached_page, post_pages
from blog.converters import PageNumberConverter, PostIdConverter, TwoDigitConverter, YearConverter
from blog.counting.reads import counts_views
from blog.sitemaps import SITEMAPS
from blog.views import archives, citations, crawlers, health, posts, search

register_converter(PostIdConverter, "postid")
register_converter(PageNumberConverter, "pagenum")
register_converter(YearConverter, "year")
register_converter(TwoDigitConverter, "twodigits")

app_name = "blog"

urlpatterns = [
    path("", cached_page(posts.PostListView.as_view(), LISTING_PAGES), name="post_list"),
    path(
        "page/<pagenum:page>/",
        cached_page(posts.PostListView.as_view(), LISTING_PAGES),
        name="post_list_page",
    ),
    # Counting wraps the page cache from outside, so every read is counted.
    path(
        "archives/<postid:pk>",
        counts_views(
            cached_page(posts.PostDetailView.as_view(), post_pages, shows_the_visitor=True)
        ),
        name="post_detail",
    ),
    path("archives/<postid:pk>/cite.<str:fmt>", citations.cite, name="post_cite"),
    path("archives/<postid:pk>/hit", citations.hit, name="post_hit"),
    path(
        "archives/<postid:pk>/",
        RedirectView.as_view(pattern_name="blog:post_detail", permanent=True),
        name="post_detail_slash",
    ),
    path(
        "category/<str:slug>",
        cached_page(posts.CategoryDetailView.as_view(), LISTING_PAGES),
        name="category_detail",
    ),
    path(
        "category/<str:slug>/",
        RedirectView.as_view(pattern_name="blog:category_detail", permanent=True),
    ),
    path(
        "category/<str:slug>/feed",
        cached_page(feeds.CategoryFeed(), LISTING_PAGES),
        name="category_feed",
    ),
    path(
        "category/<str:slug>/<pagenum:page>/",
        cached_page(posts.CategoryDetailView.as_view(), LISTING_PAGES),
        name="category_detail_page",
    ),
    # Tag names may contain "/" (`CNN/RNN`): the feed and page patterns come first and win.
    path("tag/<path:name>/feed", cached_page(feeds.TagFeed(), LISTING_PAGES), name="tag_feed"),
    path(
        "tag/<path:name>/<pagenum:page>/",
        cached_page(posts.TagDetailView.as_view(), LISTING_PAGES),
        name="tag_detail_page",
    ),
    path(
        "tag/<path:name>/",
        cached_page(posts.TagDetailView.as_view(), LISTING_PAGES),
        name="tag_detail",
    ),
    path(
        "author/<str:slug>/",
        cached_page(posts.AuthorDetailView.as_view(), LISTING_PAGES),
        name="author_detail",
    ),
    path(
        "author/<str:slug>/feed", cached_page(feeds.AuthorFeed(), LISTING_PAGES), name="author_feed"
    ),
    path(
        "author/<str:slug>/<pagenum:page>/",
        cached_page(posts.AuthorDetailView.as_view(), LISTING_PAGES),
        name="author_detail_page",
    ),
    path("preview/", posts.preview, name="preview"),
    path("feed", cached_page(feeds.PostFeed(), LISTING_PAGES), name="feed"),
    path("feed/", RedirectView.as_view(pattern_name="blog:feed", permanent=True)),
    path("feed/atom", cached_page(feeds.AtomPostFeed(), LISTING_PAGES), name="feed_atom"),
    path(
        "content.html",
        cached_page(archives.ArchiveView.as_view()),
        name="archive",
    ),
    # After content.html, which keeps its path: every other `<slug>.html` is a standalone page.
    path(
        "<str:slug>.html",
        cached_page(posts.PageDetailView.as_view(), shows_the_visitor=True),
        name="page_detail",
    ),
    path("search/", search.SearchView.as_view(), name="search"),
    path(
        "search/<str:keywords>/",
        cached_page(search.SearchView.as_view()),
        name="search_results",
    ),
    path(
        "search/<str:keywords>/<pagenum:page>/",
        cached_page(search.SearchView.as_view()),
        name="search_results_page",
    ),
    path(
        "<year:year>/",
        cached_page(archives.YearArchiveView.as_view(), LISTING_PAGES),
        name="year_archive",
    ),
    path(
        "<year:year>/page/<pagenum:page>/",
        cached_page(archives.YearArchiveView.as_view(), LISTING_PAGES),
        name="year_archive_page",
    ),
    path(
        "<year:year>/<twodigits:month>/",
        cached_page(archives.MonthArchiveView.as_view(), LISTING_PAGES),
        name="month_archive",
    ),
    path(
        "<year:year>/<twodigits:month>/page/<pagenum:page>/",
        cached_page(archives.MonthArchiveView.as_view(), LISTING_PAGES),
        name="month_archive_page",
    ),
    path(
        "<year:year>/<twodigits:month>/<twodigits:day>/",
        cached_page(archives.DayArchiveView.as_view(), LISTING_PAGES),
        name="day_archive",
    ),
    path(
        "<year:year>/<twodigits:month>/<twodigits:day>/page/<pagenum:page>/",
        cached_page(archives.DayArchiveView.as_view(), LISTING_PAGES),
        name="day_archive_page",
    ),
    path("sitemap.xml", cached_page(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", crawlers.RobotsView.as_view(), name="robots"),
    path("favicon.ico", crawlers.favicon, name="favicon"),
    path("healthz", health.healthz, name="healthz"),
]

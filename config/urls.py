from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/stats/", include("stats.urls")),
    path("admin/", admin.site.urls),
    # Uploads are served by Django only with DEBUG; in production by the web server (README).
    *static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT),
    path("", include("comments.urls")),
    path("", include("blog.urls")),
]

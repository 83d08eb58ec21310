"""The site's URLconf mounted under /mounted/, for tests of URLs under another URLconf."""

from django.urls import include, path

urlpatterns = [path("mounted/", include("config.urls"))]

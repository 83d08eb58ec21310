from django.contrib import admin
from django.urls import path

from stats import views

app_name = "stats"
urlpatterns = [
    path("", admin.site.admin_view(views.site_charts), name="site_charts"),
    path("posts/<int:pk>/", admin.site.admin_view(views.post_charts), name="post_charts"),
]

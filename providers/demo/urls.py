from django.urls import path

from providers.demo import views

app_name = "demo"
urlpatterns = [
    path("feeds/", views.feed_index, name="feed_index"),
    path("feeds/<slug:slug>.json", views.feed, name="feed"),
]

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("api/v1/", include("api.urls")),
    path("", include("deals.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("sync.urls")),
    path("", include("marketplace.urls")),
]
if settings.DEMO_ENABLED:
    urlpatterns.insert(0, path("demo/", include("demo.urls")))

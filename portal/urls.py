from django.conf import settings
from django.contrib import admin
from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links to: sent to the SVG icon, not a 404.
    Resolved per request (the manifest storage knows the file's hashed name only after
    collectstatic) and not permanent (that name changes with the icon)."""
    return HttpResponseRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon, name="favicon"),
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

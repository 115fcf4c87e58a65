"""Mounted at /accounts/ without a namespace.

Django's auth views keep their global names (``login``, ``logout``, ``password_reset``...), which
Django itself and our base template reverse; our own pages live in the ``accounts`` namespace
(see accounts/account_urls.py). One module cannot be both namespaced and not, hence two.
"""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal.lib.ratelimit import rate_limited

urlpatterns = [
    # Rate-limited before Django's own URLs of the same names (first match wins).
    path("login/", rate_limited("login")(auth_views.LoginView.as_view()), name="login"),
    path(
        "password_reset/",
        rate_limited("password_reset")(auth_views.PasswordResetView.as_view()),
        name="password_reset",
    ),
    path("", include("django.contrib.auth.urls")),
    path("", include(("accounts.account_urls", "accounts"))),
]

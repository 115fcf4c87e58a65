"""Mounted at /accounts/ without a namespace.

Django's auth views keep their global names (``login``, ``logout``, ``password_reset``...), which
Django itself and our base template reverse; our own pages live in the ``accounts`` namespace
(see accounts/account_urls.py). One module cannot be both namespaced and not, hence two.
"""

from django.urls import include, path

urlpatterns = [
    path("", include("django.contrib.auth.urls")),
    path("", include(("accounts.account_urls", "accounts"))),
]

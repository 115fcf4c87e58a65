from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The JSON API under /api/v1/: the catalog's data for scripts, and inventory pushes."""

    name = "api"
    verbose_name = "JSON API"

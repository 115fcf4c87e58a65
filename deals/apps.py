from django.apps import AppConfig


class DealsConfig(AppConfig):
    """Securing capacity: requests, quotes, agreements; saved searches and their alerts."""

    name = "deals"
    verbose_name = "Deals"

    def ready(self):
        from deals import receivers  # noqa: F401  (connects to the offer service's signal)

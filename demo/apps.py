from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Installed only when DEMO_ENABLED (never in production): the demo partners, their feeds and
    mock provider APIs served under /demo/, and the ``load_demo`` command."""

    name = "demo"
    verbose_name = "Demo"

    def ready(self):
        from demo import receivers  # noqa: F401  (demo partners answer routed requests)

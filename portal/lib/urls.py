from django.conf import settings


def site_url(path: str = "") -> str:
    """The absolute URL of ``path`` (from the root, e.g. a ``reverse()``) on this site, for e-mails
    and other places read outside a request: SITE_URL, without its trailing slash, then the path."""
    return settings.SITE_URL.rstrip("/") + path

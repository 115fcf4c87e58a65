"""What every adapter promises.

An adapter does two things: ``fetch()`` the raw payload over the guarded HTTP client exactly as
the provider's API expects, and ``parse()`` it into a ParsedInventory (marketplace/inventory.py).
Parsing is a pure function of the payload (no database, no network), so it is tested on saved
payloads. Mapping GPU names onto the catalogue and writing offers is the offer service's job,
not the adapter's.

A malformed entry in an answer (one instance type without a price, say) is skipped with a
warning naming it and the rest is kept; only an answer that is unusable as a whole (not JSON, an
HTML page, not the documented shape, every entry of a listing unreadable) raises AdapterError.
sync/adapters/reading.py does this, and words it, the same way for every adapter. The open
provider feed is the one exception: it is our own format, checked against its schema, and a feed
with an invalid offer is refused whole (docs/provider-feed.md).
"""

from typing import TYPE_CHECKING, ClassVar

from django.utils.functional import Promise

from marketplace.inventory import ParsedInventory

if TYPE_CHECKING:
    from portal.lib.http import GuardedClient


class AdapterError(Exception):
    """The payload cannot be used. The message is written for the provider's staff.

    ``permanent`` says that retrying will not help until the provider changes something.
    """

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class Adapter:
    """Base class: one subclass per provider API, registered in sync.adapters.registry.

    Each subclass says what the connection form shows for it: ``label``, an example
    ``base_url``, help for the base URL and the credentials, and the path under /demo/ where the
    demo serves a mock of its API. It also says how its requests are made: the header that
    carries the connection's credentials (and what precedes them in it), and the API's version
    prefix, which a base URL may or may not end in.
    """

    kind: ClassVar[str]
    label: ClassVar[str]
    base_url_example: ClassVar[str] = "https://api.example.com"
    base_url_help: ClassVar[str | Promise] = ""
    credentials_help: ClassVar[str | Promise] = ""
    demo_path: ClassVar[str] = ""
    credentials_header: ClassVar[str] = "Authorization"
    credentials_prefix: ClassVar[str] = "Bearer "
    api_root: ClassVar[str] = ""

    def fetch(self, *, base_url: str, credentials: str, client: "GuardedClient") -> bytes:
        """Fetch the raw inventory payload. Raises FetchError or AdapterError."""
        raise NotImplementedError

    def parse(self, payload: bytes) -> ParsedInventory:
        """Turn a payload into normalized offers. Pure; raises AdapterError on bad input."""
        raise NotImplementedError

    def headers(self, credentials: str) -> dict[str, str]:
        """Headers asking for JSON, with ``credentials`` in ``credentials_header`` (none without them)."""
        headers = {"Accept": "application/json"}
        if credentials:
            headers[self.credentials_header] = self.credentials_prefix + credentials
        return headers

    def api_url(self, base_url: str, path: str) -> str:
        """``base_url`` + ``path``; a base URL that already ends in ``api_root`` or in ``path`` works too."""
        return base_url.rstrip("/").removesuffix(path.rstrip("/")).removesuffix(self.api_root) + path

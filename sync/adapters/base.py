"""What every adapter promises.

An adapter does two things: ``fetch()`` the raw payload over the guarded HTTP client exactly as
the provider's API expects, and ``parse()`` it into a ParsedInventory (marketplace/inventory.py).
Parsing is a pure function of the payload (no database, no network), so it is tested on saved
payloads. Mapping GPU names onto the catalogue and writing offers is the offer service's job,
not the adapter's.

A malformed entry in an answer (one instance type without a price, say) is skipped with a
warning and the rest is kept; only an answer that is unusable as a whole (not JSON, not the
documented shape, every entry unreadable) raises AdapterError.
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
    ``base_url``, help for the base URL and the credentials, and the path under /demo/api/ (or
    /demo/) where the demo serves a mock of its API.
    """

    kind: ClassVar[str]
    label: ClassVar[str]
    base_url_example: ClassVar[str] = "https://api.example.com"
    base_url_help: ClassVar[str | Promise] = ""
    credentials_help: ClassVar[str | Promise] = ""
    demo_path: ClassVar[str] = ""

    def fetch(self, *, base_url: str, credentials: str, client: "GuardedClient") -> bytes:
        """Fetch the raw inventory payload. Raises FetchError or AdapterError."""
        raise NotImplementedError

    def parse(self, payload: bytes) -> ParsedInventory:
        """Turn a payload into normalized offers. Pure; raises AdapterError on bad input."""
        raise NotImplementedError

    @staticmethod
    def bearer_headers(credentials: str) -> dict[str, str]:
        """An ``Authorization: Bearer`` header when there are credentials."""
        return {"Authorization": f"Bearer {credentials}"} if credentials else {}

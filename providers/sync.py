"""The sync engine: fetch a connection's inventory, parse it, apply it. (Being written.)"""

from providers.models import SyncConnection, SyncRun


def sync_connection_run(*, connection: SyncConnection, payload: bytes | None = None) -> SyncRun:
    """Run one sync of ``connection`` and return its SyncRun (``payload`` skips the fetch)."""
    raise NotImplementedError


def connections_claim_due(*, limit: int = 1000) -> list[int]:
    """Claim the connections that are due and return their ids."""
    raise NotImplementedError

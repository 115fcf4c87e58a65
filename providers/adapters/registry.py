"""Adapter kinds, one line each. SyncConnection.Kind lists the same kinds (a test checks)."""

from providers.adapters.base import Adapter
from providers.adapters.feed import FeedAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    FeedAdapter.kind: FeedAdapter,
}


def get_adapter(kind: str) -> Adapter:
    try:
        return ADAPTERS[kind]()
    except KeyError:
        raise LookupError(f"no adapter for connection kind {kind!r}") from None


def adapter_choices() -> list[tuple[str, str]]:
    return [(kind, adapter.label) for kind, adapter in ADAPTERS.items()]

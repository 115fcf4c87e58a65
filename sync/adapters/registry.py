"""Adapter kinds, one line each. SyncConnection.Kind lists the same kinds (a test checks)."""

from sync.adapters.base import Adapter
from sync.adapters.feed import FeedAdapter
from sync.adapters.hyperstack import HyperstackAdapter
from sync.adapters.lambda_cloud import LambdaCloudAdapter
from sync.adapters.runpod import RunPodAdapter
from sync.adapters.shadeform import ShadeformAdapter
from sync.adapters.vastai import VastAiAdapter
from sync.adapters.verda import VerdaAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    FeedAdapter.kind: FeedAdapter,
    LambdaCloudAdapter.kind: LambdaCloudAdapter,
    ShadeformAdapter.kind: ShadeformAdapter,
    VerdaAdapter.kind: VerdaAdapter,
    RunPodAdapter.kind: RunPodAdapter,
    VastAiAdapter.kind: VastAiAdapter,
    HyperstackAdapter.kind: HyperstackAdapter,
}


def get_adapter(kind: str) -> Adapter:
    try:
        return ADAPTERS[kind]()
    except KeyError:
        raise LookupError(f"no adapter for connection kind {kind!r}") from None


def adapter_choices() -> list[tuple[str, str]]:
    return [(kind, adapter.label) for kind, adapter in ADAPTERS.items()]

"""Adapter kinds, one line each. SyncConnection.Kind lists the same kinds (a test checks)."""

from providers.adapters.base import Adapter
from providers.adapters.feed import FeedAdapter
from providers.adapters.hyperstack import HyperstackAdapter
from providers.adapters.lambda_cloud import LambdaCloudAdapter
from providers.adapters.runpod import RunPodAdapter
from providers.adapters.shadeform import ShadeformAdapter
from providers.adapters.vastai import VastAiAdapter
from providers.adapters.verda import VerdaAdapter

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

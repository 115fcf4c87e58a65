"""Adapters turn a provider's inventory API into normalized offers (see base.py)."""

from providers.adapters.base import Adapter, AdapterError, NormalizedOffer, NormalizedRegion, ParsedInventory
from providers.adapters.registry import ADAPTERS, adapter_choices, get_adapter

__all__ = [
    "ADAPTERS",
    "Adapter",
    "AdapterError",
    "NormalizedOffer",
    "NormalizedRegion",
    "ParsedInventory",
    "adapter_choices",
    "get_adapter",
]

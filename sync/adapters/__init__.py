"""Adapters turn a provider's inventory API into normalized offers (see base.py and registry.py)."""

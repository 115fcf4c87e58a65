"""Signals of the deals app, for the layers above (the demo answers requests by itself)."""

from django.dispatch import Signal

# Sent on commit after a request was routed: kwargs request_id, provider_ids.
request_routed = Signal()

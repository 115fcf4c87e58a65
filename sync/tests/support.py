"""Saved provider answers for the sync tests (payloads/)."""

import copy
import json
from pathlib import Path

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def feed_document(name: str = "feed_v1_acme.json") -> dict:
    """A saved feed as a dict, to change before serving it."""
    return copy.deepcopy(json.loads(payload(name)))

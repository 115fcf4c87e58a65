"""How the demo's mock APIs read the key a request carries, in the ways the real APIs take it."""

import base64
import binascii

from django.http import HttpRequest


def bearer_key(request: HttpRequest) -> str:
    """The key of an ``Authorization: Bearer <key>`` header, else ""."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def bearer_or_query_key(request: HttpRequest) -> str:
    """The Bearer key, else the ``?api_key=`` parameter (RunPod and Vast.ai take either), else ""."""
    return bearer_key(request) or request.GET.get("api_key", "").strip()


def bearer_or_basic_key(request: HttpRequest) -> str:
    """The Bearer key, else the user name of HTTP Basic (Lambda takes either), else ""."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return bearer_key(request)
    try:
        return base64.b64decode(value).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return ""

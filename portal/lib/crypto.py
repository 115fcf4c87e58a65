"""Encryption at rest for provider API credentials (Fernet, with key rotation).

Keys come from ``settings.CREDENTIALS_KEYS`` (newest first). In development, with no key
configured, one is derived from SECRET_KEY so that ``make run`` needs no setup; production
refuses to start without explicit keys (see portal.checks).
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    keys = list(settings.CREDENTIALS_KEYS)
    if not keys:
        digest = hashlib.sha256(f"credentials:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("stored credentials cannot be decrypted with the configured keys") from None

"""Deploy keys of the iSCSI (bash ramdisk) deploy: generated, hashed, verified.

The conductor gives the ramdisk a random key on its kernel command line and stores only a
salted hash with the node (``driver_internal_info['deploy_key_hash']``), so neither the API
nor the database ever shows the key. The API (refusing a bad ``pass_deploy_info`` before any
cast) and the conductor (checking again under the node's lock) both verify with
:func:`verify`.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

HASH_FIELD = 'deploy_key_hash'
_ALGO = 'sha256'


def new_key() -> str:
    """A fresh deploy key: 32 random bytes, URL-safe (usable as a kernel parameter)."""
    return secrets.token_urlsafe(32)


def hash_key(key: str, salt: str | None = None) -> str:
    """``sha256$<salt>$<hex digest of salt + key>``."""
    salt = salt if salt is not None else secrets.token_hex(16)
    digest = hashlib.sha256((salt + key).encode()).hexdigest()
    return f'{_ALGO}${salt}${digest}'


def verify(key: object, stored: object) -> bool:
    """True only when ``key`` is a non-empty string whose hash matches ``stored``."""
    if not isinstance(key, str) or not key or not isinstance(stored, str):
        return False
    parts = stored.split('$')
    if len(parts) != 3 or parts[0] != _ALGO:
        return False
    return hmac.compare_digest(hash_key(key, parts[1]), stored)

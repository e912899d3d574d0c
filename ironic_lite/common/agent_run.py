"""What identifies the agent of one deploy run: its token and its TLS certificate.

The API checks a heartbeat against them before casting it, and the conductor checks again
under the node's lock (the run may have ended in between); both use these checks.
"""
from __future__ import annotations

import hmac


def token_matches(expected: str | None, sent: str | None) -> bool:
    """Constant-time comparison. A missing token on either side never matches: as upstream,
    every heartbeat needs the token a lookup handed out, at every API version."""
    if not expected or not sent:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


def verify_ca_changed(known: str | None, sent: str | None) -> bool:
    """Whether a heartbeat brings a TLS certificate other than the one on file for this run
    (a run starts with none on file, and an agent may send none)."""
    return bool(known and sent and known.strip() != sent.strip())

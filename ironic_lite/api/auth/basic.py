"""``auth_strategy = http_basic``: HTTP Basic authentication against an htpasswd file.

The file is Apache's htpasswd format with bcrypt entries (``htpasswd -B``), as upstream
Ironic. It is checked when the API starts (a missing or malformed file stops it with a clear
error) and re-read whenever it changes: its mtime is read for each request in a worker thread,
never on the event loop (one read shared by concurrent requests). bcrypt is deliberately slow,
so the check runs in a worker thread and a verified password is remembered for
``VERIFIED_TTL`` seconds (as a keyed hash). An authenticated user gets admin rights, as
upstream. (oslo.middleware's basic auth is WSGI middleware, not for aiohttp, and checks bcrypt
on every request.)
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import secrets
import time

import bcrypt
from aiohttp import web

from ironic_lite.api import auth, context
from ironic_lite.common import exception

REALM = 'Baremetal API'
# How long a checked password is remembered (as a keyed hash, in this process only), so a
# client does not pay bcrypt's deliberate slowness on every request. Editing the file
# forgets every remembered password at once.
VERIFIED_TTL = 300.0


class Unauthorized(auth.Unauthorized):
    challenge = f'Basic realm="{REALM}"'


def read_user_file(path: str) -> dict[str, bytes]:
    """Parse an htpasswd file into ``{user: bcrypt hash}``; ConfigInvalid on any problem."""
    try:
        with open(path, encoding='utf-8') as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise exception.ConfigInvalid(
            error_msg=f'Cannot read http_basic_auth_user_file {path}: {e.strerror}') from None
    users: dict[str, bytes] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith('#'):
            continue
        user, sep, hashed = line.partition(':')
        if not sep or not user or not hashed.startswith(('$2y$', '$2a$', '$2b$')):
            raise exception.ConfigInvalid(
                error_msg=f'{path} line {number}: expected "user:<bcrypt hash>" '
                          '(create entries with "htpasswd -B")')
        users[user] = hashed.encode()
    return users


def parse_authorization(header: str | None) -> tuple[str, str]:
    """``Authorization: Basic base64(user:password)`` -> (user, password); 401 otherwise."""
    if not header:
        raise Unauthorized('Authorization required: send HTTP Basic credentials.')
    scheme, _, token = header.partition(' ')
    if scheme.lower() != 'basic' or not token.strip():
        raise Unauthorized('Unsupported authorization type: HTTP Basic credentials expected.')
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode('utf-8')
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized('Invalid HTTP Basic credentials: not base64 user:password.') \
            from None
    user, sep, password = decoded.partition(':')
    if not sep or not user:
        raise Unauthorized('Invalid HTTP Basic credentials: expected user:password.')
    return user, password


class _FreshMtime:
    """The file's mtime, read in a worker thread: never ``os.stat`` on the event loop. Every
    caller gets a read that started after it asked, so an edit made before a request is always
    seen; the callers that ask before that read starts share it (one thread hop per batch)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._next: asyncio.Task | None = None

    async def get(self) -> float | None:
        if self._next is None:
            self._next = asyncio.get_running_loop().create_task(self._read())
        return await asyncio.shield(self._next)   # one caller cancelled: not the others

    async def _read(self) -> float | None:
        self._next = None   # whoever asks from now on gets a read that starts after it asked
        try:
            return (await asyncio.to_thread(os.stat, self.path)).st_mtime
        except OSError:
            return None


class BasicAuthenticator:
    def __init__(self, path: str):
        self.path = path
        self._mtime, self._users = self._load()   # at start-up: errors stop the API
        self._watch = _FreshMtime(path)
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, tuple[bytes, float]] = {}

    def _load(self) -> tuple[float | None, dict[str, bytes]]:
        """``(mtime, users)`` of the file (blocking: at start-up, or in a worker thread)."""
        try:
            mtime = os.stat(self.path).st_mtime
        except OSError:
            mtime = None
        return mtime, read_user_file(self.path)

    async def _users_now(self) -> dict[str, bytes]:
        """The users of the file as it is now; a change forgets every remembered password."""
        mtime = await self._watch.get()
        if mtime is None:
            return self._users  # keep the last good copy while the file is replaced
        if mtime != self._mtime:
            self._verified.clear()
            try:
                self._mtime, self._users = await asyncio.to_thread(self._load)
            except exception.ConfigInvalid:
                pass  # a half-written file: keep the last good copy
        return self._users

    def _digest(self, user: str, password: str) -> bytes:
        return hmac.new(self._key, f'{user}:{password}'.encode(), hashlib.sha256).digest()

    def _remembered(self, user: str, password: str) -> bool:
        entry = self._verified.get(user)
        return bool(entry and entry[1] > time.monotonic()
                    and hmac.compare_digest(entry[0], self._digest(user, password)))

    @staticmethod
    def _check(users: dict[str, bytes], user: str, password: str) -> bool:
        hashed = users.get(user)
        if hashed is None:
            # spend the same time as for a known user so names cannot be probed
            bcrypt.checkpw(b'x', bcrypt.hashpw(b'y', bcrypt.gensalt(4)))
            return False
        try:
            return bcrypt.checkpw(password.encode('utf-8'), hashed)
        except ValueError:
            return False

    async def __call__(self, request: web.Request) -> context.RequestContext:
        user, password = parse_authorization(request.headers.get('Authorization'))
        users = await self._users_now()   # forgets everything when the file changed
        if not self._remembered(user, password):
            if not await asyncio.to_thread(self._check, users, user, password):
                raise Unauthorized('Unauthorized: the user name or password is wrong.')
            if len(self._verified) > 10000:
                self._verified.clear()
            self._verified[user] = (self._digest(user, password),
                                    time.monotonic() + VERIFIED_TTL)
        return context.admin(user)

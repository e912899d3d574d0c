"""Atomic file replacement: the one way files are published in this project.

A file (or link) is made under a temporary name beside its destination, then renamed over it:
a reader sees the old file or the new one, never a partial one, and a failure (or a
cancellation) leaves nothing behind. Temporary names are dot-prefixed and carry the
destination's name, so a crash's leftovers are recognisable (the image cache's clean-up finds
them by the key in the name). Blocking calls: run them in a thread, except where a caller
deliberately stays on the event loop (``os.replace`` and ``os.unlink`` are instant, and a
cancellation can then never leave a file nobody knows about). Not oslo.utils'
``fileutils.remove_path_on_error``: it cleans up on ``Exception`` only, not on a cancellation.
"""
from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator


def temp_path(path: str, what: str = 'tmp') -> str:
    """A fresh dot-prefixed temporary path beside ``path``."""
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f'.{name}.{uuid.uuid4().hex[:8]}.{what}')


@contextlib.contextmanager
def replacing(path: str, what: str = 'tmp') -> Iterator[str]:
    """Yield a temporary path beside ``path``; when the block ends, rename it over ``path``.

    If the block raises (a cancellation too), the temporary file is removed and nothing at
    ``path`` changes. The block creates the file (or link) itself, or with
    :func:`create_private`."""
    tmp = temp_path(path, what)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def create_private(tmp: str) -> int:
    """Create ``tmp`` as a new empty file only its owner can read (as ``mkstemp`` does:
    never an existing file, never through a symlink); return its descriptor."""
    return os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                   0o600)


def write_atomic(path: str, content: str | bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``content``, synced to disk before the rename; ``mode`` sets the
    new file's permissions (else the umask's)."""
    with replacing(path) as tmp:
        with open(tmp, 'wb' if isinstance(content, bytes) else 'w') as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)

"""Downloads must fail, not hang, on machines whose network drops packets silently."""
from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

TIMEOUT_S = 30.0


@contextmanager
def network_timeout(seconds: float = TIMEOUT_S) -> Iterator[None]:
    """Give every socket opened inside the block a timeout (urllib-based downloaders set none)."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)

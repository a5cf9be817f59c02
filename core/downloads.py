"""Downloads must fail, not hang, on machines whose network drops packets silently."""
from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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


def hub_offline(settings: Any) -> bool:
    """Whether the Hugging Face hub is off limits: InferScope's own switch (`settings.offline`) or the hub's."""
    return settings.offline or os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes"}

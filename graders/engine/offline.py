"""No network while learner code runs: only loopback may be reached.

Every URL a check needs is served by the HTTP fixture or by a server on 127.0.0.1. A learner's
thread that outlives its check (a missing join) may still send a request after the fixture
has gone; this guard turns that into a quick, local failure instead of real traffic. What
counts as loopback is graders.engine.loopback's, the same test the grading process's guard uses.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from graders.engine.loopback import is_loopback


@contextmanager
def offline() -> Iterator[None]:
    """Refuse name look-ups and connections to anything but loopback inside the block."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_loopback(host):
            raise socket.gaierror(f"threadkit: no network while grading (tried {host!r})")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            raise OSError(f"threadkit: no network while grading (tried {address!r})")
        real_connect(sock, address)

    # Patching the socket API on purpose; typeshed types connect's self as _socket.socket.
    socket.getaddrinfo, socket.socket.connect = getaddrinfo, connect  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:  # putting the real functions back
        socket.getaddrinfo, socket.socket.connect = real_getaddrinfo, real_connect  # type: ignore[method-assign]

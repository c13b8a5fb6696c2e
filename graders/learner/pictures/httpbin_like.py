"""What the workshop's httpbin URLs answer, and how long they make a client wait.

The exercises' `URLS` point at httpbin.org (`/delay/N`, `/uuid`, `/ip`, `/user-agent`,
`/headers`). The kit never goes there: the timeline serves these paths from the HTTP fixture,
and `make demo` from a server on 127.0.0.1. Both take their answers and their waits from here,
so the two pictures of one learner's downloader agree.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from urllib.parse import urlsplit

MAX_DELAY = 10.0  # httpbin caps /delay/N at 10 s too
NETWORK_LATENCY = 0.3  # what a round trip to a real server adds to every request (seconds)

_DELAY = re.compile(r"^/delay/(\d+(?:\.\d+)?)/?$")


def path_of(url: str) -> str:
    """The path (and query) of a URL: what a server on another host would be asked for."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def server_delay(path: str) -> float:
    """Seconds the server itself waits before answering (`/delay/N`: N, at most 10)."""
    found = _DELAY.match(urlsplit(path).path)
    return min(float(found.group(1)), MAX_DELAY) if found else 0.0


def wait_for(url: str, *, scale: float = 1.0, latency: float = NETWORK_LATENCY) -> float:
    """How long a client waits for `url`: the network round trip plus the server's delay."""
    return (latency + server_delay(path_of(url))) * scale


def answer(path: str, headers: Mapping[str, str] | None = None) -> tuple[int, str] | None:
    """(status, JSON body) for a path httpbin knows, or None for one it does not."""
    headers = dict(headers or {})
    route = urlsplit(path).path.rstrip("/") or "/"
    if _DELAY.match(route):
        body: object = {"url": path, "delay": server_delay(route), "headers": headers}
    elif route == "/uuid":
        body = {"uuid": str(uuid.uuid4())}
    elif route == "/ip":
        body = {"origin": "127.0.0.1"}
    elif route == "/user-agent":
        body = {"user-agent": headers.get("User-Agent", "")}
    elif route in ("/headers", "/get", "/anything"):
        body = {"headers": headers, "url": path}
    else:
        return None
    return 200, json.dumps(body, indent=2) + "\n"

"""A small httpbin on 127.0.0.1 for `make demo`: real waits, real sockets, no network.

`DemoServer` is a context manager: it binds a free port on the loopback address only, serves
the workshop's paths (`/delay/N`, `/uuid`, `/ip`, `/user-agent`, `/headers`, see
graders.learner.pictures.httpbin_like) from a ThreadingHTTPServer in a background thread, and shuts
down and
closes the socket on exit. Every request waits `latency` seconds (the round trip a real server
costs) plus its `/delay/N`, all times `scale`, and is recorded, so the demo can say how many
requests the server had in hand at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from graders.learner.pictures import httpbin_like

LOOPBACK = "127.0.0.1"
_clock = time.perf_counter


@dataclass(frozen=True)
class Served:
    """One request as the server saw it."""

    path: str
    start: float
    end: float  # the answer was ready (recorded just before it is sent)
    status: int


class DemoServer:
    """An httpbin-like server on 127.0.0.1:<free port>, running while the block runs."""

    def __init__(self, *, latency: float = httpbin_like.NETWORK_LATENCY, scale: float = 1.0):
        if latency < 0 or scale < 0:
            raise ValueError("latency and scale must be >= 0")
        self.latency = latency
        self.scale = scale
        self._lock = threading.Lock()
        self._served: list[Served] = []
        self._in_flight = 0
        self._peak = 0
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> DemoServer:
        httpd = ThreadingHTTPServer((LOOPBACK, 0), _Handler)
        httpd.daemon_threads = True
        httpd.demo = self  # type: ignore[attr-defined]
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="demo-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)

    @property
    def address(self) -> tuple[str, int]:
        if self._httpd is None:
            raise RuntimeError("the demo server is not running")
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        """`http://127.0.0.1:<port>`: where the learner's httpbin.org URLs are sent."""
        host, port = self.address
        return f"http://{host}:{port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def served(self) -> list[Served]:
        with self._lock:
            return list(self._served)

    @property
    def peak_in_flight(self) -> int:
        """The most requests the server was answering at one moment."""
        with self._lock:
            return self._peak

    def reset(self) -> None:
        with self._lock:
            self._served.clear()
            self._peak = self._in_flight

    def _begin(self) -> float:
        with self._lock:
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
        return _clock()

    def _end(self, path: str, start: float, status: int) -> None:
        with self._lock:
            self._in_flight -= 1
            self._served.append(Served(path, start, _clock(), status))


class _Handler(BaseHTTPRequestHandler):
    server_version = "threadkit-demo/1"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        """Wait, answer, and record the request BEFORE the answer leaves: a client that has
        its answer always finds its request in `served` (recorded after, the last request of
        a run could still be missing when the client looked)."""
        demo: DemoServer = self.server.demo  # type: ignore[attr-defined]
        start = demo._begin()
        status = 500
        try:
            time.sleep((demo.latency + httpbin_like.server_delay(self.path)) * demo.scale)
            found = httpbin_like.answer(self.path, dict(self.headers.items()))
            status, body = found if found else (404, '{"error": "not found"}\n')
        finally:
            demo._end(self.path, start, status)
        self._send(status, body)

    def _send(self, status: int, body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        """Quiet: the demo prints its own summary."""

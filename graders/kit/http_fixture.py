"""A fake HTTP server for graders that must *see* a learner's threads download.

Graders run a learner's downloader (``requests.get(url)`` from several threads, or a long-lived
``requests.Session``) and need to observe what happened: which thread fetched which URL, when,
and how many requests were in flight at once. ``requests_mock.Mocker`` cannot be used for that:
it holds one module-wide lock around every send, so threaded requests run one at a time
(docs/design.md, fact 3). This module instead patches ``requests.Session.get_adapter`` so that every
``http://`` and ``https://`` request, from any session, goes to one ``requests_mock.Adapter``
subclass that serves the registered routes truly in parallel and records each request.

Nothing here touches the network: an unregistered URL raises ``UnregisteredURL``, which is both
a ``requests_mock.exceptions.NoMockAddress`` and a ``requests.ConnectionError``.

Usage::

    with HttpFixture({url: "body" for url in URLS}, latency=0.2) as http:
        http.latch(len(URLS), timeout=2.0)
        download_threaded(URLS, out_dir)
    assert http.latch_filled and http.peak_in_flight == len(URLS)

Learner code may later monkeypatch ``time`` or ``threading``; every function the fixture needs
is captured below at import time, so the records cannot be faked that way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graders.kit import waitfor

if TYPE_CHECKING:  # annotations only: the guard's snapshot covers this module's namespace
    from types import ModuleType

    from graders.kit.http_adapter import UnregisteredURL

__all__ = [
    "HttpFixture",
    "LatchGroup",
    "RequestRecord",
    "UnregisteredURL",
]

# Captured once, before any learner code runs (see the module docstring).
_clock: Callable[[], float] = time.perf_counter
_sleep: Callable[[float], None] = time.sleep
_get_ident: Callable[[], int] = threading.get_ident
_current_thread: Callable[[], threading.Thread] = threading.current_thread
_Lock = threading.Lock
_Condition = threading.Condition
_Local = threading.local

_MISSING = object()


def load_requests() -> ModuleType:
    """The fixture's requests side (graders.kit.http_adapter: requests and requests_mock),
    imported on first use: a process that only reads the task suites (make check's parent)
    never pays the 0.2 s. A grading process whose suite uses the fixture calls this before
    its guard takes the snapshot of what the kit relies on (graders.engine.worker), so the
    requests it patches are the ones imported before any learner code ran."""
    from graders.kit import http_adapter

    return http_adapter


def __getattr__(name: str) -> object:
    """`UnregisteredURL`, from graders.kit.http_adapter, where it is defined."""
    if name == "UnregisteredURL":
        return load_requests().UnregisteredURL
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class RequestRecord:
    """One served request, as the fixture saw it."""

    url: str  # the URL as registered (or the prepared URL if it differs, e.g. a query string)
    method: str
    thread_name: str
    thread_id: int  # threading.get_ident() of the requesting thread
    start: float  # perf_counter when the request reached the fixture
    end: float  # perf_counter when the response was handed back
    in_flight_at_start: int  # how many were in flight including this one


@dataclass(frozen=True)
class LatchGroup:
    """One group of requests the latch held and released together.

    ``reason`` is ``"filled"`` (``target`` requests were held at once), ``"quiet"`` (no thread
    that could still make a request was left: every other one had finished or waited on the
    held ones), ``"timeout"`` (the timeout passed first: the learner's requests did not
    overlap enough, or waited on something the wait-for graph cannot see), or ``"closed"``
    (the fixture was exited, reset or re-latched while requests were held).
    """

    target: int
    held: int
    reason: str
    opened: float  # perf_counter when the first request of the group arrived
    released: float  # perf_counter when the group was released

    @property
    def filled(self) -> bool:
        """True iff the group was released because it was full."""
        return self.reason == "filled"


@dataclass
class _Route:
    """A registered URL: what to answer and how slowly."""

    url: str
    prepared_url: str
    body: bytes
    content_type: str
    latency: float


@dataclass
class _InFlight:
    """Bookkeeping for a request between its arrival and its response."""

    url: str
    method: str
    thread_name: str
    thread_id: int
    start: float
    in_flight_at_start: int


@dataclass
class _Group:
    """A latch group while it is open (mutable; guarded by the fixture's lock)."""

    target: int
    opened: float
    deadline: float
    quiet: waitfor.Quiet | None
    watcher: threading.Thread  # the first arrival: it alone looks whether all is quiet
    held: int = 0
    reason: str = ""
    released: float = 0.0


@dataclass
class _LatchConfig:
    """The armed latch: group size, timeout, and for waves how many requests remain."""

    n: int
    timeout: float
    waves: bool
    remaining: int | None  # requests still expected (waves only); None = unlimited
    quiet: waitfor.Quiet | None


def _encode(body: str | bytes) -> tuple[bytes, str]:
    """Body bytes and Content-Type; text is UTF-8 and says so, so ``.text`` needs no guessing."""
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body), "application/octet-stream"
    raise TypeError(f"a route body must be str or bytes, not {type(body).__name__}")


class HttpFixture:
    """Serve registered URLs to threaded ``requests`` code and record what happened.

    ``routes`` maps URL -> body (``str`` is sent as UTF-8 text, ``bytes`` as-is). ``latency`` is
    one delay for every route or a per-URL mapping (missing URLs: 0); it is slept inside the
    response, so requests from several threads sleep at the same time, as real downloads wait.
    Use as a context manager; routes may be added before or inside the block, but add them
    before the learner's threads start.
    """

    def __init__(
        self,
        routes: Mapping[str, str | bytes] | None = None,
        *,
        latency: float | Mapping[str, float] = 0.0,
    ) -> None:
        self._lock = _Lock()
        self._cond = _Condition(self._lock)
        self._pending = _Local()  # the calling thread's _InFlight, from callback to send's end
        self._http = load_requests()
        self._adapter = self._http.FixtureAdapter(self)
        self._routes: dict[str, _Route] = {}
        self._records: list[RequestRecord] = []
        self._refused: list[str] = []
        self._in_flight = 0
        self._peak = 0
        self._latch: _LatchConfig | None = None
        self._group: _Group | None = None
        self._groups: list[LatchGroup] = []
        self._saved_get_adapter: Any = _MISSING
        for url, body in (routes or {}).items():
            self.add(url, body, latency=_latency_for(latency, url))

    # ----------------------------------------------------------------- setup and patching

    def add(
        self, url: str, body: str | bytes, *, latency: float | None = None, status: int = 200
    ) -> None:
        """Serve ``body`` at ``url`` (any method), after ``latency`` seconds, with ``status``.

        Registering a URL again replaces its route.
        """
        if latency is not None and latency < 0:
            raise ValueError(f"latency must be >= 0, got {latency}")
        content, content_type = _encode(body)
        route = _Route(url, self._http.prepare_url(url), content, content_type, latency or 0.0)
        with self._lock:
            self._routes[url] = route
        self._adapter.register_uri(
            self._http.ANY,
            url,
            content=self._responder(url),
            complete_qs=True,
            status_code=status,
            headers={"Content-Type": content_type},
        )

    def __enter__(self) -> HttpFixture:
        """Route every http(s) request of every ``requests.Session`` to this fixture."""
        if self._saved_get_adapter is not _MISSING:
            raise RuntimeError("this HttpFixture is already active")
        self._saved_get_adapter = self._http.route_sessions_to(self._adapter)
        return self

    def __exit__(self, *exc: object) -> None:
        """Restore ``requests.Session.get_adapter`` and free any request held at the latch."""
        try:
            with self._lock:
                self._close_group("closed")
                self._latch = None
        finally:
            saved, self._saved_get_adapter = self._saved_get_adapter, _MISSING
            if saved is not _MISSING:  # entered: put back what __enter__ found
                self._http.restore_sessions(saved)

    # ----------------------------------------------------------------- what was observed

    @property
    def records(self) -> list[RequestRecord]:
        """Completed (served) requests, in start order. A copy."""
        with self._lock:
            return sorted(self._records, key=lambda r: r.start)

    def urls_requested(self) -> list[str]:
        """URLs of the completed requests, in start order (refused ones are in ``refused``)."""
        return [r.url for r in self.records]

    @property
    def refused(self) -> list[str]:
        """Prepared URLs of requests refused because no route matched, in arrival order."""
        with self._lock:
            return list(self._refused)

    @property
    def in_flight(self) -> int:
        """Requests that have reached the fixture and not yet got their response."""
        with self._lock:
            return self._in_flight

    @property
    def peak_in_flight(self) -> int:
        """The most requests that were in flight at one moment since creation or ``reset``."""
        with self._lock:
            return self._peak

    def span(self) -> float:
        """Seconds from the first recorded start to the last recorded end (0.0 if none)."""
        with self._lock:
            if not self._records:
                return 0.0
            return max(r.end for r in self._records) - min(r.start for r in self._records)

    def reset(self) -> None:
        """Forget records, refusals, the peak and the latch (between two runs of learner code).

        Routes stay. Requests still in flight are freed from the latch and are recorded when
        they finish; the peak restarts from the number still in flight.
        """
        with self._lock:
            self._close_group("closed")
            self._latch = None
            self._groups.clear()
            self._records.clear()
            self._refused.clear()
            self._peak = self._in_flight

    # ----------------------------------------------------------------- the latch

    def latch(
        self,
        n: int,
        *,
        timeout: float = 2.0,
        waves: bool = False,
        expected: int | None = None,
        quiet: waitfor.Quiet | None = waitfor.quiet,
    ) -> None:
        """Hold arriving requests until ``n`` are held at once, then release them together.

        This turns "did the learner's requests overlap?" into an observation that does not
        depend on the clock: the latch fills only if ``n`` requests are in flight together.
        A group that cannot fill is released as soon as it is known: when ``quiet`` says, on
        two looks QUIET_LOOK apart with nothing moving in between, that no thread besides the
        ones the kit holds can still make a request (the learner's code waits on the held
        requests, or is done); by default the check's wait-for graph decides
        (graders.kit.waitfor.quiet).
        Otherwise, when ``timeout`` seconds pass after the group's first arrival. Either way
        whoever is held is released, the group is remembered as not filled, and the latch
        disarms (so sequential code costs two looks, and never hangs). The timeout is then
        only for waits the graph cannot see, so it can be generous: a slow machine makes
        threads late, never quiet.

        ``waves=False``: only the first group is latched; later requests pass freely.
        ``waves=True``: keep latching groups of ``min(n, requests still expected)``; requires
        ``expected``, the total number of requests the learner should make. Used for a worker
        pool, so the workers come back to their shared list at the same moment (docs/design.md,
        fact 4).
        Once ``expected`` requests have joined groups, later ones pass freely.

        Arming replaces any earlier latch (requests it held are released as "closed").
        """
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {timeout}")
        if waves and expected is None:
            raise ValueError("waves=True needs expected=<total number of requests>")
        if expected is not None and expected < 0:
            raise ValueError(f"expected must be >= 0, got {expected}")
        with self._lock:
            self._close_group("closed")
            self._latch = _LatchConfig(n, timeout, waves, expected, quiet)

    @property
    def latch_filled(self) -> bool:
        """True iff the latch released at least one group, and every released group was full.

        False if no group was released, or if any group was released by its timeout (or by
        exit/reset). See ``latch_groups`` for the sizes.
        """
        with self._lock:
            return bool(self._groups) and all(g.filled for g in self._groups)

    @property
    def latch_groups(self) -> list[LatchGroup]:
        """Every released latch group, in release order: how many were held, and why released."""
        with self._lock:
            return list(self._groups)

    # ----------------------------------------------------------------- request path (private)

    def _responder(self, url: str) -> Callable[[Any, Any], bytes]:
        """The requests_mock content callback for one registered URL."""

        def respond(request: Any, context: Any) -> bytes:
            return self._respond(url, request)

        return respond

    def _respond(self, url: str, request: Any) -> bytes:
        """Record the arrival, wait at the latch, sleep the route's latency, return its body."""
        with self._lock:
            route = self._routes[url]
        shown = route.url if request.url == route.prepared_url else str(request.url)
        self._begin(shown, str(request.method))
        self._wait_at_latch()
        if route.latency > 0:
            _sleep(route.latency)
        return route.body

    def _begin(self, url: str, method: str) -> None:
        """Count the calling thread's request in flight and remember its start."""
        thread = _current_thread()
        with self._lock:
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            self._pending.request = _InFlight(
                url, method, thread.name, _get_ident(), _clock(), self._in_flight
            )

    def _finish_current(self) -> None:
        """Record the calling thread's request as completed, if it got as far as ``_begin``."""
        pending: _InFlight | None = getattr(self._pending, "request", None)
        if pending is None:
            return
        self._pending.request = None
        with self._lock:
            self._in_flight -= 1
            self._records.append(
                RequestRecord(
                    url=pending.url,
                    method=pending.method,
                    thread_name=pending.thread_name,
                    thread_id=pending.thread_id,
                    start=pending.start,
                    end=_clock(),
                    in_flight_at_start=pending.in_flight_at_start,
                )
            )

    def _refuse(self, url: str) -> None:
        """Remember a request that matched no route."""
        with self._lock:
            self._refused.append(url)

    def _wait_at_latch(self) -> None:
        """Join the open latch group (or open one) and wait until it is released."""
        with self._cond:
            group = self._join_group()
            if group is None:
                return
            probe = group.quiet if group.watcher is _current_thread() else None
            ended = waitfor.wait_quietly(
                self._cond, lambda: bool(group.reason), lambda: group.deadline, probe
            )
            if ended != "done":
                self._close_group(ended)

    def _join_group(self) -> _Group | None:
        """Add the caller to the current group; release it if now full. Lock held.

        Returns the group to wait on, or None if the latch is not armed (pass freely).
        """
        latch = self._latch
        if latch is None:
            return None
        if self._group is None:
            target = latch.n if latch.remaining is None else min(latch.n, latch.remaining)
            if target <= 0:
                self._latch = None
                return None
            now = _clock()
            self._group = _Group(
                target, now, now + latch.timeout, latch.quiet, watcher=_current_thread()
            )
        group = self._group
        group.held += 1
        if latch.remaining is not None:
            latch.remaining -= 1
        if group.held >= group.target:
            self._close_group("filled")
        return group

    def _close_group(self, reason: str) -> None:
        """Release the open group (if any), remember it, and decide what comes next. Lock held."""
        group = self._group
        if group is None:
            return
        group.reason = reason
        group.released = _clock()
        self._group = None
        self._groups.append(
            LatchGroup(group.target, group.held, reason, group.opened, group.released)
        )
        if self._latch is not None and (reason != "filled" or not self._latch.waves):
            self._latch = None
        self._cond.notify_all()


def _latency_for(latency: float | Mapping[str, float], url: str) -> float:
    """The latency a route gets from the constructor's ``latency`` argument."""
    if isinstance(latency, Mapping):
        return float(latency.get(url, 0.0))
    return float(latency)

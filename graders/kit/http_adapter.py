"""The requests side of graders.kit.http_fixture: the adapter every session is routed to.

Split from the fixture so that a process that only reads the task suites does not import
requests and requests_mock (0.2 s); graders.kit.http_fixture.load_requests imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import requests
import requests_mock
from requests.models import PreparedRequest
from requests_mock.exceptions import NoMockAddress

if TYPE_CHECKING:  # annotations only: the guard's snapshot covers this module's namespace
    from requests.adapters import BaseAdapter

    from graders.kit.http_fixture import HttpFixture

ANY = requests_mock.ANY
_SCHEMES = ("http://", "https://")
_MISSING = object()


class UnregisteredURL(NoMockAddress, requests.ConnectionError):
    """Raised for a URL the fixture does not serve.

    A ``NoMockAddress`` for graders and tests, and a ``requests.ConnectionError`` so that a
    learner's ``except requests.RequestException`` treats it like an unreachable host, as it
    would be on the real network. (Plain ``NoMockAddress`` is not a ``ConnectionError``.)
    """

    def __init__(self, request: Any) -> None:
        requests.ConnectionError.__init__(self, f"No mock address: {request.url}", request=request)
        NoMockAddress.__init__(self, request)

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        # Survives pickling (e.g. back from a sandboxed grader process) without the request.
        return _rebuild_unregistered, (str(self.request.method), str(self.request.url))


def _rebuild_unregistered(method: str, url: str) -> UnregisteredURL:
    """Unpickle an ``UnregisteredURL`` with a stand-in for the request it carried."""
    return UnregisteredURL(SimpleNamespace(method=method, url=url))


def prepare_url(url: str) -> str:
    """The URL as requests will send it (lower-case host, '/' path added, ...)."""
    prepared = PreparedRequest()
    prepared.prepare_url(url, None)
    return str(prepared.url)


class FixtureAdapter(requests_mock.Adapter):
    """The adapter every patched session gets: requests_mock matching, fixture bookkeeping.

    The route callbacks (see ``HttpFixture._respond``) record the start, wait at the latch and
    sleep; this ``send`` records the end, or a refusal for an unregistered URL.
    """

    def __init__(self, fixture: HttpFixture) -> None:
        # Exact URLs: paths are case-sensitive on a real server, and an extra query string
        # is another resource, so neither should quietly match a registered route.
        super().__init__(case_sensitive=True)
        self._fixture = fixture

    # requests_mock's Adapter.send takes **kwargs (what Session.send passes), not
    # BaseAdapter's named parameters; they are forwarded unchanged.
    def send(self, request: PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        try:
            return super().send(request, **kwargs)
        except NoMockAddress:
            self._fixture._refuse(str(request.url))
            raise UnregisteredURL(request) from None
        finally:
            self._fixture._finish_current()


def route_sessions_to(adapter: BaseAdapter) -> object:
    """Route every http(s) request of every ``requests.Session`` to `adapter`; returns what
    ``restore_sessions`` must put back."""
    saved = requests.Session.__dict__.get("get_adapter", _MISSING)
    original: Callable[[requests.Session, str], BaseAdapter] = requests.Session.get_adapter

    def get_adapter(session: requests.Session, url: str) -> BaseAdapter:
        if url.lower().startswith(_SCHEMES):
            return adapter
        return original(session, url)

    # Patching requests on purpose; mypy also sees a parameter named session, not self.
    requests.Session.get_adapter = get_adapter  # type: ignore[method-assign,assignment]
    return saved


def restore_sessions(saved: object) -> None:
    """Put back what ``route_sessions_to`` found."""
    if saved is _MISSING:
        if "get_adapter" in requests.Session.__dict__:
            del requests.Session.get_adapter
    else:
        requests.Session.get_adapter = saved  # type: ignore[method-assign,assignment]

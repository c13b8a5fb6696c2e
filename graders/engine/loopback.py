"""Which hosts are this machine: the one loopback test that the guard and `offline()` share.

A host is loopback when it is one of LOOPBACK_NAMES (any case), an IPv4 address in dotted-quad
form whose first byte is 127, or the IPv6 address ::1 in any spelling (a zone, `::1%lo`,
allowed). Anything else, a name that merely starts with "127." included (`127.evil.com`
resolves wherever its owner likes), could leave the machine. Addresses are read by the
socket module's own parser (inet_pton), the one the connection would use, not by string
prefixes. The empty host is not loopback: bound, it means every interface.

`loopback_test()` makes a fresh predicate with everything it calls bound at that moment, so the
guard (graders.engine.guard) makes its own at installation, and nothing learner code later does
to this module, to `socket` or to a builtin changes its answers. `is_loopback` is one such
predicate, made at import, for code that runs no learner code before it (offline()).
"""

from __future__ import annotations

import _socket
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import Any

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_IPV6_LOOPBACK = bytes(15) + b"\1"


def loopback_test() -> Callable[[object], bool]:
    """A predicate `host -> is it this machine`, for a str or bytes host (else False)."""
    _type, _str, _bytes, _decode, _lower = type, str, bytes, bytes.decode, str.lower
    _partition, errors = str.partition, (OSError, ValueError)
    inet_pton, inet, inet6 = _socket.inet_pton, _socket.AF_INET, _socket.AF_INET6
    names, ipv6_loopback = LOOPBACK_NAMES, _IPV6_LOOPBACK

    def is_loopback(host: Any) -> bool:  # anything an audit event carries: exact types only
        if _type(host) is _bytes:
            host = _decode(host, "ascii", "replace")
        if _type(host) is not _str:
            return False
        if _lower(host) in names:
            return True
        try:
            if ":" in host:
                return inet_pton(inet6, _partition(host, "%")[0]) == ipv6_loopback
            return inet_pton(inet, host)[0] == 127
        except errors:  # not an address (ValueError: a NUL inside)
            return False

    return is_loopback


is_loopback = loopback_test()

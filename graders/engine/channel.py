"""The verdict channel between a grading process and its parent: sealed lines on a private pipe.

One line per message: `<hex HMAC-SHA256> <base64 of repr(body)>`. A body is a tuple of plain
values (str, int, float, bool, None and tuples of them) whose first two items are the run's
nonce and the message's sequence number, so the parent reads it with `ast.literal_eval`, which
runs no code. The key is fresh for every run and reaches the child on stdin; the child keeps it
only inside its guard (graders.engine.guard). A line that does not verify (anything learner code
wrote
to the pipe, a line from another run, a replayed or reordered line) is counted and dropped.
"""

from __future__ import annotations

import ast
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the guard's snapshot covers this module's namespace
    from typing import Any

KEY_BYTES = 32
MAX_MESSAGE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Secret:
    """What the parent hands a grading process on stdin: the MAC key and the run's nonce."""

    key: bytes
    nonce: str

    @classmethod
    def new(cls) -> Secret:
        return cls(secrets.token_bytes(KEY_BYTES), secrets.token_hex(8))

    def encode(self) -> bytes:
        return f"{self.key.hex()} {self.nonce}\n".encode("ascii")

    @classmethod
    def decode(cls, line: bytes) -> Secret:
        key, nonce = line.decode("ascii").split()
        return cls(bytes.fromhex(key), nonce)


def sealer(key: bytes) -> Callable[[tuple[object, ...]], bytes]:
    """A function that seals a body into one line, built only from C-level primitives.

    The child calls it after learner code has run, so it must not look anything up in a module
    that code could have patched: sha256, b2a_base64 and repr are captured here, and the key
    lives only in this closure, as the two padded keys of RFC 2104.
    """
    sha256 = hashlib.sha256
    b64 = binascii.b2a_base64
    block = key.ljust(64, b"\0")
    inner_key = bytes(b ^ 0x36 for b in block)
    outer_key = bytes(b ^ 0x5C for b in block)

    def seal(body: tuple[object, ...], _repr: Callable[[object], str] = repr) -> bytes:
        data = _repr(body).encode("utf-8")
        mac = sha256(outer_key + sha256(inner_key + data).digest()).hexdigest()
        return mac.encode("ascii") + b" " + b64(data, newline=True)

    return seal


@dataclass
class Opened:
    """The messages of one run that verified, in order, and what was wrong with the rest."""

    messages: list[tuple[Any, ...]] = field(default_factory=list)  # literals, checked by reader
    rejected: list[str] = field(default_factory=list)


def unseal(secret: Secret, data: bytes) -> Opened:
    """Verify every line of `data`; keep the bodies that carry this run's nonce, in sequence."""
    opened = Opened()
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        body = _verify(secret.key, line)
        if body is None:
            opened.rejected.append(f"line {number} is not signed by the grading process")
        elif body[0] != secret.nonce or body[1] != len(opened.messages):
            opened.rejected.append(f"line {number} is out of sequence or from another run")
        else:
            opened.messages.append(body[2:])
    return opened


def _verify(key: bytes, line: bytes) -> tuple[Any, ...] | None:
    mac, _, encoded = line.partition(b" ")
    if len(line) > MAX_MESSAGE_BYTES:
        return None
    try:
        data = binascii.a2b_base64(encoded)
    except binascii.Error:
        return None
    want = hmac.new(key, data, hashlib.sha256).hexdigest().encode("ascii")
    if not hmac.compare_digest(mac, want):
        return None
    try:
        body = ast.literal_eval(data.decode("utf-8"))
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError):
        return None
    if type(body) is not tuple or len(body) < 3 or type(body[1]) is not int:
        return None
    return body

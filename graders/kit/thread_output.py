"""Capturing printed output per thread, so a grader can tell which thread printed which line.

A combined stdout cannot say whether a worker printed "Thread-0: downloading ..." itself or the
main thread printed it for it. `ThreadOutput` swaps `sys.stdout` for a writer that files every
write under the thread that made it (the `threading.Thread` object, not its ident: idents are
reused once a thread ends), with the time it was written, and restores the old stream after.

Usage::

    with ThreadOutput() as out:
        mod.download_named(urls, out_dir)
    for thread, lines in out.lines_by_thread().items():
        ...

Learner code may monkeypatch `time` or `threading`; the functions used here are captured at
import time, so the records cannot be faked that way.
"""

from __future__ import annotations

import io
import sys
import threading
import time
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Line", "ThreadOutput"]

_clock = time.perf_counter
_current_thread = threading.current_thread
_Lock = threading.Lock


@dataclass(frozen=True)
class Line:
    """One line a thread printed (without its newline)."""

    text: str
    thread: threading.Thread
    time: float  # perf_counter when the line's first character was written
    order: int  # position of that write among all writes of the block


@dataclass(frozen=True)
class _Chunk:
    text: str
    thread: threading.Thread
    time: float
    order: int


class _ThreadWriter(io.TextIOBase):
    """The stand-in for sys.stdout: hands every write to its ThreadOutput."""

    def __init__(self, owner: ThreadOutput) -> None:
        super().__init__()
        self._owner = owner

    @property  # TextIOBase declares encoding as an attribute; a read-only property here
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._owner._add(text)
        return len(text)

    def flush(self) -> None:
        self._owner._flush_echo()


class ThreadOutput:
    """Context manager: while active, `sys.stdout` files each write under the writing thread.

    With ``echo=True`` every write also goes on to the stream that was replaced, so the output
    still shows up where it would have (for example in ``make check --verbose``). Thread-safe:
    any number of threads may print at once.
    """

    def __init__(self, *, echo: bool = False) -> None:
        self.echo = echo
        self._lock = _Lock()
        self._chunks: list[_Chunk] = []
        self._saved: TextIO | None = None

    def __enter__(self) -> ThreadOutput:
        if self._saved is not None:
            raise RuntimeError("this ThreadOutput is already active")
        self._saved = sys.stdout
        sys.stdout = _ThreadWriter(self)
        return self

    def __exit__(self, *exc: object) -> None:
        """Put the replaced stream back, even if the code inside replaced sys.stdout itself."""
        saved, self._saved = self._saved, None
        sys.stdout = saved

    # ----------------------------------------------------------------- what was printed

    def lines_by_thread(self) -> dict[threading.Thread, list[Line]]:
        """Each thread that printed, in order of its first write, with its lines in order.

        A thread's writes are joined before splitting at newlines, so ``print(a, b)`` (several
        writes) is one line; a last line without a newline is kept. Blank lines are dropped.
        """
        with self._lock:
            chunks = list(self._chunks)
        per_thread: dict[threading.Thread, list[_Chunk]] = {}
        for chunk in chunks:
            per_thread.setdefault(chunk.thread, []).append(chunk)
        return {thread: _split_lines(own) for thread, own in per_thread.items()}

    def lines(self, thread: threading.Thread) -> list[Line]:
        """The lines one thread printed (empty if it printed nothing)."""
        return self.lines_by_thread().get(thread, [])

    def text(self) -> str:
        """Everything printed, in write order, as one string."""
        with self._lock:
            return "".join(c.text for c in self._chunks)

    # ----------------------------------------------------------------- the writer's side

    def _add(self, text: str) -> None:
        thread = _current_thread()
        with self._lock:
            self._chunks.append(_Chunk(text, thread, _clock(), len(self._chunks)))
            saved = self._saved if self.echo else None
        if saved is not None and text:
            saved.write(text)

    def _flush_echo(self) -> None:
        saved = self._saved if self.echo else None
        if saved is not None:
            saved.flush()


def _split_lines(chunks: list[_Chunk]) -> list[Line]:
    """One thread's chunks as lines; each line is stamped with the chunk it began in."""
    lines: list[Line] = []
    text, first = "", None
    for chunk in chunks:
        for part in chunk.text.splitlines(keepends=True):
            if first is None:
                first = chunk
            text += part
            if part.endswith(("\n", "\r")):
                lines.append(Line(text.rstrip("\r\n"), chunk.thread, first.time, first.order))
                text, first = "", None
    if first is not None:
        lines.append(Line(text, first.thread, first.time, first.order))
    return [line for line in lines if line.text.strip()]

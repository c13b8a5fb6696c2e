"""Which threads the learner's code started, noted at `Thread.start` itself.

`ThreadStarts(files)` wraps `threading.Thread.start` while its block runs. A start counts as
the learner's when, walking out from the caller of `start`, the first frame that is not the
standard library's (or a site package's) is from the learner's files: their code started the
thread directly, or through a pool it made (`ThreadPoolExecutor.submit` starts its threads on
the caller's stack). The first such frame from the kit (or from a folder in `not_theirs`)
means someone else started it.

The record is made in the starting thread, before `start` returns, so it never depends on when
(or whether) the new thread gets to run: a worker that finds no job left, or one the
interpreter has not scheduled yet, is counted all the same.
"""

from __future__ import annotations

import _thread
import os
import sys
import threading
from collections.abc import Iterable
from types import FrameType
from typing import Any

__all__ = ["ThreadStarts"]

# Captured at import: learner code may monkeypatch these while a check runs.
_getframe = sys._getframe
_GRADERS_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class ThreadStarts:
    """Context manager: note every thread the learner's code starts inside the block.

    `threads` and `lines` (file, line of the learner's code that started it) grow together,
    in start order. Only a successful start is noted.
    """

    def __init__(self, files: Iterable[str], *, not_theirs: Iterable[str] = ()) -> None:
        self._files = frozenset(
            name for f in files for name in (f, os.path.abspath(f), os.path.realpath(f))
        )
        self._not_theirs = (_GRADERS_DIR, *not_theirs)
        self._lock = _thread.allocate_lock()  # learner threads may start threads at once
        self.threads: list[threading.Thread] = []
        self.lines: list[tuple[str, int]] = []
        self._previous: Any = None
        self._wrapper: Any = None

    def __enter__(self) -> ThreadStarts:
        previous = threading.Thread.__dict__["start"]
        starts = self

        def start(thread: threading.Thread) -> None:
            line = starts.learner_line(_getframe(1))
            previous(thread)
            if line is not None:
                starts._note(thread, line)

        start.__doc__ = previous.__doc__
        self._previous, self._wrapper = previous, start
        threading.Thread.start = start  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        # Put back only our own wrapper: a replacement by the learner's code stays, for the
        # grading process's guard to see.
        if threading.Thread.__dict__.get("start") is self._wrapper:
            threading.Thread.start = self._previous  # type: ignore[method-assign]

    def learner_line(self, frame: FrameType | None) -> tuple[str, int] | None:
        """Walk out from `frame` (start's caller): the learner's (file, line) if their code is
        the first found, None if the kit's (or a `not_theirs` folder's) is."""
        while frame is not None:
            name = frame.f_code.co_filename
            if name in self._files:
                return name, frame.f_lineno
            if name.startswith(self._not_theirs):
                return None
            frame = frame.f_back
        return None

    def _note(self, thread: threading.Thread, line: tuple[str, int]) -> None:
        with self._lock:
            self.threads.append(thread)
            self.lines.append(line)

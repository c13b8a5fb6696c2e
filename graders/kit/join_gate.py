"""Holding the learner's threads until their code joins them, so a missing join() shows.

A check's stand-ins run in no time, so a thread the learner's code starts but never joins would
usually have ended anyway when their function returns: the missing join() would show in some
runs only. `JoinGate` makes it show in every run: the check calls `gate.hold()` in each such
thread (before or after the learner's work, see `wrap`), and the thread waits there until

- some thread joins it with `join()` without a time limit (`join(timeout)` may return before
  the thread is done, so it must not make the thread quick), or
- the caller (the thread that made the gate: the one calling the learner's function) waits
  in another way, on anything built on a `threading.Condition` (an Event, a future's result,
  `executor.map`, a Barrier, a Queue), outside `Thread.start`: it waits for its threads'
  work, so they may go on; a thread is let go if the caller waits at any moment while it is
  held, however briefly, or
- the gate opens (the learner's function returned; `open()` or leaving the block), or
- `timeout` passes (code that waits for its threads some other way: slower, never wrong).

Joins and waits are noted when they happen (`Thread.join` and `Condition.wait` are wrapped
while the block runs), never looked for by polling, so the outcome does not depend on timing.
The caller itself is never held: nobody could join it.
"""

from __future__ import annotations

import _thread
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["JoinGate"]

# Captured at import: learner code may monkeypatch these while a check runs.
_current_thread = threading.current_thread
_clock = time.perf_counter
_getframe = sys._getframe
_wait = threading.Condition.wait  # the gate's own waits bypass the wrapper
_START = threading.Thread.start.__code__  # Thread.start waits for the new thread to run


class JoinGate:
    """Context manager: hold the threads that call `hold()` until they are joined (see the
    module's docstring for what lets a thread go)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.caller = _current_thread()
        self._cond = threading.Condition(_thread.allocate_lock())
        self._open = False
        self._joined: list[threading.Thread] = []  # joined without a time limit (by identity)
        self._waits = 0  # the caller's waits so far
        self._waiting = 0  # the caller's waits going on now
        self._saved: dict[str, Any] = {}
        self._wrappers: dict[str, Any] = {}

    def __enter__(self) -> JoinGate:
        join, wait = threading.Thread.__dict__["join"], threading.Condition.__dict__["wait"]
        self._saved = {"join": join, "wait": wait}
        self._wrappers = {"join": self._join_wrapper(join), "wait": self._wait_wrapper(wait)}
        threading.Thread.join = self._wrappers["join"]  # type: ignore[method-assign]
        threading.Condition.wait = self._wrappers["wait"]  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        # Put back only our own wrappers: a replacement by the learner's code stays, for the
        # grading process's guard to see.
        for owner, name in ((threading.Thread, "join"), (threading.Condition, "wait")):
            if owner.__dict__.get(name) is self._wrappers.get(name):
                setattr(owner, name, self._saved[name])
        self.open()

    # ---------------------------------------------------------------- what checks call

    def hold(self) -> None:
        """Called in a learner's thread: wait until it is joined (or let go, see above)."""
        me = _current_thread()
        if me is self.caller:
            return
        end = _clock() + self.timeout
        with self._cond:
            seen = self._waits
            while not (
                self._open
                or self._waiting
                or self._waits != seen
                or any(t is me for t in self._joined)
            ):
                left = end - _clock()
                if left <= 0:
                    return
                _wait(self._cond, left)

    def wrap(
        self, func: Callable[..., Any], *, hold_first: bool, name: str = ""
    ) -> Callable[..., Any]:
        """`func`, holding its thread before it runs (`hold_first`) or after it returned or
        raised; named `name` or func's name (Python names a thread after its target)."""

        def held(*args: Any, **kwargs: Any) -> Any:
            if hold_first:
                self.hold()
                return func(*args, **kwargs)
            try:
                return func(*args, **kwargs)
            finally:
                self.hold()

        held.__name__ = held.__qualname__ = name or getattr(func, "__name__", "held")
        return held

    def open(self) -> None:
        """Let every held thread go, and hold none from now on."""
        with self._cond:
            self._open = True
            self._cond.notify_all()

    # ---------------------------------------------------------------- what the wrappers note

    def _join_wrapper(self, join: Callable[..., Any]) -> Callable[..., Any]:
        gate = self

        def wrapper(thread: threading.Thread, *args: Any, **kwargs: Any) -> Any:
            if (args[0] if args else kwargs.get("timeout")) is None:
                with gate._cond:
                    gate._joined.append(thread)
                    gate._cond.notify_all()
            return join(thread, *args, **kwargs)

        wrapper.__doc__ = join.__doc__
        return wrapper

    def _wait_wrapper(self, wait: Callable[..., Any]) -> Callable[..., Any]:
        gate = self

        def wrapper(cond: threading.Condition, *args: Any, **kwargs: Any) -> Any:
            if _current_thread() is not gate.caller or _in_start(_getframe(1)):
                return wait(cond, *args, **kwargs)
            gate._caller_waits(1)
            try:
                return wait(cond, *args, **kwargs)
            finally:
                gate._caller_waits(-1)

        wrapper.__doc__ = wait.__doc__
        return wrapper

    def _caller_waits(self, step: int) -> None:
        with self._cond:
            self._waiting += step
            if step > 0:
                self._waits += 1
                self._cond.notify_all()


def _in_start(frame: Any) -> bool:
    """Is this wait part of `Thread.start` (which waits for the new thread to run)?"""
    while frame is not None:
        if frame.f_code is _START:
            return True
        frame = frame.f_back
    return False

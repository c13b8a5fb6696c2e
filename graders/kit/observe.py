"""Recording calls to a learner's function: which thread, when, and how many at once.

Suites wrap a function the learner's code calls through a module global (the given `worker`,
`increment`, `save_url`), so the evidence of concurrency comes from observation, not from the
clock: a latch that opens only when `latch` calls are running at the same moment proves they
overlapped, and its timeout turns "they ran one at a time" into a clear failure, never a hang.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from graders.kit import waitfor

_clock = time.perf_counter


@dataclass
class Call:
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    thread: threading.Thread  # the object, not its ident: idents are reused once a thread ends
    start: float
    end: float | None = None

    @property
    def thread_name(self) -> str:
        return self.thread.name

    @property
    def is_main_thread(self) -> bool:
        return self.thread is threading.main_thread()


class CallRecorder:
    """A stand-in for a function that records every call, then calls the original."""

    def __init__(self, func: Callable[..., Any], *, latch: int = 0, timeout: float = 1.0) -> None:
        self.func = func
        self.latch = latch
        self.timeout = timeout
        self.latch_filled = False
        self.peak_running = 0
        self._calls: list[Call] = []
        self._running = 0
        self._cond = threading.Condition(threading.Lock())
        self._given_up = False
        self._watched = False  # a held call looks at waitfor.quiet

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = Call(args, kwargs, threading.current_thread(), _clock())
        with self._cond:
            self._calls.append(call)
            self._running += 1
            self.peak_running = max(self.peak_running, self._running)
            self._wait_for_latch()
        try:
            return self.func(*args, **kwargs)
        finally:
            with self._cond:
                call.end = _clock()
                self._running -= 1
                self._cond.notify_all()

    def _wait_for_latch(self) -> None:
        """Hold this call until `latch` calls run at once; give up after `timeout`, or as soon
        as no other call can come (waitfor.quiet: the learner's other threads have ended or
        wait on held ones, as when each thread is joined right after its start). The first
        held call looks; giving up changes no verdict, only when it is known."""
        if self.latch <= 0 or self.latch_filled or self._given_up:
            return
        if self._running >= self.latch:
            self.latch_filled = True
            self._cond.notify_all()
            return
        probe, self._watched = (None if self._watched else waitfor.quiet), True
        end = _clock() + self.timeout
        ended = waitfor.wait_quietly(
            self._cond, lambda: self.latch_filled or self._given_up, lambda: end, probe
        )
        if ended != "done":
            self._given_up = True  # later calls run straight through: fail fast, not n times
            self._cond.notify_all()

    @property
    def calls(self) -> list[Call]:
        with self._cond:
            return list(self._calls)

    def wait_done(self, timeout: float) -> bool:
        """Wait until no recorded call is running (threads the learner forgot to join)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._running == 0, timeout=timeout)


def record(module: ModuleType, name: str, *, latch: int = 0, timeout: float = 1.0) -> CallRecorder:
    """Wrap `module.name` in a CallRecorder, installed until the module is thrown away."""
    recorder = CallRecorder(getattr(module, name), latch=latch, timeout=timeout)
    setattr(module, name, recorder)
    return recorder

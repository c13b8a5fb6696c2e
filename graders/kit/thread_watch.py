"""Watching the learner's threads: leaks, uncaught exceptions, and where a hung run is stuck.

`ThreadWatch` notes the threads alive when it starts, collects every exception that escapes a
thread (through `threading.excepthook`), and afterwards names the threads the learner left
running. `deadline` is the per-check time limit: like pytest-timeout's signal method it raises
in the main thread, and the failure carries a dump of where each learner thread was stuck.
"""

from __future__ import annotations

import gc
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import FrameType

from graders.kit import frames as _frames
from graders.kit.feedback import CheckFailed, describe_exception, display_path, location
from graders.kit.frames import current_frames

_enumerate = threading.enumerate
_clock = time.perf_counter
_gc_collect = gc.collect


def _collect() -> None:
    """Collect garbage now, before stray threads are waited for: a ThreadPoolExecutor the
    learner's code dropped without shutdown() ends its idle workers only when it is freed, and
    when it sits in a reference cycle that waits for the cyclic collector, whenever that runs.
    cpu_bound's mutant without shutdown then also failed a check of another requirement (its
    workers outlived the next call by the whole grace period) in 3 runs of 11 on 3.12 with
    both cores busy: when the collector ran was the verdict."""
    _gc_collect()


_REPORTING = frozenset({__file__, _frames.__file__})  # the report's own frames


@dataclass(frozen=True)
class ThreadError:
    """An exception that escaped one of the learner's threads."""

    thread: str
    exc: BaseException


class ThreadWatch:
    """Context manager that records thread leaks and exceptions raised inside threads."""

    def __init__(self, files: Iterable[str]) -> None:
        self.files = [str(f) for f in files]
        self.errors: list[ThreadError] = []
        self._before: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._previous_hook = threading.excepthook

    def __enter__(self) -> ThreadWatch:
        self._before = set(_enumerate())
        self._previous_hook = threading.excepthook
        threading.excepthook = self._hook
        return self

    def __exit__(self, *exc: object) -> None:
        threading.excepthook = self._previous_hook

    def _hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        if args.exc_value is None:  # threading calls the hook inside its except block
            raise RuntimeError("threading.excepthook was called without an exception")
        with self._lock:
            self.errors.append(ThreadError(name, args.exc_value))

    def settle(self, timeout: float) -> None:
        """Give threads started inside the block up to `timeout` seconds in all to finish.

        Checks call this before they leave the HTTP fixture, so that a thread the learner
        forgot to join finishes against the fixture and is judged by the check made for that
        (and never reaches the network or a deleted folder).
        """
        end = _clock() + timeout
        if self.leftover():
            _collect()  # see _collect
        for thread in self.leftover():
            thread.join(max(0.0, end - _clock()))

    def leftover(self) -> list[threading.Thread]:
        """Threads started inside the block that are still alive."""
        return [t for t in _enumerate() if t not in self._before and t.is_alive()]

    def raise_thread_errors(self) -> None:
        """Fail if any learner thread died with an exception."""
        if not self.errors:
            return
        first = self.errors[0]
        failure = describe_exception(first.exc, self.files, f"Your thread {first.thread}")
        more = len(self.errors) - 1
        details = (f"{more} more thread(s) failed too.",) if more else ()
        raise CheckFailed.from_feedback(replace(failure.feedback, details=details))

    def raise_leftovers(self, function: str) -> None:
        """Fail if threads the learner started are still running."""
        alive = self.leftover()
        if not alive:
            return
        names = ", ".join(t.name for t in alive[:5])
        raise CheckFailed(
            f"{len(alive)} of your threads were still running after the check ended",
            expected=f"every thread joined before {function} returns",
            got=f"still running: {names}",
            details=tuple(stack_lines(self.files, alive[:3])),
            hint="Start all the threads first, then call join() on each one.",
        )


def stack_lines(files: Iterable[str], threads: Iterable[threading.Thread]) -> Iterator[str]:
    """For each thread, the line of the learner's code it is executing right now (if any)."""
    wanted = set(files)
    frames = current_frames()
    for thread in threads:
        frame = frames.get(thread.ident or -1)
        spot = None
        for entry in traceback.extract_stack(frame) if frame else ():
            if entry.filename in wanted and entry.lineno:
                spot = (entry.filename, entry.lineno)
        if spot:
            yield f"{thread.name} is at {location(*spot)}"
        elif frame is not None:
            code = _below_this_module(frame).f_code
            yield f"{thread.name} is in {code.co_name}() ({display_path(code.co_filename)})"


def _below_this_module(frame: FrameType) -> FrameType:
    """The innermost frame outside this module: for the thread that reports (the deadline's
    handler runs in it), where it was when time ran out, not the report itself."""
    while frame.f_code.co_filename in _REPORTING and frame.f_back is not None:
        frame = frame.f_back
    return frame


class CheckTimeout(Exception):
    """Raised in the main thread when a check runs past its time limit."""


@contextmanager
def deadline(
    seconds: float,
    files: Iterable[str],
    what: str,
    explain: Callable[[], list[str]] | None = None,
) -> Iterator[None]:
    """Fail the check if the block runs longer than `seconds` (main thread only).

    Outside the main thread (or where SIGALRM does not exist) the block runs unbounded and the
    caller's own process-level limit applies. `explain`, called the moment time runs out
    (before anything unwinds), gives lines that open the failure's details (the wait-for
    graph's picture of who waits for whom).
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGALRM"):
        yield
        return
    files = list(files)
    notes: list[str] = []

    def on_alarm(signum: int, frame: object) -> None:
        if explain is not None:
            notes.extend(explain())
        # where each thread is, now: once the timeout unwinds, the main thread is in the report
        notes.extend(stack_lines(files, [t for t in _enumerate() if t.is_alive()]))
        raise CheckTimeout()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except CheckTimeout:
        raise _timeout_failure(seconds, what, notes) from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _timeout_failure(seconds: float, what: str, notes: Iterable[str] = ()) -> CheckFailed:
    details = list(notes)
    hint = (
        "A thread that waits for itself, a join() on a thread that never started, or a lock "
        "that is never released can hang forever."
    )
    return CheckFailed(
        f"{what} did not finish within {seconds:g} s",
        details=details or ("No thread was inside your code when time ran out.",),
        hint=hint,
        kind="timeout",
    )

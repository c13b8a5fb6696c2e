"""A live wait-for graph of the learner's threads, during every check.

`WaitGraph(files)` is entered around one check (graders.engine.runner). While it is active:

- every lock the learner's code creates is tracked (graders.kit.waitfor.tracked): Lock and RLock,
  and the locks inside the Condition, Semaphore, Event, Barrier and Queue it creates; joins
  without a time limit are tracked too;
- a watchdog (one background thread for the whole process, started with `_thread` so that it
  is never one of the threads a check counts) looks at the graph every LOOK seconds and, as
  soon as the learner's threads are provably stuck (graders.kit.waitfor.graph), fails the check
  with the story of who waits for whom (graders.kit.waitfor.story): the stuck threads are stopped
  (SystemExit in a worker thread, the CheckFailed itself in the checking thread);
- a lock-order inversion (two threads nesting the same two locks in opposite orders) fails the
  check even when this run did not hang.

A hang the graph cannot see (an endless loop, a long sleep, a wait on something untracked)
still ends at the check's time limit (graders.kit.thread_watch.deadline).
`THREADKIT_WAITFOR=0` turns all of this off (to measure what it costs).
"""

from __future__ import annotations

import _thread
import os
import time
from collections.abc import Iterable

from graders.kit.feedback import CheckFailed
from graders.kit.waitfor import tracked
from graders.kit.waitfor.graph import Graph
from graders.kit.waitfor.holds import (
    QUIET_LOOK,
    Quiet,
    Stillness,
    blocked,
    held_by_kit,
    holds_learner_lock,
    quiet,
    quiet_alone,
    wait_quietly,
)

__all__ = [
    "ENV_SWITCH",
    "QUIET_LOOK",
    "Quiet",
    "Stillness",
    "WaitGraph",
    "blocked",
    "held_by_kit",
    "holds_learner_lock",
    "quiet",
    "quiet_alone",
    "wait_quietly",
]

ENV_SWITCH = "THREADKIT_WAITFOR"
LOOK = 0.04  # seconds between two looks of the watchdog
STOP_GRACE = 1.0  # seconds the stopped threads get to end before the check reports
_sleep = time.sleep
_clock = time.perf_counter


class WaitGraph:
    """Context manager: track the learner's locks and waits while the block runs.

    On exit it restores threading, then raises the verdict (stuck threads) or the lock-order
    inversion, if any, in place of whatever the block raised or returned.
    """

    def __init__(self, files: Iterable[str]) -> None:
        self.files = [str(f) for f in files]
        self.graph: Graph | None = None

    def __enter__(self) -> WaitGraph:
        if os.environ.get(ENV_SWITCH, "1") == "0":
            return self
        graph = Graph(self.files)
        if tracked.install(graph):
            self.graph = graph
            _Watchdog.serve(graph)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        graph = self.graph
        if graph is None:
            return
        self.graph = None
        graph.closed = True
        tracked.uninstall(graph)
        _Watchdog.serve(None)
        if graph.verdict is not None:
            _let_stopped_threads_end(graph)
            raise CheckFailed.from_feedback(graph.verdict) from None
        if graph.inversion is not None and exc_type is not KeyboardInterrupt:
            from graders.kit.waitfor.story import inversion_failure

            raise inversion_failure(graph, graph.inversion) from None

    def waits_now(self) -> list[str]:
        """Who waits for whom at this moment (for the time limit's report); never raises."""
        graph = self.graph
        if graph is None:
            return []
        from graders.kit.waitfor.story import waits_now

        try:
            return waits_now(graph)
        except Exception:  # noqa: BLE001 - a nicety: the timeout report stands without it
            return []


def _let_stopped_threads_end(graph: Graph) -> None:
    """The stuck threads were told to stop: give them a moment, so none leaks into the next
    check (they leave their polling loop within graph.POLL)."""
    stuck = graph.stuck.threads if graph.stuck is not None else set()
    end = _clock() + STOP_GRACE
    for thread in stuck:
        if thread is not graph.checker:
            tracked.original_join(thread, max(0.0, end - _clock()))


class _Watchdog:
    """One background `_thread` for the process: looks at the active graph every LOOK s."""

    _bell = _thread.allocate_lock()  # released to wake the watchdog when a graph starts
    _graph: Graph | None = None
    _started = False
    _start_lock = _thread.allocate_lock()

    @classmethod
    def serve(cls, graph: Graph | None) -> None:
        cls._graph = graph
        if graph is None:
            return
        with cls._start_lock:
            if not cls._started:
                cls._bell.acquire()
                _thread.start_new_thread(cls._run, ())
                cls._started = True
        if cls._bell.locked():
            try:
                cls._bell.release()
            except RuntimeError:
                pass

    @classmethod
    def _run(cls) -> None:
        while True:
            graph = cls._graph
            if graph is None:
                cls._bell.acquire()  # sleep until the next graph starts
                continue
            _sleep(LOOK)
            if graph is cls._graph:
                try:
                    graph.look()
                except Exception as exc:  # noqa: BLE001 - never a false verdict: stop looking
                    graph.error = exc
                    graph.closed = True

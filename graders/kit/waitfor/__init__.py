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
import contextlib
import os
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator

from graders.kit.feedback import CheckFailed
from graders.kit.waitfor import tracked
from graders.kit.waitfor.graph import Graph

__all__ = ["ENV_SWITCH", "QUIET_LOOK", "Quiet", "Stillness", "WaitGraph", "held_by_kit", "quiet"]

ENV_SWITCH = "THREADKIT_WAITFOR"
LOOK = 0.04  # seconds between two looks of the watchdog
STOP_GRACE = 1.0  # seconds the stopped threads get to end before the check reports
_sleep = time.sleep
_clock = time.perf_counter
_current_thread = threading.current_thread  # captured: learner code may monkeypatch threading


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


# The kit's own holds (an HTTP latch, a stalled pop) ask whether any thread could still come
# and end them. Quiet: a token that stays the same while nothing moves, or None (someone can).
Quiet = Callable[[], "Hashable | None"]
QUIET_LOOK = 0.02  # seconds between two looks of a hold at `quiet`
_kit_held: dict[int, threading.Thread] = {}  # thread ident -> thread, while a kit hold has it
_kit_held_lock = _thread.allocate_lock()


@contextlib.contextmanager
def held_by_kit() -> Iterator[None]:
    """While the block runs, the calling thread is held by the kit (a latch, a stall): `quiet`
    counts it as waiting for an arrival, whichever instrument asks."""
    me = _current_thread()
    with _kit_held_lock:
        _kit_held[me.ident or 0] = me
    try:
        yield
    finally:
        with _kit_held_lock:
            _kit_held.pop(me.ident or 0, None)


def quiet() -> Hashable | None:
    """Whether no thread of the running check can still go on, the ones the kit holds aside
    (see Graph.quiet): a token that stays the same while nothing moves, or None. Always None
    when no wait-for graph is active (outside a check, or with THREADKIT_WAITFOR=0)."""
    graph = _Watchdog._graph
    if graph is None or graph.closed:
        return None
    with _kit_held_lock:
        held = dict(_kit_held)
    progress = graph.quiet(held.values())
    return None if progress is None else (progress, frozenset(held))


class Stillness:
    """Looks at a Quiet probe; settled once two looks in a row agree (nothing moved between
    them). A probe that fails answers None: no answer never ends a hold."""

    def __init__(self, probe: Quiet) -> None:
        self.probe = probe
        self.last: Hashable | None = None

    def settled(self) -> bool:
        try:
            now = self.probe()
        except Exception:  # noqa: BLE001 - the hold's time limit stands
            now = None
        still = now is not None and now == self.last
        self.last = now
        return still


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

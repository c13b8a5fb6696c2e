"""The wait-for graph of one check: who holds which learner lock, who waits for what.

Tracked primitives (graders.kit.waitfor.tracked) report to the `Graph`: a lock taken, released, a
wait without a time limit begun or ended, a waiter notified. The watchdog calls `look()` every
few hundredths of a second. A thread is *stuck* when it waits and everything that could end its
wait is itself stuck or finished:

- a join ends when its thread ends;
- a lock taken by a `with` block, or any RLock, is released only by its holder;
- a plain Lock taken with acquire() may be released by any thread (a lock used as a signal),
  so a waiter is stuck only when every other thread is stuck or finished too;
- a Condition (and the Event, Semaphore, Barrier and Queue built on one) is notified by any
  thread.

The check's own thread counts as a thread that can still give anything unless it waits in a
tracked wait itself: the check may yet call the learner's code again. Threads that wait
on anything the graph cannot see (a sleep, I/O, the kit's latches, a SimpleQueue) count as
running. The decision needs two looks in a row that find the same stuck threads while no
wait began, ended or was notified in between (`progress` did not move), so a wait about to end
is never mistaken for one that cannot.
"""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from graders.kit import tracehooks
from graders.kit.feedback import CheckFailed, Feedback
from graders.kit.waitfor.futures import waiting_on_futures
from graders.kit.waitfor.tracked import (
    _MAKERS,
    NO_SITE,
    Site,
    ThreadState,
    TrackedLock,
    Waiter,
    _tls,
    original_join,
)

POLL = 0.03  # seconds between two looks of a blocked thread at the graph's verdict
_clock = time.perf_counter
_enumerate = threading.enumerate
_is_alive = threading.Thread.is_alive  # never a learner override, from any thread
_current_thread = threading.current_thread
# Frames of threading's own thread start-up (_bootstrap_inner is private, not in the stubs).
_THREAD_RUN = frozenset(
    {
        threading.Thread.run.__code__,
        threading.Thread._bootstrap_inner.__code__,  # type: ignore[attr-defined]
    }
)
_PULSE = threading.Event()  # always set: waiting on it "waits" without blocking (see block())
_PULSE.set()


@dataclass(frozen=True)
class Wait:
    """One wait without a time limit: on a lock, a thread (join) or a condition."""

    kind: str  # "lock" | "join" | "cond" | "latch" (held by the kit, see Graph.quiet)
    obj: Any  # TrackedLock | threading.Thread | threading.Condition
    site: Site  # the learner's line that waits
    op: str  # the call the learner made: "acquire", "join", "get", "wait", ...
    token: Any = None  # the Waiter of a condition wait


@dataclass(frozen=True)
class Order:
    """A thread took `inner` while it held `outer` (and `guards`, the other locks it held)."""

    thread: threading.Thread
    outer: TrackedLock
    outer_site: Site
    inner: TrackedLock
    inner_site: Site
    guards: frozenset[TrackedLock] = frozenset()


@dataclass
class Stuck:
    """What a look found: the stuck threads and everything needed to explain them."""

    threads: set[threading.Thread]
    waits: dict[threading.Thread, Wait]
    alive: set[threading.Thread]
    checker: threading.Thread
    seconds: float = 0.0


class Graph:
    """The state of one check's learner locks and waits, and the stuck-thread decision."""

    def __init__(self, files: Iterable[str]) -> None:
        self.files = tracehooks.file_spellings(files)
        self.closed = False
        self.progress = 0  # moves whenever a wait begins or ends, or a waiter is notified
        self.verdict: Feedback | None = None
        self.inversion: tuple[Order, Order] | None = None
        self.checker = _current_thread()
        self.before: set[threading.Thread] = set(_enumerate())
        self.started = _clock()
        self.waits: dict[ThreadState, Wait] = {}
        self.orders: dict[tuple[TrackedLock, TrackedLock], Order] = {}
        self.stuck: Stuck | None = None
        self.error: Exception | None = None  # what broke the watchdog's look, if anything
        self._lock = _thread.allocate_lock()
        self._last: tuple[int, frozenset[threading.Thread]] | None = None

    def forked(self) -> None:
        """In a process forked while this graph was active (multiprocessing's fork start
        method): the threads it knows are gone, and its lock may have been held at the fork
        by one of them, for good. Close it, with a lock of its own: every tracked primitive
        then acts as the real one (graders.kit.waitfor.tracked)."""
        self._lock = _thread.allocate_lock()
        self.closed = True

    # ------------------------------------------------------------------ where things happen

    def site(self, frame: FrameType | None) -> Site:
        """The innermost learner frame on the stack from `frame` out, and its f_lasti."""
        files = self.files
        f = frame
        while f is not None:
            if f.f_globals.get("__file__") in files:
                return (f, f.f_lasti)
            f = f.f_back
        return NO_SITE

    def creator(self, frame: FrameType) -> tuple[FrameType, int, str] | None:
        """Who is making a lock: (learner frame, line, maker) when it is the learner's."""
        maker = ""
        f: FrameType | None = frame
        while f is not None:
            found = _MAKERS.get(f.f_code)
            if found is None:
                break
            maker, f = found, f.f_back
        if self.closed or f is None or f.f_globals.get("__file__") not in self.files:
            return None
        return (f, f.f_lineno, maker)

    def me(self) -> ThreadState:
        state = getattr(_tls, "state", None)
        if state is None or state.graph is not self:
            state = ThreadState(self, _current_thread())
            _tls.state = state
        return state

    # ------------------------------------------------------------------ holding

    def nested(self, state: ThreadState, held: list[TrackedLock], lock: TrackedLock) -> None:
        """`lock` was taken while `held` were held: remember the order, note the first pair of
        locks two threads took in opposite orders. Two orders taken under a common third lock
        cannot deadlock (that lock keeps them apart): those are not an inversion."""
        thread = state.thread
        with self._lock:
            for outer in held:
                if outer is lock:
                    continue
                guards = frozenset(h for h in held if h is not outer and h is not lock)
                order = Order(thread, outer, outer.site, lock, lock.site, guards)
                known = self.orders.get((outer, lock))
                if known is None or (known.guards and not guards):
                    self.orders[(outer, lock)] = order
                other = self.orders.get((lock, outer))
                if (
                    other is not None
                    and other.thread is not thread
                    and not other.guards & guards
                    and self.inversion is None
                ):
                    self.inversion = (other, order)

    # ------------------------------------------------------------------ waiting

    def block(
        self, lock: TrackedLock, blocking: bool, timeout: float, frame: FrameType, scoped: bool
    ) -> bool:
        """acquire() on a lock that another thread holds."""
        real = lock._real
        if not blocking or timeout != -1 or self.closed:
            got = real.acquire(blocking, timeout)
            if got and not self.closed:
                lock._took(frame, scoped, self.me())
            return bool(got)
        self.wait_for_lock(lock, frame)
        if not self.closed:
            lock._took(frame, scoped, self.me())
        return True

    def wait_for_lock(self, lock: TrackedLock, frame: FrameType) -> None:
        """Take `lock`'s real lock, however long it takes (or until the verdict)."""
        real = lock._real
        state = self.me()
        self._begin(state, Wait("lock", lock, self.site(frame), "acquire"))
        # A ForcedInterleaving(hold_new_threads) releases the threads it holds back when the
        # thread it watches waits, which it sees as a call of one of threading's wait
        # functions: tell it, with a wait that ends at once.
        _PULSE.wait()
        try:
            self._take(real, state)
        finally:
            self._end(state)

    def wait_for_thread(self, thread: threading.Thread, frame: FrameType) -> None:
        """join() without a time limit."""
        state = self.me()
        self._begin(state, Wait("join", thread, self.site(frame), "join"))
        try:
            while True:
                original_join(thread, None if self.closed else POLL)
                if not _is_alive(thread):
                    return
                self._check(state)
        finally:
            self._end(state)

    def wait_for_notify(self, waiter: Waiter) -> None:
        """Condition.wait() without a time limit, blocked on its waiter lock."""
        state = self.me()
        site, op = _learner_call(self, waiter.frame)
        with self._lock:
            if waiter.woken:
                wait = None
            else:
                waiter.state = state
                wait = Wait("cond", waiter.cond, site, op, waiter)
                self.waits[state] = wait
                self.progress += 1
        try:
            self._take(waiter._real, state)
        finally:
            if wait is not None:
                self._end(state)

    def notified(self, waiter: Waiter) -> None:
        """notify() is releasing `waiter`: its thread no longer waits for a notify."""
        with self._lock:
            waiter.woken = True
            state = waiter.state
            if state is not None:
                wait = self.waits.get(state)
                if wait is not None and wait.token is waiter:
                    del self.waits[state]
                    self.progress += 1

    def _begin(self, state: ThreadState, wait: Wait) -> None:
        self._check(state)
        with self._lock:
            self.waits[state] = wait
            self.progress += 1

    def _end(self, state: ThreadState) -> None:
        with self._lock:
            if self.waits.pop(state, None) is not None:
                self.progress += 1

    def _take(self, real: Any, state: ThreadState) -> None:
        """Acquire `real` in short timed waits, stopping if the verdict comes; once the check
        is over (a thread it left behind), just block."""
        while not real.acquire(True, POLL):
            self._check(state)
            if self.closed:
                real.acquire()
                return

    def _check(self, state: ThreadState) -> None:
        """Raise in a thread the verdict says can never go on."""
        verdict = self.verdict
        if verdict is None:
            return
        if state.thread is self.checker:
            raise CheckFailed.from_feedback(verdict)
        raise SystemExit  # ends the learner's thread silently (threading ignores SystemExit)

    # ------------------------------------------------------------------ deciding

    def waiting(self, timeout: float = -1) -> tuple[int, dict[threading.Thread, Wait]]:
        """(progress, each waiting thread's wait) at one instant; no waits if the graph's lock
        was not had within `timeout` (the alarm handler may have interrupted its holder)."""
        if not self._lock.acquire(True, timeout):
            return self.progress, {}
        try:
            return self.progress, {state.thread: wait for state, wait in self.waits.items()}
        finally:
            self._lock.release()

    def quiet(self, held: Iterable[threading.Thread]) -> Hashable | None:
        """None while some thread of the check other than `held` can still go on; else a
        token of the graph's progress (two looks that return the same token saw nothing move
        between them).

        `held` are held by the kit (an HTTP latch, a stalled pop) until another thread comes,
        which only a thread that can go on could do: so quiet means every learner thread has
        finished, is held, or waits on something only held or stuck threads can end, a
        future included (graders.kit.waitfor.futures). The kit's holds then end at once
        instead of at their time limits (graders.kit.waitfor.quiet).
        """
        progress, waits = self.waiting()
        waits |= {t: Wait("latch", None, NO_SITE, "latch") for t in held}
        alive = {t for t in _enumerate() if _is_alive(t)}
        universe = {t for t in alive if t not in self.before} | {self.checker}
        futures = waiting_on_futures(t for t in universe & alive if t not in waits)
        waits |= {t: Wait("cond", None, NO_SITE, f.f_code.co_name) for t, f in futures.items()}
        stuck = stuck_threads(waits, universe, alive)
        if not universe & alive <= stuck:
            return None
        return progress, frozenset(id(frame) for frame in futures.values())

    def look(self) -> bool:
        """One look by the watchdog; True when it reached a verdict."""
        if self.verdict is not None or self.closed:
            return False
        progress, waits = self.waiting()
        if not waits:
            self._last = None
            return False
        alive = {t for t in _enumerate() if _is_alive(t)}
        universe = {t for t in alive if t not in self.before} | {self.checker}
        stuck = stuck_threads(waits, universe, alive)
        if not stuck:
            self._last = None
            return False
        key = (progress, frozenset(stuck))
        if self._last != key:
            self._last = key
            return False
        self.stuck = Stuck(stuck, waits, alive, self.checker, _clock() - self.started)
        from graders.kit.waitfor.story import explain, plain_verdict

        try:
            self.verdict = explain(self, self.stuck)
        except Exception:  # noqa: BLE001 - the threads are stuck all the same: say it plainly
            self.verdict = plain_verdict(self.stuck)
        return True


def stuck_threads(
    waits: dict[threading.Thread, Wait],
    universe: set[threading.Thread],
    alive: set[threading.Thread],
) -> set[threading.Thread]:
    """The threads whose waits can never end (the greatest set closed under "only stuck or
    finished threads can end my wait")."""
    stuck = {t for t in universe if t in waits}
    changed = True
    while changed and stuck:
        changed = False
        for thread in list(stuck):
            if _can_go_on(thread, waits[thread], stuck, universe, alive):
                stuck.discard(thread)
                changed = True
    return stuck


def _can_go_on(
    thread: threading.Thread,
    wait: Wait,
    stuck: set[threading.Thread],
    universe: set[threading.Thread],
    alive: set[threading.Thread],
) -> bool:
    """Can anything still end this wait, given who else is stuck?"""
    if wait.kind == "join":
        target = wait.obj
        return target not in alive or target not in stuck
    anyone = any(t is not thread and t not in stuck for t in universe if t in alive)
    if wait.kind != "lock":
        return anyone
    lock: TrackedLock = wait.obj
    holder = lock.holder
    if holder is None:
        return True
    owner = holder.thread
    if owner in alive and owner not in stuck:
        return True
    if lock.reentrant or lock.scoped:
        return False  # only the holder can let go, and it is stuck (or gone)
    return anyone  # a plain Lock taken with acquire(): any thread may release it


def _caller(depth: int) -> FrameType | None:
    import sys

    try:
        return sys._getframe(depth)
    except ValueError:
        return None


def _learner_call(graph: Graph, frame: FrameType) -> tuple[Site, str]:
    """The learner's line above `frame`, and the name of the library call it made there (for
    a thread whose target is a library function, such as `target=jobs.get`: that function)."""
    op = frame.f_code.co_name
    f: FrameType | None = frame
    while f is not None:
        if f.f_globals.get("__file__") in graph.files:
            return (f, f.f_lasti), op
        if f.f_code in _THREAD_RUN:
            break
        op = f.f_code.co_name
        f = f.f_back
    return NO_SITE, op

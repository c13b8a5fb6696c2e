"""Stand-ins for the learner's locks, installed in `threading` while one check runs.

`install(graph)` replaces `threading.Lock`, `threading.RLock`, `threading._allocate_lock` (the
waiter lock inside `Condition.wait`) and `threading.Thread.join`; `uninstall()` puts the
originals back, so that the guard (graders.engine.guard.WATCHED) finds threading unchanged at every
report. Only objects created by the learner's own code become tracked: a lock made directly by
a learner frame, or by the constructor of a Condition, Semaphore, Event, Barrier or Queue that
a learner frame called. Everything else (the kit's own latches, requests, executors, the
`Event` inside every Thread) gets the real primitive, untouched.

A tracked lock is a real lock plus a record of who holds it and where they took it. A wait
that would block without a time limit becomes a loop of short timed waits on the real
primitive, so that the graph knows the thread waits, and the thread can be told to stop when
the graph proves it never can go on. Timed waits and non-blocking calls are passed through.
"""

from __future__ import annotations

import _thread
import os
import queue
import sys
import threading
from collections.abc import Generator
from types import CodeType, FrameType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from graders.kit.waitfor.graph import Graph

_allocate = _thread.allocate_lock
# _CRLock is None where _thread has no RLock; then the private _PyRLock (not in the stubs).
_RealRLock: Any = (
    getattr(threading, "_CRLock", None) or threading._PyRLock  # type: ignore[attr-defined]
)
_getframe = sys._getframe
_ORIGINALS: dict[str, Any] = {
    "Lock": threading.Lock,
    "RLock": threading.RLock,
    "_allocate_lock": threading._allocate_lock,  # type: ignore[attr-defined]  # private, patched
}
_original_join = threading.Thread.join
_is_alive = threading.Thread.is_alive  # never a learner override, from any thread
_COND_WAIT: CodeType = threading.Condition.wait.__code__

# Constructors that make locks on behalf of their caller: the lock belongs to whoever called
# them (the learner, when a learner frame called `threading.Event()`).
_MAKERS: dict[CodeType, str] = {
    threading.Condition.__init__.__code__: "Condition",
    threading.Semaphore.__init__.__code__: "Semaphore",
    threading.BoundedSemaphore.__init__.__code__: "Semaphore",
    threading.Event.__init__.__code__: "Event",
    threading.Barrier.__init__.__code__: "Barrier",
    queue.Queue.__init__.__code__: "Queue",
}

Site = tuple[FrameType | None, int]  # a learner frame and its f_lasti then (see line_of)
NO_SITE: Site = (None, -1)
_active: list[Graph] = []  # the graph of the check running now (at most one)
_tls = _thread._local()  # .state: this thread's ThreadState in the active graph


def line_of(site: Site) -> int:
    """The line number of a site (the line is worked out only when a report needs it)."""
    frame, lasti = site
    if frame is None:
        return 0
    for start, end, line in frame.f_code.co_lines():
        if start <= lasti < end:
            return line or 0
    return frame.f_lineno or 0


def _callers() -> Generator[FrameType | None, Any, None]:
    """Frames of the code that resumes this generator, found without sys._getframe.

    While a generator runs, its frame's f_back is the frame that resumed it, so `send(n)`
    returns the frame n calls above the one that called send(). sys._getframe would do the
    same, but every call of it is an audit event that the grading process's guard inspects
    (microseconds, on the hottest path of all: `with lock:` in a loop); f_back is not.
    """
    own: FrameType = yield None
    depth: int = yield None
    while True:
        frame = own.f_back
        for _ in range(depth):
            frame = frame.f_back if frame is not None else None
        depth = yield frame


def new_callers() -> Generator[FrameType, int, None]:
    """A started `_callers` generator (one per thread: a generator runs in one thread at once).

    Its priming yields (None) are spent here; after them, `send(n)` yields the frame n calls up,
    which exists for every caller in this module (a lock method always has a caller above it).
    """
    gen = _callers()
    next(gen)
    gen.send(gen.gi_frame)  # type: ignore[attr-defined]  # a generator object's own frame
    return cast("Generator[FrameType, int, None]", gen)


class ThreadState:
    """What the graph knows of one thread: the tracked locks it holds, in the order taken."""

    __slots__ = ("graph", "thread", "held", "callers")

    def __init__(self, graph: Graph, thread: threading.Thread) -> None:
        self.graph = graph
        self.thread = thread
        self.held: list[TrackedLock] = []
        self.callers = new_callers()  # used only by this thread


class TrackedLock:
    """A `threading.Lock` the learner created: the real lock, its holder and where it was taken.

    The fast path (the lock is free) costs one frame look-up and a few attribute stores; the
    holder's line is kept as (frame, f_lasti) and turned into a line number only for a report.
    """

    __slots__ = (
        "_real",
        "graph",
        "home",
        "holder",
        "site",
        "scoped",
        "released_at",
        "created",
        "__weakref__",
    )
    reentrant = False

    def __init__(self, graph: Graph, created: tuple[FrameType, int, str]) -> None:
        self._real: Any = _allocate()
        self.graph = graph
        self.home = created[0].f_globals  # the learner module's namespace: its frames are "ours"
        self.holder: ThreadState | None = None
        self.site: Site = NO_SITE  # where the holder took it
        self.scoped = False  # taken by a `with` block (so only the holder will release it)
        self.released_at: Site = NO_SITE  # where the last release ran
        self.created = created  # (learner frame, line, maker: "" or "Queue", "Event", ...)

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._real.acquire(False):
            graph = self.graph
            if not graph.closed:
                state = getattr(_tls, "state", None)
                if state is None or state.graph is not graph:
                    state = graph.me()
                try:
                    frame = state.callers.send(1)  # this method's caller
                except (StopIteration, ValueError):  # a signal ended it mid-run: start anew
                    state.callers, frame = new_callers(), _getframe(1)
                self._took(frame, False, state)
            return True
        return self.graph.block(self, blocking, timeout, _getframe(1), False)

    def __enter__(self) -> bool:
        # The hottest path of all (`with lock:` in a loop): _took inlined.
        if self._real.acquire(False):
            graph = self.graph
            if not graph.closed:
                state = getattr(_tls, "state", None)
                if state is None or state.graph is not graph:
                    state = graph.me()
                try:
                    frame = state.callers.send(1)
                except (StopIteration, ValueError):
                    state.callers, frame = new_callers(), _getframe(1)
                if frame.f_globals is self.home:
                    self.site = (frame, frame.f_lasti)
                else:
                    self.site = graph.site(frame)
                self.scoped = True
                held = state.held
                if held:
                    graph.nested(state, held, self)
                held.append(self)
                self.holder = state
            return True
        return self.graph.block(self, True, -1, _getframe(1), True)

    def _took(self, frame: FrameType, scoped: bool, state: ThreadState) -> None:
        """The real lock was just taken by this thread, called from `frame`: note the holder."""
        graph = self.graph
        if frame.f_globals is self.home:
            self.site = (frame, frame.f_lasti)
        else:
            self.site = graph.site(frame)
        self.scoped = scoped
        held = state.held
        if held:
            graph.nested(state, held, self)
        held.append(self)
        self.holder = state

    def release(self) -> None:
        holder = self.holder
        if holder is not None:  # noted before the real release: the record never lags
            if getattr(_tls, "state", None) is holder:
                frame = self.site[0]
                if frame is not None:
                    self.released_at = (frame, frame.f_lasti)
            else:  # a Lock released by another thread than its holder (allowed)
                self.released_at = self.graph.site(_getframe(1))
            self._let_go(holder)
        self._real.release()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        holder = self.holder
        if holder is not None:  # a `with` block ends in the thread that entered it
            self.holder = None
            held = holder.held
            if held and held[-1] is self:
                held.pop()
            elif self in held:
                held.remove(self)
        self._real.release()

    def _let_go(self, holder: ThreadState) -> None:
        """The lock is about to be released: it has no holder any more."""
        self.holder = None
        held = holder.held
        if held and held[-1] is self:
            held.pop()
        elif self in held:
            held.remove(self)

    def locked(self) -> bool:
        locked: bool = self._real.locked()
        return locked

    def _is_owned(self) -> bool:
        """What Condition asks of a plain lock (its own fallback: "is it locked at all")."""
        owned: bool = self._real.locked()
        return owned

    def _at_fork_reinit(self) -> None:
        self._real._at_fork_reinit()
        self.holder = None

    def __repr__(self) -> str:
        state = "locked" if self._real.locked() else "unlocked"
        return f"<{state} _thread.lock object at {id(self):#x}>"


class TrackedRLock(TrackedLock):
    """A `threading.RLock` the learner created; only its holder can release it."""

    __slots__ = ("depth",)
    reentrant = True

    def __init__(self, graph: Graph, created: tuple[FrameType, int, str]) -> None:
        super().__init__(graph, created)
        self._real = _RealRLock()
        self.depth = 0  # changed only by the holder

    def __enter__(self) -> bool:
        if self._real.acquire(False):
            graph = self.graph
            if not graph.closed:
                state = getattr(_tls, "state", None)
                if state is None or state.graph is not graph:
                    state = graph.me()
                try:
                    frame = state.callers.send(1)
                except (StopIteration, ValueError):
                    state.callers, frame = new_callers(), _getframe(1)
                self._took(frame, True, state)
            return True
        return self.graph.block(self, True, -1, _getframe(1), True)

    def _took(self, frame: FrameType, scoped: bool, state: ThreadState) -> None:
        self.depth += 1
        if self.depth == 1:
            super()._took(frame, scoped, state)

    def release(self) -> None:
        if not self._real._is_owned():
            self._real.release()  # raises RuntimeError, as RLock does
        self.depth -= 1
        holder = self.holder
        if self.depth <= 0 and holder is not None:
            self.depth = 0
            frame = self.site[0]
            if frame is not None:
                self.released_at = (frame, frame.f_lasti)
            self._let_go(holder)
        self._real.release()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.release()

    def locked(self) -> bool:
        return self.holder is not None

    def _is_owned(self) -> bool:
        owned: bool = self._real._is_owned()
        return owned

    def _release_save(self) -> tuple[Any, int, Site, bool]:
        """Condition.wait: let go of every level at once (remembered for `_acquire_restore`)."""
        if not self._real._is_owned():
            raise RuntimeError("cannot release un-acquired lock")
        saved = (self.depth, self.site, self.scoped)
        self.depth = 0
        holder = self.holder
        if holder is not None:
            self._let_go(holder)
        return (self._real._release_save(), *saved)

    def _acquire_restore(self, saved: tuple[Any, int, Site, bool]) -> None:
        """Condition.wait: take the lock back, at the depth it had, waiting as long as needed."""
        state, depth, site, scoped = saved
        if not self._real.acquire(False):
            self.graph.wait_for_lock(self, _getframe(1))
        for _ in range(state[0] - 1):
            self._real.acquire()
        if not self.graph.closed:
            self._took(_getframe(1), scoped, self.graph.me())
            self.site = site
        self.depth = depth

    def __repr__(self) -> str:
        return f"<tracked RLock depth={self.depth} at {id(self):#x}>"


class Waiter:
    """The lock one `Condition.wait` call blocks on; `notify` releases it.

    Made by the patched `threading._allocate_lock` when a tracked condition waits, so the graph
    sees the wait begin, and sees which waiter `notify` wakes.
    """

    __slots__ = ("_real", "graph", "cond", "frame", "state", "woken")

    def __init__(self, graph: Graph, cond: threading.Condition, frame: FrameType) -> None:
        self._real: _thread.LockType = _allocate()
        self.graph = graph
        self.cond = cond
        self.frame = frame  # the Condition.wait frame (its callers lead to the learner's line)
        self.state: ThreadState | None = None  # the waiting thread, once it blocks
        self.woken = False

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._real.acquire(False):
            return True
        if not blocking or timeout != -1 or self.graph.closed:
            return self._real.acquire(blocking, timeout)
        self.graph.wait_for_notify(self)
        return True

    def release(self) -> None:
        self.graph.notified(self)
        self._real.release()

    def locked(self) -> bool:
        return self._real.locked()


def _new_lock(frame: FrameType) -> Any:
    """A lock for the code in `frame`: tracked if the learner's code is making it."""
    graph = _active[0] if _active else None
    created = graph.creator(frame) if graph is not None else None
    if created is None:
        return _allocate()
    return TrackedLock(graph, created)  # type: ignore[arg-type]


def _make_lock() -> Any:
    """`threading.Lock()` while a check runs, where threading.Lock is a function (to 3.12)."""
    return _new_lock(_getframe(1))


_RealLockType: type = type(_allocate())


class _LockClass(type):
    """The type of the stand-in for `threading.Lock` where threading.Lock is a class (3.13:
    `_thread.lock`), so that learner code sees a class there too: calling it makes a lock
    (tracked when the learner's code makes it), and `isinstance(x, threading.Lock)` is true of
    a real lock and of a tracked one, as it is of any lock without the graph."""

    def __call__(cls) -> Any:
        return _new_lock(_getframe(1))

    def __instancecheck__(cls, obj: object) -> bool:
        return cls.__subclasscheck__(type(obj))

    def __subclasscheck__(cls, sub: type) -> bool:
        kinds = (_RealLockType, TrackedLock, Waiter)
        return issubclass(sub, kinds) and not issubclass(sub, TrackedRLock)

    def __getattr__(cls, name: str) -> Any:
        return getattr(_RealLockType, name)  # threading.Lock.acquire and the like

    def __repr__(cls) -> str:
        return repr(_RealLockType)


class _Lock(metaclass=_LockClass):
    """`threading.Lock` while a check runs, where it is a class (see _LockClass)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        raise TypeError(f"type {_RealLockType.__qualname__!r} is not an acceptable base type")


def _make_rlock(*args: Any, **kwargs: Any) -> Any:
    """`threading.RLock()` while a check runs."""
    graph = _active[0] if _active else None
    created = graph.creator(_getframe(1)) if graph is not None else None
    if created is None:
        return _ORIGINALS["RLock"](*args, **kwargs)
    return TrackedRLock(graph, created)  # type: ignore[arg-type]


def _allocate_waiter() -> Any:
    """`threading._allocate_lock()` while a check runs: a Waiter for a tracked condition."""
    graph = _active[0] if _active else None
    if graph is None or graph.closed:
        return _allocate()
    frame = _getframe(1)
    if frame.f_code is not _COND_WAIT:
        return _allocate()
    cond = frame.f_locals.get("self")
    lock = getattr(cond, "_lock", None)
    if not isinstance(lock, TrackedLock) or lock.graph is not graph:
        return _allocate()
    return Waiter(graph, cond, frame)  # type: ignore[arg-type]


def _join(self: threading.Thread, timeout: float | None = None) -> None:
    """`Thread.join` while a check runs: a join without a time limit is a wait in the graph."""
    graph = _active[0] if _active else None
    if timeout is not None or graph is None or graph.closed:
        return _original_join(self, timeout)
    _original_join(self, 0)  # raises what join raises (not started, joining itself)
    if _is_alive(self):
        graph.wait_for_thread(self, _getframe(1))
    return None


_join.__doc__ = _original_join.__doc__
_PATCHES: dict[str, Any] = {
    # the stand-in has the shape of the original: a class on 3.13, a function before
    "Lock": _Lock if isinstance(_ORIGINALS["Lock"], type) else _make_lock,
    "RLock": _make_rlock,
    "_allocate_lock": _allocate_waiter,
}


def install(graph: Graph) -> bool:
    """Make `graph` the active one and patch threading; False if another graph is active."""
    if _active:
        return False
    _active.append(graph)
    for name, patch in _PATCHES.items():
        setattr(threading, name, patch)
    threading.Thread.join = _join  # type: ignore[method-assign]
    return True


def uninstall(graph: Graph) -> None:
    """Put threading back as it was (where the learner's code did not replace it meanwhile:
    a replacement stays, for the guard to see)."""
    for name, patch in _PATCHES.items():
        if getattr(threading, name, None) is patch:
            setattr(threading, name, _ORIGINALS[name])
    if threading.Thread.__dict__.get("join") is _join:
        threading.Thread.join = _original_join  # type: ignore[method-assign]
    if _active and _active[0] is graph:
        _active.clear()


def _after_fork_in_child() -> None:
    """A child forked while a check ran must not wait through the parent's graph: found hung
    at its exit, where multiprocessing joins a queue's feeder thread, on the graph's lock
    that a thread of the parent held at the fork (cpu_bound, about once in 100 busy runs)."""
    for graph in _active:
        graph.forked()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def original_join(thread: threading.Thread, timeout: float | None) -> None:
    """The real Thread.join (the graph's own waits use it)."""
    _original_join(thread, timeout)

"""Forced thread interleavings, so graders find races deterministically.

On CPython 3.10-3.13 the interpreter only switches threads at calls and backward jumps, so a
plain stress run never loses an update in ``new = counter + 1; counter = new`` (docs/design.md,
fact 1).
:class:`ForcedInterleaving` makes the schedule hostile, but only inside the learner's files:

1. **Seeded opcode yields.** A trace function turns on opcode events for learner frames and,
   with probability ``yield_probability`` per opcode (per-thread ``random.Random`` seeded from
   ``seed``), releases the GIL with ``time.sleep(0)`` (docs/design.md, fact 2).
2. **Watched globals.** Reads (``LOAD_GLOBAL``/``LOAD_NAME``) and writes (``STORE_GLOBAL``/
   ``STORE_NAME``) of chosen module globals are logged, so a lost update can be explained:
   which thread read what, who wrote in between, and which line overwrote it.
3. **Stalling the last pop.** A profile hook sees ``list.pop``/``deque.pop(left)`` called from
   learner code on a container holding exactly one item and holds that thread until a second
   thread arrives at the same pop, which turns an unlocked check-then-pop into an
   ``IndexError`` every run (docs/design.md, fact 4). A correct pool never sends a second
   thread: the stall ends as soon as ``quiet`` (by default the wait-for graph's
   ``quiet_alone``) shows that no other thread can come (they wait on the lock the stalled one
   holds, or are done), else after ``stall_timeout``.
4. **Holding new threads.** Threads started from learner code do not run their first learner
   frame until the thread that entered the block waits (join, ``Event.wait``, futures, sleep,
   ...) or returns from learner code, which exposes late binding in ``lambda: f(url)``.
   Holding alone (no yields, no watched globals, no stall) traces a new thread only up to its
   hold: then it runs untraced, as fast as without the block, and threads it starts itself
   are not held. A held thread's calls into ``requests`` cost more under the tracer than the
   download they make.

Only the standard library is used (and graders.kit.tracehooks, which installs the hooks,
graders.kit.feedback, for the record a lost update becomes: ``LostUpdate.race()``, and
graders.kit.waitfor's ``quiet_alone``, which ends a stall no thread can answer), and the
functions it relies on are captured at import time because learner code may monkeypatch
``time`` or ``threading`` later.
"""

from __future__ import annotations

import _thread
import collections
import concurrent.futures
import concurrent.futures.thread
import dis
import linecache
import os
import queue
import random
import reprlib
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

from graders.kit import tracehooks, waitfor
from graders.kit.feedback import Action, Race, RaceStep

__all__ = ["Access", "ForcedInterleaving", "LostUpdate"]

# Captured at import: learner code may monkeypatch these modules while a grader runs it.
_perf_counter = time.perf_counter
_sleep = time.sleep
_get_ident = _thread.get_ident
_current_thread = threading.current_thread
_Condition = threading.Condition
_Lock = threading.Lock
_ThreadLocal = threading.local
_Random = random.Random
_LockType = _thread.LockType
_Deque = collections.deque
_SimpleQueue = queue.SimpleQueue
_sys_gettrace = sys.gettrace
_sys_getprofile = sys.getprofile
# Every install goes through tracehooks: on 3.10/3.11 two at once make one fail, and a new
# thread whose install fails ends before running its target (see graders.kit.tracehooks).
_settrace = tracehooks.settrace
_setprofile = tracehooks.setprofile
_settrace_new_threads = tracehooks.settrace_new_threads
_setprofile_new_threads = tracehooks.setprofile_new_threads
_gettrace_new_threads = tracehooks.gettrace_new_threads
_getprofile_new_threads = tracehooks.getprofile_new_threads
_remember_elsewhere = tracehooks.remember_elsewhere
_namespace_key = tracehooks.namespace_key
_code_in = tracehooks.code_in

TraceFunc = Callable[[FrameType, str, Any], Any]

_MAX_ACCESSES = 50_000  # accesses kept per block; later ones are only counted
_MAX_STALL_TIMEOUTS = 5  # stalls that may time out per block (bounds the cost on correct code)
_READ_OPS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS"})
_WRITE_OPS = frozenset({"STORE_GLOBAL", "STORE_NAME"})
# 3.10/3.11 report one opcode event at the first EXTENDED_ARG of a chain, none at the
# instruction it extends; 3.12+ report the extended instruction itself.
_EVENT_ON_EXTENDED_ARG = sys.version_info < (3, 12)
_PENDING = object()  # value of a write whose STORE has not been observed yet
# On 3.10 every trace/profile call copies a frame's locals *and closure cells* into f_locals
# before the call and writes them back after it. If the tracer blocked meanwhile (a yield, a
# stall, a hold), another thread's update of a shared cell (``nonlocal``, a loop variable
# captured by a lambda) would be overwritten with the stale copy: 24 of 30 runs of a correctly
# locked ``nonlocal`` counter came out wrong. So on 3.10 the last step of every trace call on
# a frame with cells reads ``frame.f_locals`` (which refreshes the copy), with no call after it
# (the GIL can only change hands at calls and backward jumps there). 3.11+ only copy when
# f_locals was read, so there it is never touched.
_RESYNC_CELLS = sys.version_info < (3, 11)
# How long a forced yield sleeps. On 3.11+ sleep(0) is a real nanosleep and hands the GIL
# over; on 3.10 it is a zero-timeout select() that returns before a waiting thread is
# scheduled, so on a loaded machine the yielding thread just took the GIL back (measured:
# 10-12 of 20 racy runs caught with both cores busy, 20/20 with a microsecond sleep).
_YIELD_SECONDS = 1e-6 if sys.version_info < (3, 11) else 0.0


def _code(func: Any) -> CodeType | None:
    """The code object behind a plain function or method, or None."""
    return getattr(func, "__code__", None)


# Python-level functions where the entering thread blocks (mechanism 4 releases held threads).
_WAIT_CODE_OBJECTS = tuple(
    c
    for c in (
        _code(threading.Thread.join),
        _code(threading.Condition.wait),
        _code(threading.Condition.wait_for),
        _code(threading.Event.wait),
        _code(threading.Barrier.wait),
        _code(threading.Semaphore.acquire),
        _code(queue.Queue.get),
        _code(queue.Queue.join),
        _code(concurrent.futures.Future.result),
        _code(concurrent.futures.Future.exception),
        _code(concurrent.futures.wait),
        _code(concurrent.futures.as_completed),
        _code(concurrent.futures.Executor.shutdown),
        _code(concurrent.futures.thread.ThreadPoolExecutor.shutdown),
    )
    if c is not None
)
_THREAD_START_CODE = _code(threading.Thread.start)
_SPECIAL_CODES = frozenset(c for c in (*_WAIT_CODE_OBJECTS, _THREAD_START_CODE) if c is not None)


@dataclass(frozen=True)
class Access:
    """One read or write of a watched global by learner code."""

    thread: str
    kind: str  # "read" | "write"
    value: object
    line: int
    source: str  # the stripped text of that line of the learner file


@dataclass(frozen=True)
class LostUpdate:
    """Thread A read a value, thread B wrote, then A wrote over B's write from its stale read."""

    name: str
    victim_read: Access
    other_write: Access
    victim_write: Access

    def race(self) -> Race:
        """The three steps as feedback data: plain strings and line numbers only."""
        read, write, over = self.victim_read, self.other_write, self.victim_write
        return Race(self.name, (_step(read, "read"), _step(write, "wrote"), _step(over, "wrote")))

    def describe(self) -> str:
        """One sentence for the learner: who read, who wrote in between, whose update was lost."""
        return self.race().describe()


def _step(access: Access, action: Action) -> RaceStep:
    """One access as a race step; str.__str__ turns a str subclass a repr returned into str."""
    value = str.__str__(reprlib.repr(access.value))
    return RaceStep(access.thread, action, value, access.line, access.source)


class _ThreadState:
    """What the tracer keeps per traced thread; only that thread writes to it."""

    __slots__ = (
        "thread",
        "order",
        "rng",
        "switches",
        "spans",
        "tracers",
        "pending",
        "is_main",
        "hold_epoch",
    )

    def __init__(self, thread: threading.Thread, order: int, seed: int, is_main: bool) -> None:
        self.thread = thread
        self.order = order
        self.rng = _Random(seed * 1_000_003 + order)
        self.switches = 0
        self.spans: dict[str, list[float | None]] = {}
        self.tracers: dict[int, tuple[CodeType, TraceFunc]] = {}
        self.pending: tuple[_Record, dict[str, Any]] | None = None
        self.is_main = is_main
        self.hold_epoch: int | None = None


@dataclass(slots=True)
class _Record:
    """One logged access, as the tracer writes it; ``value`` of a write is filled in later."""

    state: _ThreadState
    kind: str  # "read" | "write"
    name: str
    value: object  # _PENDING until known
    line: int
    filename: str


class _Gate:
    """A thread stalled before popping the last item of ``obj``."""

    __slots__ = ("obj", "released")

    def __init__(self, obj: object) -> None:
        self.obj = obj
        self.released = False


def _access_map(code: CodeType, watched: frozenset[str]) -> dict[int, tuple[str, str]]:
    """Offset (as seen in ``f_lasti`` at an opcode event) -> ("read"|"write", name)."""
    result: dict[int, tuple[str, str]] = {}
    prefix: int | None = None
    for ins in dis.get_instructions(code):
        if ins.opname == "EXTENDED_ARG":
            prefix = ins.offset if prefix is None else prefix
            continue
        offset = prefix if (prefix is not None and _EVENT_ON_EXTENDED_ARG) else ins.offset
        prefix = None
        if ins.argval not in watched:
            continue
        if ins.opname in _READ_OPS:
            result[offset] = ("read", ins.argval)
        elif ins.opname in _WRITE_OPS:
            result[offset] = ("write", ins.argval)
    return result


def _is_nonblocking(frame: FrameType) -> bool:
    """True when a wait function was called with block/blocking/wait=False or timeout=0."""
    try:
        args = frame.f_locals
        for flag in ("blocking", "block", "wait"):  # wait: Executor.shutdown(wait=False)
            if args.get(flag, True) is False:
                return True
        return args.get("timeout", None) == 0
    except Exception:  # an exotic frame must never break the learner's run
        return False


def _inside_thread_start(frame: FrameType, depth: int = 4) -> bool:
    """True when ``frame`` runs (a few calls deep) inside ``threading.Thread.start``."""
    f = frame.f_back
    while f is not None and depth > 0:
        if f.f_code is _THREAD_START_CODE:
            return True
        f, depth = f.f_back, depth - 1
    return False


def _has_cells(code: CodeType) -> bool:
    """Does a frame of ``code`` hold closure cells that other threads may rebind?"""
    return bool(code.co_cellvars or code.co_freevars)


def _detach(frame: FrameType) -> bool:
    """Stop tracing ``frame`` (the block is over); the caller then returns None."""
    frame.f_trace_opcodes = False
    frame.f_trace = None
    return False


def _enable_opcode_events() -> Callable[[], None]:
    """3.12 only starts opcode events for ``sys.settrace`` if some frame asked for them first.

    Setting ``f_trace_opcodes`` on a frame before ``settrace`` makes the interpreter enable
    them; the returned function undoes it on that frame.
    """
    frame = sys._getframe(1)
    old = frame.f_trace_opcodes
    frame.f_trace_opcodes = True

    def undo() -> None:
        frame.f_trace_opcodes = old

    return undo


class ForcedInterleaving:
    """Context manager that forces hostile thread schedules onto learner code.

    ``files`` are the learner's source files; only frames whose ``co_filename`` is one of
    them are traced, so library code (requests, the grader) runs at full speed. Threads
    started inside the ``with`` block are traced, and so is the thread that enters it.
    Use one instance per run (it can be entered once), and report ``seed`` with a failure::

        with ForcedInterleaving([path], seed=seed, watch_globals=["counter"]) as fi:
            total = submission.run_threads(5, 100)
        if total != 500 and (lost := fi.lost_update("counter")):
            message = lost.describe()
    """

    def __init__(
        self,
        files: Iterable[str | os.PathLike[str]],
        *,
        seed: int,
        yield_probability: float = 0.5,
        watch_globals: Iterable[str] = (),
        stall_last_pop: bool = False,
        hold_new_threads: bool = False,
        stall_timeout: float = 1.0,
        quiet: waitfor.Quiet | None = waitfor.quiet_alone,
    ) -> None:
        if not 0.0 <= yield_probability <= 1.0:
            raise ValueError(f"yield_probability must be in [0, 1], got {yield_probability!r}")
        if stall_timeout <= 0:
            raise ValueError(f"stall_timeout must be > 0, got {stall_timeout!r}")
        self.seed = seed
        self.yield_probability = float(yield_probability)
        self.stall_last_pop = stall_last_pop
        self.hold_new_threads = hold_new_threads
        self.stall_timeout = float(stall_timeout)
        self._quiet = quiet
        self._files = tracehooks.file_spellings(files)
        # module namespaces whose frames run no learner file and no special code, and so
        # are neither traced nor profiled (tracehooks.remember_elsewhere)
        self._elsewhere: dict[int, object] = {}
        self._not_elsewhere = self._files | {c.co_filename for c in _SPECIAL_CODES}
        self._watched = frozenset(watch_globals)
        self._need_opcodes = self.yield_probability > 0 or bool(self._watched)
        # only holding: a new thread needs no tracing once its hold is over (mechanism 4)
        self._hold_only = hold_new_threads and not self._need_opcodes and not stall_last_pop
        # Counters a grader may read for its report (stall/hold ones change under _cond).
        self.stall_pairs = 0  # stalls released by a second thread arriving at the same pop
        self.stall_timeouts = 0  # stalls released by the timeout
        self.stall_quiets = 0  # stalls released because no other thread could come
        self.hold_timeouts = 0  # held threads released by the safety valve
        self.accesses_seen = 0  # all watched accesses, also those past the recording limit
        self._lock = _Lock()  # guards _states and _start_epochs
        self._log_lock = _Lock()  # guards _log and accesses_seen
        self._cond = _Condition(_Lock())  # stalls, holds and the epoch
        self._tls = _ThreadLocal()
        self._states: list[_ThreadState] = []
        self._log: list[_Record] = []
        self._access_maps: dict[int, tuple[CodeType, dict[int, tuple[str, str]]]] = {}
        self._gates: dict[int, _Gate] = {}
        self._timed_out: dict[int, object] = {}
        self._start_epochs: dict[threading.Thread, int] = {}
        self._epoch = 0
        self._main_ident: int | None = None
        self._main_depth = 0  # learner frames on the entering thread's stack
        self._main_wait_depth = 0  # waits the entering thread is inside
        self._main_c_wait: Any = None
        self._active = False
        self._closing = False
        self._entered = False
        self._saved: tuple[Any, Any, Any, Any] = (None, None, None, None)

    # ------------------------------------------------------------------ public API

    @property
    def switches(self) -> int:
        """How many forced yields happened (> 0 proves the tracer ran on learner code)."""
        with self._lock:
            return sum(st.switches for st in self._states)

    def __enter__(self) -> ForcedInterleaving:
        """Install the trace (and, if needed, profile) hooks for this and new threads."""
        if self._entered:
            raise RuntimeError("a ForcedInterleaving can be entered only once")
        self._entered = True
        self._saved = (
            _sys_gettrace(),
            _gettrace_new_threads(),
            _sys_getprofile(),
            _getprofile_new_threads(),
        )
        self._main_ident = _get_ident()
        self._active = True
        tracer = self._make_global_tracer()
        undo = _enable_opcode_events() if self._need_opcodes else (lambda: None)
        try:
            _settrace_new_threads(tracer)
            _settrace(tracer)
        finally:
            undo()
        if self.stall_last_pop or self.hold_new_threads:
            profiler = self._make_profiler()
            if self.stall_last_pop:
                _setprofile_new_threads(profiler)
            _setprofile(profiler)
        return self

    def __exit__(self, *exc: object) -> None:
        """Uninstall every hook, restore the previous ones, release stalled/held threads."""
        sys_trace, thr_trace, sys_prof, thr_prof = self._saved
        try:
            _settrace(sys_trace)
            _settrace_new_threads(thr_trace)
            _setprofile(sys_prof)
            _setprofile_new_threads(thr_prof)
        finally:
            self._active = False
            with self._cond:
                self._closing = True
                self._cond.notify_all()
            self._resolve_all_pending()

    def thread_spans(self, func_name: str) -> dict[str, tuple[float, float]]:
        """Thread name -> (first, last) ``time.perf_counter()`` seen in a ``func_name`` frame.

        Times come from call, line and return events of learner frames of that function.
        Two threads that share a name are told apart by a ``#order`` suffix. A block that only
        holds new threads keeps no spans of theirs (they run untraced after the hold).
        """
        names = self._display_names()
        result: dict[str, tuple[float, float]] = {}
        for st, first, last in self._spans(func_name):
            result[names[id(st)]] = (first, last)
        return result

    def overlapped(self, func_name: str) -> bool:
        """True iff the spans of at least two threads in ``func_name`` overlap in time."""
        spans = sorted((first, last) for _, first, last in self._spans(func_name))
        latest_end = None
        for first, last in spans:
            if latest_end is not None and first < latest_end:
                return True
            latest_end = last if latest_end is None else max(latest_end, last)
        return False

    def lost_update(self, name: str) -> LostUpdate | None:
        """For a watched module global ``name``: the first lost update seen, or None.

        A lost update: thread A reads, another thread B writes, then A writes although its
        last read of ``name`` came before B's write (so A's value ignores B's update).
        """
        if name not in self._watched:
            raise ValueError(f"{name!r} is not in watch_globals")
        with self._log_lock:
            log = [rec for rec in self._log if rec.name == name]
        found = _find_lost_update(log)
        if found is None:
            return None
        names = self._display_names()
        read, write, victim = (self._to_access(rec, names) for rec in found)
        return LostUpdate(name, read, write, victim)

    def accesses(self, name: str) -> list[Access]:
        """Every recorded access to the watched global ``name``, in the order seen."""
        names = self._display_names()
        with self._log_lock:
            log = [rec for rec in self._log if rec.name == name]
        return [self._to_access(rec, names) for rec in log]

    # ------------------------------------------------------------------ tracing (mechanism 1, 2)

    def _make_global_tracer(self) -> TraceFunc:
        """The ``settrace`` function: a local tracer for learner frames, None for the rest."""
        files = self._files
        hold = self.hold_new_threads
        special = _SPECIAL_CODES if hold else frozenset()
        special_files = frozenset(c.co_filename for c in special)
        watched, seen = self._not_elsewhere, self._elsewhere
        tls = self._tls

        def global_trace(frame: FrameType, event: str, arg: Any) -> TraceFunc | None:
            # tracehooks.code_in, inline: this runs on every call the traced threads make
            namespace = frame.f_globals
            if seen.get(_namespace_key(namespace)) is namespace:
                if not self._active:
                    _settrace(None)  # a thread that outlived the block: go untraced
                return None
            code = frame.f_code
            if code.co_filename not in files:
                if special and code.co_filename in special_files and code in special:
                    return self._on_special_call(frame, code)
                if not self._active:
                    _settrace(None)  # a thread that outlived the block: go untraced
                else:
                    _remember_elsewhere(seen, frame, code, watched)
                return None
            if not self._active:
                _settrace(None)
                return None
            st = tls.__dict__.get("st")
            if st is None:
                st = self._new_state()
            if st.hold_epoch is not None:
                self._hold(st)
            if self._hold_only and not st.is_main:
                _settrace(None)  # held (or not to be held): nothing more to see here
                tracer = None
            else:
                if st.pending is not None:
                    self._resolve_pending(st)
                tracer = self._enter_learner_frame(st, frame, code)
            if _RESYNC_CELLS and (code.co_cellvars or code.co_freevars):
                frame.f_locals  # noqa: B018 - last, after every call: see _RESYNC_CELLS
            return tracer

        return global_trace

    def _enter_learner_frame(self, st: _ThreadState, frame: FrameType, code: CodeType) -> TraceFunc:
        """Start tracing one learner frame: span bookkeeping and opcode events."""
        entry = st.tracers.get(id(code))
        if entry is None or entry[0] is not code:
            entry = (code, self._make_local_tracer(st, code))
            st.tracers[id(code)] = entry
        tracer = entry[1]
        span = st.spans.setdefault(code.co_name, [None, None])
        now = _perf_counter()
        if span[0] is None:
            span[0] = now
        span[1] = now
        if st.is_main and self.hold_new_threads:
            self._main_depth += 1
        frame.f_trace = tracer  # 3.13 only enables opcode events if f_trace is already set
        if self._need_opcodes:
            frame.f_trace_opcodes = True
        return tracer

    def _new_state(self) -> _ThreadState:
        """Register the current thread, in order of first appearance in learner code."""
        thread = _current_thread()
        is_main = _get_ident() == self._main_ident
        with self._lock:
            st = _ThreadState(thread, len(self._states), self.seed, is_main)
            if self.hold_new_threads and not is_main:
                st.hold_epoch = self._start_epochs.pop(thread, None)
            self._states.append(st)
        self._tls.st = st
        return st

    def _make_local_tracer(self, st: _ThreadState, code: CodeType) -> TraceFunc:
        """The per-(thread, code) tracer: seeded yields, span updates, watched accesses.

        Returning None (instead of the tracer) happens only after ``_detach``: the block is
        over and this frame stops being traced.
        """
        rnd = st.rng.random
        p = self.yield_probability
        span = st.spans.setdefault(code.co_name, [None, None])
        track_main = self.hold_new_threads and st.is_main
        amap = self._access_map_for(code)
        resync = _RESYNC_CELLS and _has_cells(code)
        sleep = _sleep
        pause = _YIELD_SECONDS
        perf = _perf_counter

        def forced_yield(frame: FrameType) -> bool:
            """Release the GIL so another thread runs here; False once the block is over."""
            if not self._active:
                return _detach(frame)
            sleep(pause)
            st.switches += 1
            return True

        def other_event(frame: FrameType, event: str) -> bool:
            """line/return/exception events; False once the block is over."""
            if st.pending is not None:
                self._resolve_pending(st)
            if not self._active:
                return _detach(frame)
            if event == "line":
                span[1] = perf()
            elif event == "return":
                span[1] = perf()
                if track_main:
                    self._main_returned()
            return True

        if not amap:

            def local_trace(frame: FrameType, event: str, arg: Any) -> TraceFunc | None:
                if event == "opcode":
                    if rnd() < p and not forced_yield(frame):
                        return None
                elif not other_event(frame, event):
                    return None
                if resync:
                    frame.f_locals  # noqa: B018 - last, after every call: see _RESYNC_CELLS
                return local_trace

            return local_trace

        record = self._record

        def watching_trace(frame: FrameType, event: str, arg: Any) -> TraceFunc | None:
            if event != "opcode":
                if not other_event(frame, event):
                    return None
            else:
                if st.pending is not None:
                    self._resolve_pending(st)
                if rnd() < p and not forced_yield(frame):
                    return None
                access = amap.get(frame.f_lasti)
                if access is not None and self._active:
                    record(st, frame, access)  # after the yield: right before the instruction
            if resync:
                frame.f_locals  # noqa: B018 - last, after every call: see _RESYNC_CELLS
            return watching_trace

        return watching_trace

    def _access_map_for(self, code: CodeType) -> dict[int, tuple[str, str]]:
        """Cached per code object; empty when nothing is watched."""
        if not self._watched:
            return {}
        entry = self._access_maps.get(id(code))
        if entry is None or entry[0] is not code:
            entry = (code, _access_map(code, self._watched))
            self._access_maps[id(code)] = entry
        return entry[1]

    def _record(self, st: _ThreadState, frame: FrameType, access: tuple[str, str]) -> None:
        """Log one access; a write's value is filled in at that thread's next event."""
        kind, name = access
        g = frame.f_globals
        rec = _Record(st, kind, name, _PENDING, frame.f_lineno, frame.f_code.co_filename)
        if kind == "write":
            st.pending = (rec, g)
        else:
            rec.value = g.get(name, _PENDING)
        with self._log_lock:
            if self.accesses_seen < _MAX_ACCESSES:
                self._log.append(rec)
            self.accesses_seen += 1

    @staticmethod
    def _resolve_pending(st: _ThreadState) -> None:
        """The STORE has run by now: read the value it stored."""
        pending = st.pending
        st.pending = None
        if pending is not None:
            rec, g = pending
            rec.value = g.get(rec.name, _PENDING)

    def _resolve_all_pending(self) -> None:
        """At exit, fill in writes whose thread has not had another event (best effort)."""
        with self._lock:
            states = list(self._states)
        for st in states:
            self._resolve_pending(st)

    # ------------------------------------------------------------------ profile (mechanism 3, 4)

    def _make_profiler(self) -> TraceFunc:
        """The ``setprofile`` function: watches C calls made directly by learner frames."""
        files, watched, seen = self._files, self._not_elsewhere, self._elsewhere
        resync = _RESYNC_CELLS

        def profile(frame: FrameType, event: str, arg: Any) -> None:
            if event == "c_call":
                code = _code_in(watched, frame, seen)
                if code is None or code.co_filename not in files:
                    return
                if not self._active:
                    _setprofile(None)
                    return
                self._on_c_call(arg)
                if resync and (code.co_cellvars or code.co_freevars):
                    frame.f_locals  # noqa: B018 - last: see _RESYNC_CELLS
            elif event[0] == "c" and arg is self._main_c_wait and arg is not None:
                if _get_ident() == self._main_ident:
                    self._main_c_wait = None
                    self._main_wait_depth -= 1

        return profile

    def _on_c_call(self, func: Any) -> None:
        """Stall a last pop; note the entering thread starting a C-level wait."""
        name = getattr(func, "__name__", None)
        obj = getattr(func, "__self__", None)
        if self.stall_last_pop and (name == "pop" or name == "popleft"):
            if isinstance(obj, (list, _Deque)) and len(obj) == 1:
                self._stall(obj)
            return
        if self.hold_new_threads and _get_ident() == self._main_ident:
            if _is_c_wait(name, obj) and self._main_c_wait is None:
                self._main_c_wait = func
                self._main_wait_depth += 1
                self._bump_epoch()

    def _stall(self, obj: object) -> None:
        """Hold this thread before popping ``obj``'s last item until a second one arrives."""
        key = id(obj)
        me = _current_thread()
        with self._cond:
            if self._closing:
                return
            gate = self._gates.get(key)
            if gate is not None and gate.obj is obj and not gate.released:
                gate.released = True  # second arrival: both pop now
                self.stall_pairs += 1
                self._cond.notify_all()
                return
            if key in self._timed_out or self.stall_timeouts >= _MAX_STALL_TIMEOUTS:
                return
            if not self._others_alive(me):
                return
            gate = _Gate(obj)
            self._gates[key] = gate
            quiet = self._wait_at_gate(gate)
            if self._gates.get(key) is gate:
                del self._gates[key]
            if not gate.released and not self._closing:
                if quiet:
                    self.stall_quiets += 1
                else:
                    self.stall_timeouts += 1
                self._timed_out[key] = obj  # keeps obj alive so its id is not reused

    def _wait_at_gate(self, gate: _Gate) -> bool:
        """Wait (with _cond held) until a second thread opens the gate or the block closes,
        or (True) no other thread can come; else until stall_timeout passes."""
        end = _perf_counter() + self.stall_timeout
        ended = waitfor.wait_quietly(
            self._cond, lambda: gate.released or self._closing, lambda: end, self._quiet
        )
        return ended == "quiet"

    def _others_alive(self, me: threading.Thread) -> bool:
        """Is another thread that ran learner code in this block still alive?"""
        with self._lock:
            return any(st.thread is not me and st.thread.is_alive() for st in self._states)

    # ------------------------------------------------------------------ holding (mechanism 4)

    def _on_special_call(self, frame: FrameType, code: CodeType) -> TraceFunc | None:
        """A call of ``Thread.start`` or of a wait function (only with hold_new_threads)."""
        if not self._active:
            return None
        if code is _THREAD_START_CODE:
            self._note_thread_start(frame)
            return None
        if _get_ident() != self._main_ident:
            return None
        if _is_nonblocking(frame) or _inside_thread_start(frame):
            return None
        self._main_wait_depth += 1
        self._bump_epoch()
        frame.f_trace_lines = False
        return self._wait_return_trace

    def _wait_return_trace(self, frame: FrameType, event: str, arg: Any) -> TraceFunc | None:
        """Local tracer of a wait frame on the entering thread: notes when the wait ends."""
        if event == "return":
            self._main_wait_depth -= 1
        return self._wait_return_trace

    def _note_thread_start(self, frame: FrameType) -> None:
        """Remember the epoch a thread was started in; it is held until the epoch moves on."""
        if self._main_depth <= 0 or self._main_wait_depth > 0:
            return  # the entering thread is not in learner code, or already waits
        try:
            thread = frame.f_locals.get("self")
        except Exception:
            return
        if isinstance(thread, threading.Thread):
            with self._lock:
                self._start_epochs[thread] = self._epoch

    def _hold(self, st: _ThreadState) -> None:
        """Block a new thread at its first learner event until the entering thread waits."""
        started = st.hold_epoch
        st.hold_epoch = None
        if started is None:
            return
        with self._cond:
            released = self._cond.wait_for(
                lambda: self._epoch > started or self._closing, self.stall_timeout
            )
            if not released:
                self.hold_timeouts += 1

    def _bump_epoch(self) -> None:
        """The entering thread waits (or left learner code): release threads held so far."""
        with self._cond:
            self._epoch += 1
            self._cond.notify_all()

    def _main_returned(self) -> None:
        """A learner frame of the entering thread returned; the outermost releases holds."""
        self._main_depth -= 1
        if self._main_depth <= 0:
            self._main_depth = 0
            self._bump_epoch()

    # ------------------------------------------------------------------ reporting helpers

    def _spans(self, func_name: str) -> list[tuple[_ThreadState, float, float]]:
        """(state, first, last) for each thread seen in ``func_name``."""
        with self._lock:
            states = list(self._states)
        out = []
        for st in states:
            span = st.spans.get(func_name)
            if span is not None and span[0] is not None and span[1] is not None:
                out.append((st, span[0], span[1]))
        return out

    def _display_names(self) -> dict[int, str]:
        """id(state) -> thread name, with ``#order`` added where names repeat."""
        with self._lock:
            states = list(self._states)
        counts = collections.Counter(st.thread.name for st in states)
        return {
            id(st): st.thread.name
            if counts[st.thread.name] == 1
            else f"{st.thread.name}#{st.order}"
            for st in states
        }

    @staticmethod
    def _to_access(rec: _Record, names: dict[int, str]) -> Access:
        """Turn a raw log record into the public, frozen :class:`Access`."""
        source = linecache.getline(rec.filename, rec.line).strip()
        value = None if rec.value is _PENDING else rec.value
        return Access(names[id(rec.state)], rec.kind, value, rec.line, source)


def _is_c_wait(name: str | None, obj: Any) -> bool:
    """C functions where the caller blocks: ``time.sleep``, ``SimpleQueue.get``, a held lock."""
    if name == "sleep":
        return getattr(obj, "__name__", None) == "time"
    if name == "get":
        return isinstance(obj, _SimpleQueue)
    if name == "acquire" and isinstance(obj, _LockType):
        return obj.locked()
    return False


def _find_lost_update(log: list[_Record]) -> tuple[_Record, _Record, _Record] | None:
    """First (victim read, other write, victim write) in a log of one global's accesses."""
    last_read: dict[int, _Record] = {}  # id(state) -> its latest read
    foreign: dict[int, _Record] = {}  # id(state) -> first other write after that read
    for rec in log:
        who = id(rec.state)
        if rec.kind == "read":
            last_read[who] = rec
            foreign.pop(who, None)
            continue
        if who in foreign:
            return last_read[who], foreign[who], rec
        for reader in last_read:
            if reader != who and reader not in foreign:
                foreign[reader] = rec
    return None

"""Visible checks for cpu_bound: threads and processes observed, compare's clock read.

Every check replaces the given `count_primes` with the grader's own (`count_primes` below): the
same count, from a sieve, so that no check waits for the CPU. It records every call: in the
grading process, which thread made it; in another process, which process, in a file of the
check's own folder (the only place a child of the grading process may write). Latches make
the parallelism show in every run, whatever the load: a call is held until n calls run at
once, in n threads (a `threading.Condition`) or in n other processes (fork-inherited
multiprocessing events), and a timeout turns "one at a time" into a failure, never a hang.
The grading process counts its forks (`os.register_at_fork`), so "exactly n processes" is
observed, not guessed.

compare is judged on its clock: the learner module's `time` (and a `perf_counter` imported
from it) is replaced by one whose perf_counter reads the real clock and notes the reading in
the order of everything else the check sees (each call of count_primes in compare's own
thread, the start and end of count_in_threads and count_in_processes). Each returned number
must be the difference of two readings that enclose its own way and no other.

Processes are started only by multiprocessing's fork, up to PROCESS_CAP per check: the
grading process's guard allows it for this task only (graders.engine.guard), the children
inherit the guard and the limits, and whatever a check left running is killed when it ends.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import math
import multiprocessing
import multiprocessing.process
import multiprocessing.util
import os
import platform
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any

from graders.kit.checks import Context, check
from graders.kit.exit_gate import ExitGate
from graders.kit.feedback import CheckFailed, describe_exception

# The task text, sentence by sentence (the stub's docstring numbers them the same way).
TYPICAL_SECONDS = 0.35  # seconds on 2 cores: the order tasks start in (Task.typical_seconds)

REQUIREMENTS = {
    "R1": "count_in_threads(ranges, n) returns the total, the sum of count_primes(start, stop) "
    "over the pairs, calling count_primes(start, stop) exactly once for each pair",
    "R2": "count_in_threads counts in exactly n threads, none of them the main thread, all n "
    "counting at the same time",
    "R3": "count_in_threads returns only when every thread it started has finished",
    "R4": "count_in_processes(ranges, n) returns the total, calling count_primes(start, stop) "
    "exactly once for each pair",
    "R5": "count_in_processes counts in exactly n worker processes, never in the calling one, "
    "all n counting at the same time (a pool with the default start method)",
    "R6": "count_in_processes returns only when every process and thread it started has finished",
    "R7": "compare(ranges, n) counts the total three ways, each exactly once: a plain loop in "
    "compare calling count_primes(start, stop) for each pair, count_in_threads(ranges, n), "
    "count_in_processes(ranges, n)",
    "R8": "compare returns (sequential_s, threads_s, processes_s): for each way, the difference "
    "of time.perf_counter() read right before it and right after it",
}

# Processes one check of this task may start (multiprocessing's fork only). The checks need at
# most 8; more is no honest pool: the grading process's guard treats it as tampering.
PROCESS_CAP = 24

THREADS, PROCESSES, COMPARE = "count_in_threads", "count_in_processes", "compare"
COMPARE_RUN = "compare"  # the Context.once key of compare_run, shared by R7's and R8's checks
THREAD_LATCH_TIMEOUT = 1.0  # how long a call waits for n calls at once in n threads
PROCESS_LATCH_TIMEOUT = 4.0  # the same across processes (they start slower under load)
STUB_RANGES = [(1_000_000 + i * 10_000, 1_010_000 + i * 10_000) for i in range(8)]
STUB_N = 4
EXACT = 1e-9  # how far a returned number may be from a difference of readings
HOLD_TIMEOUT = 3.0  # longest a process waits at its exit when nothing joins it
HOLD_POLL = 0.002  # how often a held process looks whether it may go

_clock = time.perf_counter
_getpid = os.getpid
_sleep = time.sleep


# ----------------------------------------------------------------- counting primes, fast


def prime_count(start: int, stop: int) -> int:
    """What the given count_primes(start, stop) returns, from a sieve of [start, stop)."""
    low = max(start, 2)
    if stop <= low:
        return 0
    root = math.isqrt(stop - 1)
    small = bytearray([1]) * (root + 1)
    small[:2] = b"\0\0"[: root + 1]
    for p in range(2, math.isqrt(root) + 1):
        if small[p]:
            small[p * p :: p] = bytes(len(range(p * p, root + 1, p)))
    segment = bytearray([1]) * (stop - low)
    for p in range(2, root + 1):
        if small[p]:
            first = max(p * p, -(-low // p) * p)
            segment[first - low :: p] = bytes(len(range(first - low, stop - low, p)))
    return segment.count(1)


def primes_between(start: int, stop: int) -> list[int]:
    """The primes in [start, stop), from one sieve (cheap enough for import time)."""
    sieve = bytearray([1]) * stop
    sieve[:2] = b"\0\0"[:stop]
    for p in range(2, math.isqrt(stop - 1) + 1):
        if sieve[p]:
            sieve[p * p :: p] = bytes(len(range(p * p, stop, p)))
    return [n for n in range(start, stop) if sieve[n]]


PRIMES = primes_between(60, 6000)


# ----------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Inputs:
    """One call: `ranges` (a list of (start, stop) pairs, start and stop prime) and n."""

    ranges: tuple[tuple[int, int], ...]
    n: int

    @property
    def total(self) -> int:
        return sum(prime_count(start, stop) for start, stop in self.ranges)

    def text(self, way: str) -> str:
        return f"{way}({list(self.ranges)!r}, {self.n})"


def machine_defaults() -> set[int]:
    """Pool sizes a submission gets without asking for n: cores, usable cores, the executor's."""
    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return {cores, usable, min(32, cores + 4)}


def draw_inputs(ctx: Context, way: str, label: str = "", n: int | None = None) -> Inputs:
    """Seeded inputs for `way`: 1 to 3 more pairs than n, in no sorted order, bounds prime.

    n is never a pool size this machine gives without being asked (cores, usable cores, the
    thread pool's default) nor the stub's N, so a pool that ignores n shows it. For threads it
    is 5, 6 or 7: a pool of fewer threads can never fill the latch, whatever the scheduling.
    For processes (and compare) 2, 3, 5 or 6: the grading process counts its forks, so any
    wrong number shows, and fewer processes are cheaper. Prime bounds make a pair counted with
    start + 1 or stop + 1 change the total in every run.
    """
    rng = ctx.rng(label)
    if n is None:
        sizes = (5, 6, 7) if way == THREADS else (2, 3, 5, 6)
        n = rng.choice([k for k in sizes if k not in machine_defaults() | {STUB_N}])
    size = n + rng.randint(1, 3)
    if size % n == 0:
        size += 1
    return Inputs(draw_ranges(rng, size), n)


def draw_ranges(rng: random.Random, size: int) -> tuple[tuple[int, int], ...]:
    pairs: set[tuple[int, int]] = set()
    while len(pairs) < size:
        i = rng.randrange(len(PRIMES) - 80)
        pairs.add((PRIMES[i], PRIMES[i + rng.randint(4, 60)]))
    ranges = list(pairs)
    rng.shuffle(ranges)
    if ranges == sorted(ranges):
        ranges.reverse()
    return tuple(ranges)


def workshop_inputs(mod: ModuleType) -> Inputs:
    """The module's own RANGES and N (the stub's, if they are missing or not plain)."""
    ranges, n = getattr(mod, "RANGES", None), getattr(mod, "N", None)
    pairs = plain_pairs(ranges)
    if pairs is None or not pairs or type(n) is not int or not 1 <= n <= len(pairs):
        return Inputs(tuple(STUB_RANGES), STUB_N)
    return Inputs(tuple(pairs), n)


def plain_pairs(value: object) -> list[tuple[int, int]] | None:
    """A list or tuple of (int, int) pairs as plain tuples, or None for anything else."""
    if type(value) not in (list, tuple):
        return None
    pairs = []
    for pair in value:  # type: ignore[attr-defined]
        if type(pair) not in (list, tuple) or len(pair) != 2:
            return None
        if not all(type(x) is int for x in pair):
            return None
        pairs.append((pair[0], pair[1]))
    return pairs


# ----------------------------------------------------------------- latches


class ThreadLatch:
    """Holds each call in the grading process until `size` calls run at once (or timeout)."""

    def __init__(self, size: int, timeout: float) -> None:
        self.size, self.timeout = size, timeout
        self.filled = self.gave_up = False
        self.running = self.peak = 0
        self._cond = threading.Condition(threading.Lock())

    def enter(self) -> None:
        with self._cond:
            self.running += 1
            self.peak = max(self.peak, self.running)
            if self.filled or self.gave_up:
                return
            if self.running >= self.size:
                self.filled = True
                self._cond.notify_all()
                return
            if not self._cond.wait_for(lambda: self.filled or self.gave_up, self.timeout):
                self.gave_up = True  # later calls run straight through: fail fast, not n times
                self._cond.notify_all()

    def leave(self) -> None:
        with self._cond:
            self.running -= 1


class ProcessLatch:
    """Holds each call in another process until `size` processes are in a call (or timeout).

    Made in the grading process before the learner's pool forks, so every child inherits the
    same semaphores. A process that reaches it leaves a file named after its pid; a process
    held here cannot make another call, so `size` files mean `size` processes at once.
    """

    def __init__(self, size: int, timeout: float, folder: str) -> None:
        fork = multiprocessing.get_context("fork")
        self.size, self.timeout, self.folder = size, timeout, folder
        self._lock = fork.Lock()
        self._open = fork.Event()
        self._gave_up = fork.Event()

    @property
    def filled(self) -> bool:
        return self._open.is_set()

    def wait(self) -> None:
        if self._open.is_set() or self._gave_up.is_set():
            return
        with self._lock:
            _touch(os.path.join(self.folder, f"arrived-{_getpid()}"))
            arrived = [f for f in os.listdir(self.folder) if f.startswith("arrived-")]
            if len(arrived) >= self.size:
                self._open.set()
                return
        if not self._open.wait(self.timeout):
            self._gave_up.set()


def _touch(path: str) -> None:
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


class ProcessExitGate:
    """Processes forked inside the block wait at their exit until the call joins them.

    The processes' counterpart of graders.kit.exit_gate.ExitGate: a process that has handed
    back its result usually exits within microseconds, so a count_in_processes that waits for
    the results but not for the processes passes by luck. Here each child, at the very end of
    its exit (after its queues are flushed), leaves a file `held-<pid>` in the check's folder
    and waits until the grading process writes `go-<pid>`: when something joins it (join()
    from anywhere: a pool's shutdown, close() and join(), the code's own), or when the
    learner's code looks at it held (is_alive()), or when the block ends (`open`), or after
    `timeout`. Files, because the two sides share nothing else after the fork.
    """

    def __init__(self, folder: str, files: Iterable[str], timeout: float = HOLD_TIMEOUT) -> None:
        self.folder, self.timeout = folder, timeout
        self.active = False
        self._files = frozenset(
            name for f in files for name in (str(f), os.path.abspath(f), os.path.realpath(f))
        )
        self._pid = _getpid()
        self._saved: tuple[Any, ...] = ()
        self._patches: tuple[Any, ...] = ()

    def __enter__(self) -> ProcessExitGate:
        self.active = True
        multiprocessing.util.register_after_fork(self, ProcessExitGate._in_child)
        process = multiprocessing.process.BaseProcess
        join, is_alive = process.join, process.is_alive
        self._saved = (join, is_alive)
        gate = self

        def gated_join(child: Any, timeout: float | None = None) -> None:
            gate._let_go(child, look=False, caller=None)
            join(child, timeout)

        def gated_is_alive(child: Any) -> bool:
            gate._let_go(child, look=True, caller=sys._getframe(1))
            return bool(is_alive(child))

        process.join, process.is_alive = gated_join, gated_is_alive  # type: ignore[method-assign]
        self._patches = (gated_join, gated_is_alive)
        return self

    def __exit__(self, *exc: object) -> None:
        process = multiprocessing.process.BaseProcess
        for name, original, patch in zip(("join", "is_alive"), self._saved, self._patches):
            if process.__dict__.get(name) is patch:
                setattr(process, name, original)
        self.active = False
        _touch(os.path.join(self.folder, "open"))

    def _let_go(self, child: Any, *, look: bool, caller: Any) -> None:
        """In the grading process: a join lets the child go whenever it gets to its exit; a
        look from the learner's code lets it go if it is held right now."""
        pid = getattr(child, "pid", None)
        if _getpid() != self._pid or not self.active or pid is None:
            return
        if look and (caller is None or caller.f_code.co_filename not in self._files):
            return
        if look and not os.path.exists(os.path.join(self.folder, f"held-{pid}")):
            return
        _touch(os.path.join(self.folder, f"go-{pid}"))

    @staticmethod
    def _in_child(gate: ProcessExitGate) -> None:
        """In a child just forked (multiprocessing's after-fork hook, once its finalizers were
        reset): hold it last thing at its exit."""
        if gate.active:
            multiprocessing.util.Finalize(None, gate._hold, exitpriority=-100)

    def _hold(self) -> None:
        pid = _getpid()
        _touch(os.path.join(self.folder, f"held-{pid}"))
        end = _clock() + self.timeout
        go, opened = (os.path.join(self.folder, name) for name in (f"go-{pid}", "open"))
        while _clock() < end and not (os.path.exists(go) or os.path.exists(opened)):
            _sleep(HOLD_POLL)


# ----------------------------------------------------------------- the recorded stand-in


@dataclass
class Call:
    """One call of count_primes: where it ran (pid, and the thread in the grading process)."""

    pid: int
    thread: threading.Thread | None  # None: in another process
    start: object
    stop: object
    began: float
    ended: float

    def pair(self) -> tuple[object, object]:
        return plain_pair(self.start, self.stop)


def plain_pair(start: object, stop: object) -> tuple[object, object]:
    """(start, stop) if both are plain ints, else their reprs (which equal no pair of ints):
    an object of the learner's whose __eq__ lies compares as what it is."""
    if type(start) is int and type(stop) is int:
        return (start, stop)
    return (repr(start), repr(stop))


@dataclass
class Session:
    """What one check observes: calls, the grading process's story, the latches."""

    folder: str
    threads: ThreadLatch | None = None
    processes: ProcessLatch | None = None
    grader_pid: int = field(default_factory=os.getpid)
    phase: str = ""  # the way compare is inside of ("" for none)
    events: list[tuple[Any, ...]] = field(default_factory=list)  # (kind, clock, ...) in order
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, start: Any, stop: Any) -> int:
        total = prime_count(start, stop)  # the TypeError the given function would raise
        began = _clock()
        if _getpid() != self.grader_pid:
            if self.processes is not None:
                self.processes.wait()
            self._write(start, stop, began)
            return total
        thread = threading.current_thread()
        if self.threads is not None:
            self.threads.enter()
            self.threads.leave()
        with self._lock:
            ended = _clock()
            self.calls.append(Call(self.grader_pid, thread, start, stop, began, ended))
            if thread is threading.main_thread() and not self.phase:  # compare's own loop
                self.events.append(("loop", began, plain_pair(start, stop), ended))
        return total

    def _write(self, start: Any, stop: Any, began: float) -> None:
        """In another process: one line per call, in a file of that process's own."""
        line = json.dumps([_getpid(), start, stop, began, _clock()], default=repr) + "\n"
        path = os.path.join(self.folder, f"calls-{_getpid()}.jsonl")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def all_calls(self) -> list[Call]:
        """Calls in the grading process, then those the other processes wrote down."""
        found = list(self.calls)
        for name in sorted(os.listdir(self.folder)):
            if name.startswith("calls-"):
                with open(os.path.join(self.folder, name), encoding="utf-8") as f:
                    for line in f:
                        pid, start, stop, began, ended = json.loads(line)
                        found.append(Call(pid, None, start, stop, began, ended))
        return found

    def note(self, *event: Any) -> None:
        with self._lock:
            self.events.append((event[0], _clock(), *event[1:]))

    def read_clock(self) -> float:
        """The learner's time.perf_counter(): the real clock, noted in the story."""
        value = _clock()
        with self._lock:
            self.events.append(("read", value))
        return value


_session: Session | None = None
_forks = [0]
_forks_lock = threading.Lock()


def _count_fork() -> None:
    with _forks_lock:
        _forks[0] += 1


os.register_at_fork(after_in_parent=_count_fork)


def count_primes(start: Any, stop: Any) -> int:
    """The grader's count_primes: the same count, recorded. A top-level function, so that a
    pool sends it to its processes by name; they inherit the session with the forked memory."""
    session = _session
    if session is None:
        return prime_count(start, stop)
    return session.count(start, stop)


@contextmanager
def observing(session: Session) -> Iterator[Session]:
    global _session
    _session = session
    try:
        yield session
    finally:
        _session = None


class RecordedTime:
    """The learner's `time` module, whose perf_counter is noted in the session's story."""

    def __init__(self, session: Session) -> None:
        self.perf_counter = session.read_clock

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def watch_clock(session: Session, mod: ModuleType) -> None:
    """Replace the module's `time` and any perf_counter it imported with recorded ones."""
    recorded = RecordedTime(session)
    for name, value in list(vars(mod).items()):
        if value is time:
            setattr(mod, name, recorded)
        elif value is time.perf_counter:
            setattr(mod, name, recorded.perf_counter)


def wrap_way(session: Session, mod: ModuleType, way: str) -> None:
    """Note when compare's call of `way` begins and ends, and with what arguments."""
    original = getattr(mod, way, None)
    if not callable(original):
        return
    signature = inspect.signature(original)

    def timed_way(*args: Any, **kwargs: Any) -> Any:
        session.note("begin", way, bound_arguments(signature, args, kwargs))
        session.phase = way
        try:
            return original(*args, **kwargs)
        finally:
            session.phase = ""
            session.note("end", way)

    setattr(mod, way, timed_way)


def bound_arguments(signature: inspect.Signature, args: Any, kwargs: Any) -> tuple[Any, ...]:
    try:
        return tuple(signature.bind(*args, **kwargs).arguments.values())
    except TypeError:
        return tuple(args) + tuple(kwargs.values())


# ----------------------------------------------------------------- running the learner's code


@contextmanager
def learner_module(ctx: Context) -> Iterator[ModuleType]:
    """A fresh copy of the module, with the grader's count_primes, listed in sys.modules for
    the check: a pool sends a function of the learner's own to its processes by name."""
    mod = ctx.load()
    mod.count_primes = count_primes
    sys.modules[mod.__name__] = mod
    try:
        yield mod
    finally:
        sys.modules.pop(mod.__name__, None)


def stop_children() -> None:
    """Kill whatever processes the learner's code left: nothing outlives its call."""
    for child in multiprocessing.active_children():
        child.kill()
        child.join(2.0)


@dataclass
class Run:
    """One call of count_in_threads or count_in_processes, as observed."""

    way: str
    inputs: Inputs
    result: object
    calls: list[Call]
    forks: int  # processes the grading process started during the call
    alive: list[int]  # its child processes still running when the call returned
    session: Session

    @property
    def call_text(self) -> str:
        return self.inputs.text(self.way)


def run_way(
    ctx: Context, way: str, inputs: Inputs, *, latch: bool = False, gate: bool = False
) -> Run:
    """Call count_in_threads or count_in_processes once with `inputs`, observed.

    With `gate`, every thread (and process) the call starts waits at its end until it is
    joined (or the call returns): one the code does not wait for is alive at the return in
    every run.
    """
    with learner_module(ctx) as mod:
        session = Session(str(ctx.tmp_dir()))
        if latch and way == THREADS:
            session.threads = ThreadLatch(inputs.n, THREAD_LATCH_TIMEOUT)
        if latch and way == PROCESSES:
            session.processes = ProcessLatch(inputs.n, PROCESS_LATCH_TIMEOUT, session.folder)
        before = _forks[0]
        with observing(session):
            try:
                with contextlib.ExitStack() as gates:
                    if gate and way == THREADS:
                        gates.enter_context(ExitGate(ctx.files))
                    if gate and way == PROCESSES:
                        gates.enter_context(ProcessExitGate(session.folder, ctx.files))
                    result = call_learner(ctx, getattr(mod, way), list(inputs.ranges), inputs.n)
                    alive = [p.pid for p in multiprocessing.active_children()]  # gates still shut
            finally:
                forks = _forks[0] - before
                stop_children()
    return Run(way, inputs, result, session.all_calls(), forks, alive, session)


def call_learner(ctx: Context, func: Any, *args: Any) -> object:
    """ctx.call(func, *args); a refused start method or an unpicklable function explained."""
    try:
        return ctx.call(func, *args)
    except PermissionError as exc:
        if "starting a process" not in str(exc):
            raise
        raise CheckFailed(
            "Your pool could not start its processes",
            got=f"{type(exc).__name__}: {exc}",
            location=describe_exception(exc, ctx.files, "Your code").feedback.location,
            hint="Use ProcessPoolExecutor(max_workers=n) or multiprocessing.Pool(n) with the "
            "default start method (no mp_context, no set_start_method): while grading, the "
            "processes are started by fork, and no other way.",
        ) from None
    except Exception as exc:
        if "pickle" not in str(exc).lower():
            raise
        raise CheckFailed(
            "Your pool could not send the function to its processes",
            got=f"{type(exc).__name__}: {exc}",
            location=describe_exception(exc, ctx.files, "Your code").feedback.location,
            hint="A pool sends the function by name: give it count_primes itself, or a "
            "function defined at the top of your file, never a lambda or a nested function.",
        ) from None


# ----------------------------------------------------------------- requirements


def require_pairs(run: Run) -> None:
    """count_primes(start, stop) called exactly once for each pair (R1, R4)."""
    called = Counter(c.pair() for c in run.calls)
    wanted = Counter(run.inputs.ranges)
    if called == wanted:
        return
    missing = sorted((wanted - called).elements())
    extra = sorted((called - wanted).elements(), key=repr)
    got = f"count_primes called {sum(called.values())} time(s)"
    got += f"; never as count_primes{missing[0]}" if missing else ""
    got += f"; called as count_primes{extra[0]!r}, not one of the pairs (or twice)" if extra else ""
    raise CheckFailed(
        "count_primes was not called exactly once for each (start, stop) pair",
        expected=f"{run.call_text} to call count_primes(start, stop) once for each pair",
        got=got,
        hint="Call count_primes with each pair's own start and stop, as they are (no +1: the "
        "given function already leaves stop out), once per pair.",
    )


def require_total(run: Run) -> None:
    """The call returned the total, as a plain int (R1, R4)."""
    require_pairs(run)
    want = run.inputs.total
    if type(run.result) is int and run.result == want:
        return
    raise CheckFailed(
        f"{run.way} did not return the total",
        expected=f"{run.call_text} to return {want}, the sum of count_primes over the pairs",
        got=f"returned {run.result!r}",
        hint="Add up what count_primes returned for each pair, and return that sum: "
        "sum(pool.map(count_primes, starts, stops)).",
    )


def require_threads(run: Run) -> None:
    """Exactly n threads counted, none of them the main thread, n at once (R2)."""
    n, calls = run.inputs.n, run.calls
    elsewhere = [c for c in calls if c.thread is None]
    if elsewhere:
        raise CheckFailed(
            "count_in_threads counted in other processes",
            expected="every count in a thread of the calling process",
            got=f"{len(elsewhere)} call(s) of count_primes ran in another process",
            hint="Use concurrent.futures.ThreadPoolExecutor here; processes are for "
            "count_in_processes.",
        )
    main = [c for c in calls if c.thread is threading.main_thread()]
    if main:
        raise CheckFailed(
            "count_primes ran in the main thread",
            expected=f"{run.call_text} to count only in its {n} worker threads",
            got=f"{len(main)} of {len(calls)} call(s) ran in MainThread",
            hint="Hand count_primes itself to the pool (pool.map(count_primes, starts, "
            "stops)); count_primes(start, stop) written out calls it right away, here.",
        )
    threads = {id(c.thread) for c in calls}
    if len(threads) != n:
        raise CheckFailed(
            f"{len(threads)} threads counted, not {n}",
            expected=f"{run.call_text} to count in exactly {n} threads",
            got=f"{len(calls)} call(s) of count_primes in {len(threads)} different thread(s)",
            hint="Start n threads, not one per pair: ThreadPoolExecutor(max_workers=n) hands "
            "the pairs to its n threads.",
        )
    latch = run.session.threads
    if latch is not None and not latch.filled:
        raise CheckFailed(
            f"Your {n} threads never counted at the same time",
            expected=f"{n} calls of count_primes running at once, one per thread",
            got=f"at most {latch.peak} at once",
            details=(f"This machine: {machine()}.",),
            hint="Start every thread before waiting for any: a join() (or .result()) right "
            "after each start waits for that thread before the next one starts.",
        )


def require_processes(run: Run) -> None:
    """Exactly n other processes counted, each some of it, n at once (R5)."""
    n, calls = run.inputs.n, run.calls
    here = [c for c in calls if c.thread is not None]
    if here:
        raise CheckFailed(
            "count_in_processes counted in the grading process itself",
            expected=f"{run.call_text} to count only in {n} other processes",
            got=f"{len(here)} of {len(calls)} call(s) of count_primes ran in this process "
            f"(in {'the main thread' if here[0].thread is threading.main_thread() else 'threads'})",
            hint="Threads share one process (and its GIL): use "
            "concurrent.futures.ProcessPoolExecutor(max_workers=n) or multiprocessing.Pool(n).",
        )
    if run.forks != n:
        raise CheckFailed(
            f"count_in_processes started {run.forks} processes, not {n}",
            expected=f"{run.call_text} to start exactly {n} worker processes",
            got=f"{run.forks} process(es) started during the call",
            hint="Pass n as the pool's size: ProcessPoolExecutor(max_workers=n) or Pool(n), "
            "one pool for all the pairs (not a pool or a process per pair).",
        )
    pids = {c.pid for c in calls}
    latch = run.session.processes
    if len(pids) != n or (latch is not None and not latch.filled):
        raise CheckFailed(
            f"Your {n} processes never all counted at the same time",
            expected=f"{n} processes, each counting some of the pairs, all at once",
            got=f"{len(pids)} of the {n} processes counted anything"
            + ("" if latch is None or latch.filled else ", never all at once"),
            details=(f"This machine: {machine()}.",),
            hint="Submit all the pairs before waiting for any result: pool.map(count_primes, "
            "starts, stops), not pool.submit(...).result() one pair at a time.",
        )


GATE_DETAIL = (
    "In this check each thread or process your function starts keeps running at its very end "
    "until it is joined, so one your code does not wait for is still running when it returns "
    "(waiting for the results is not waiting for the workers)."
)


def require_finished(ctx: Context, run: Run, *, gated: bool = False) -> None:
    """Nothing the call started still ran when it returned, and it counted (R3, R6)."""
    try:
        ctx.require_joined(
            run.call_text,
            hint="Use the pool in a `with` block (or call its shutdown()): it waits for its "
            "workers when the block ends, so they are done when your function returns.",
        )
    except CheckFailed as failed:
        if not gated:
            raise
        details = (*failed.feedback.details, GATE_DETAIL)
        raise CheckFailed.from_feedback(replace(failed.feedback, details=details)) from None
    if run.alive:
        raise CheckFailed(
            f"{run.call_text} returned while {len(run.alive)} of its processes still ran",
            expected="every process it started finished when it returns",
            got=f"processes still running at the return: {', '.join(map(str, run.alive))}",
            details=(GATE_DETAIL,) if gated else (),
            hint="Use the pool in a `with` block: it shuts the pool down and waits for its "
            "processes when the block ends.",
        )
    if not run.calls:  # nothing counted: no worker ran, so "all finished" would judge nothing
        workers = "threads" if run.way == THREADS else "processes"
        raise CheckFailed(
            f"{run.way} returned without calling count_primes at all",
            expected=f"{run.call_text} to count the {len(run.inputs.ranges)} pairs in "
            f"{run.inputs.n} {workers}, every one of them finished when it returns",
            got=f"returned {run.result!r}, and count_primes was never called",
            hint=f"Open the pool in a `with` block and, in it, hand count_primes to its "
            f"{workers}: sum(pool.map(count_primes, starts, stops)).",
        )


# ----------------------------------------------------------------- compare


@dataclass
class CompareRun:
    """One call of compare, as observed: what it returned and the story of its thread."""

    inputs: Inputs
    result: object
    events: list[tuple[Any, ...]]

    @property
    def call_text(self) -> str:
        return self.inputs.text(COMPARE)

    def way_events(self, way: str) -> list[int]:
        """Indices of the story's events of one way ("loop": compare's own count_primes)."""
        if way == "loop":
            return [i for i, e in enumerate(self.events) if e[0] == "loop"]
        return [i for i, e in enumerate(self.events) if e[0] in ("begin", "end") and e[2] == way]

    def begins(self, way: str) -> list[tuple[Any, ...]]:
        return [e for e in self.events if e[0] == "begin" and e[2] == way]

    def span(self, way: str) -> float | None:
        """Seconds from the start of `way` to its end, by the grader's clock."""
        found = self.way_events(way)
        if not found:
            return None
        last = self.events[found[-1]]
        return (last[3] if way == "loop" else last[1]) - self.events[found[0]][1]


def run_compare(ctx: Context, inputs: Inputs) -> CompareRun:
    """Call compare once with `inputs`, its clock and both ways observed."""
    with learner_module(ctx) as mod:
        session = Session(str(ctx.tmp_dir()))
        wrap_way(session, mod, THREADS)
        wrap_way(session, mod, PROCESSES)
        watch_clock(session, mod)
        with observing(session):
            try:
                result = call_learner(ctx, mod.compare, list(inputs.ranges), inputs.n)
            finally:
                stop_children()
    return CompareRun(inputs, result, list(session.events))


WAYS = (("loop", "sequential_s"), (THREADS, "threads_s"), (PROCESSES, "processes_s"))
SHOWN = {"loop": "the loop", THREADS: THREADS, PROCESSES: PROCESSES}


def require_ways(run: CompareRun) -> None:
    """Each way once: the loop over every pair, both functions with (ranges, n) (R7)."""
    for way in (THREADS, PROCESSES):
        begins = run.begins(way)
        if len(begins) != 1:
            raise CheckFailed(
                f"compare called {way} {len(begins)} time(s), not once",
                expected=f"{run.call_text} to call {run.inputs.text(way)} exactly once",
                got=f"{way} called {len(begins)} time(s)",
                hint=f"Time each way once: call {way}(ranges, n) a single time in compare.",
            )
        args = begins[0][3]
        if plain_pairs(args[0] if args else None) != list(run.inputs.ranges) or not (
            len(args) > 1 and type(args[1]) is int and args[1] == run.inputs.n
        ):
            raise CheckFailed(
                f"compare did not call {way} with its own ranges and n",
                expected=f"{run.call_text} to call {run.inputs.text(way)}",
                got=f"called {way}(" + ", ".join(repr(a) for a in args) + ")",
                hint="Pass compare's own ranges and n on, as they are.",
            )
    loop = Counter(run.events[i][2] for i in run.way_events("loop"))
    if loop != Counter(run.inputs.ranges):
        got = (
            f"compare itself called count_primes {sum(loop.values())} time(s)"
            if loop
            else "compare never called count_primes itself"
        )
        raise CheckFailed(
            "compare's sequential way is not one call of count_primes per pair, in compare",
            expected=f"{run.call_text} to call count_primes(start, stop) once for each pair "
            "in a plain loop in compare, with no threads or processes",
            got=got,
            hint="The sequential way is sum(count_primes(start, stop) for start, stop in "
            "ranges), written in compare itself.",
        )


def require_times(run: CompareRun) -> None:
    """Each number is the perf_counter difference around its own way and no other (R8)."""
    result = run.result
    if type(result) not in (tuple, list) or len(result) != 3:  # type: ignore[arg-type]
        raise CheckFailed(
            "compare did not return three numbers",
            expected=f"{run.call_text} to return (sequential_s, threads_s, processes_s)",
            got=f"returned {result!r}",
            hint="return sequential_s, threads_s, processes_s",
        )
    for (way, _), value in zip(WAYS, result):  # type: ignore[arg-type]
        mine = run.way_events(way)
        if way != "loop" and len(run.begins(way)) != 1 or not mine:
            continue  # a way compare did not run once is the other check's business
        if type(value) is not float:
            raise _time_failure(run, way, value, "is not a float (seconds, from perf_counter)")
        pairs = readings_apart(run, value)
        if not pairs:
            raise _time_failure(
                run, way, value, "is not the difference of two time.perf_counter() readings"
            )
        if not any(encloses_only(run, i, j, way) for i, j in pairs):
            inside = enclosed_ways(run, *pairs[0])
            what = " and ".join(SHOWN[w] for w in inside) if inside else "none of the ways"
            raise _time_failure(run, way, value, f"times {what}, not {SHOWN[way]}")


def readings_apart(run: CompareRun, value: float) -> list[tuple[int, int]]:
    """Pairs of the learner's perf_counter readings whose difference is `value`."""
    reads = [(i, e[1]) for i, e in enumerate(run.events) if e[0] == "read"]
    return [
        (i, j)
        for k, (i, first) in enumerate(reads)
        for j, last in reads[k + 1 :]
        if abs((last - first) - value) <= EXACT
    ]


def enclosed_ways(run: CompareRun, i: int, j: int) -> list[str]:
    return [way for way, _ in WAYS if any(i < k < j for k in run.way_events(way))]


def encloses_only(run: CompareRun, i: int, j: int, way: str) -> bool:
    mine = run.way_events(way)
    return i < mine[0] and mine[-1] < j and enclosed_ways(run, i, j) == [way]


def _time_failure(run: CompareRun, way: str, value: object, problem: str) -> CheckFailed:
    name = dict(WAYS)[way]
    spans = ", ".join(
        f"{SHOWN[way]} {span:.4f} s" for way, _ in WAYS if (span := run.span(way)) is not None
    )
    return CheckFailed(
        f"compare's {name} = {value!r} {problem}",
        expected=f"{name}: time.perf_counter() read right after {SHOWN[way]} minus the reading "
        "right before it",
        got=f"{run.call_text} returned {run.result!r}",
        details=(f"The grader saw, by its own clock: {spans}.", f"This machine: {machine()}."),
        hint="started = time.perf_counter(); <one way>; its_s = time.perf_counter() - started. "
        "Read the clock in compare, right around each way, and return the differences in the "
        "order (sequential_s, threads_s, processes_s).",
    )


def machine() -> str:
    """Cores, usable cores and the build: what decides which way is fastest here."""
    cores = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    gil_enabled = getattr(sys, "_is_gil_enabled", None)
    build = "free-threaded (no GIL)" if gil_enabled and not gil_enabled() else "with the GIL"
    version = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{cores} core(s), {usable} usable by the grader; {version} {build}"


# ----------------------------------------------------------------- checks


@check(
    "count_in_threads returns the total, calling count_primes once for each pair",
    points=2,
    requires="R1",
)
def threads_total(ctx: Context) -> None:
    require_total(run_way(ctx, THREADS, draw_inputs(ctx, THREADS)))


@check(
    "count_in_threads counts in exactly n threads, all at the same time", points=2, requires="R2"
)
def threads_workers(ctx: Context) -> None:
    require_threads(run_way(ctx, THREADS, draw_inputs(ctx, THREADS), latch=True))


@check("count_in_threads returns only when its threads are done", points=1, requires="R3")
def threads_finished(ctx: Context) -> None:
    require_finished(ctx, run_way(ctx, THREADS, draw_inputs(ctx, THREADS), gate=True), gated=True)


@check(
    "count_in_processes returns the total, calling count_primes once for each pair",
    points=2,
    requires="R4",
)
def processes_total(ctx: Context) -> None:
    require_total(run_way(ctx, PROCESSES, draw_inputs(ctx, PROCESSES)))


@check(
    "count_in_processes counts in exactly n other processes, all at the same time",
    points=3,
    requires="R5",
)
def processes_workers(ctx: Context) -> None:
    require_processes(run_way(ctx, PROCESSES, draw_inputs(ctx, PROCESSES), latch=True))


@check("count_in_processes returns only when its processes are done", points=1, requires="R6")
def processes_finished(ctx: Context) -> None:
    inputs = draw_inputs(ctx, PROCESSES)
    require_finished(ctx, run_way(ctx, PROCESSES, inputs, gate=True), gated=True)


def compare_run(ctx: Context) -> CompareRun:
    """The one observed call of compare that R7's check and R8's judge: it counts the primes
    three ways and forks a pool, so running it once per check cost a whole run more."""
    return ctx.once(COMPARE_RUN, lambda rng: run_compare(ctx, draw_inputs(ctx, COMPARE)))


@check(
    "compare runs the loop, count_in_threads and count_in_processes once each",
    points=2,
    requires="R7",
    shares=COMPARE_RUN,
)
def compare_ways(ctx: Context) -> None:
    require_ways(compare_run(ctx))


@check(
    "compare returns the perf_counter time of each way, and only of it",
    points=2,
    requires="R8",
    shares=COMPARE_RUN,
)
def compare_times(ctx: Context) -> None:
    require_times(compare_run(ctx))


# Graded hints for `make hint TASK=cpu_bound`: one more each time, never the answer.
HINTS = (
    "Both functions are the same few lines with a different pool. Open a "
    "concurrent.futures.ThreadPoolExecutor with max_workers=n in a `with` block, and in it "
    "add up pool.map(count_primes, starts, stops), where starts and stops are the pairs' "
    "first and second items: map with two lists calls count_primes(start, stop) per pair.",
    "For processes, swap in concurrent.futures.ProcessPoolExecutor(max_workers=n) (or "
    "multiprocessing.Pool(n) and pool.starmap(count_primes, ranges)). A pool sends the "
    "function to its processes by name: count_primes itself works, a lambda does not.",
    "compare: read the clock (time.perf_counter()) into a variable, run one way, read it "
    "again and subtract: that difference is that way's seconds. Do it around the loop, "
    "around count_in_threads(ranges, n) and around count_in_processes(ranges, n), and "
    "return the three differences as they are, nothing rounded.",
    "Which is fastest? On a CPython with the GIL, threads are no faster than the loop; n "
    "processes can be up to n times faster if the machine has n free cores (starting them "
    "costs a little). `make demo TASK=cpu_bound` shows it on your machine.",
)

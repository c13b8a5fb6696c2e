"""Visible checks for counter_lock: the total is exact even when threads switch at the worst time.

Each check enforces numbered sentences of the task text (REQUIREMENTS) and draws its sizes from
the run's seed: thread counts from N_CHOICES (never 5, the default, so a hard-coded five shows),
`times` from a range where the property always shows. Every observation comes from the code's
own behaviour, never from the clock:

- lost updates: a plain run never loses one on CPython 3.10-3.13 (docs/design.md, fact 1), so
  exact_total runs the threads under forced interleaving, which does;
- running together: a latch on increment (all calls in flight at once), then TurnTaking, which
  makes threads that release a lock alternate, so a lock held for one update interleaves the
  threads' updates in every run and a lock held around the whole loop never does;
- joining: JoinGate (graders.kit.join_gate) keeps every increment call's thread alive until
  the code joins that thread, so a thread the code does not join is still running when
  run_threads returns;
- the workshop's size: run_threads() with its defaults, plainly, within the check's time limit.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from types import FrameType, ModuleType
from typing import Any

from graders.kit import tracehooks
from graders.kit.checks import Context, check
from graders.kit.feedback import CheckFailed, Location
from graders.kit.interleave import ForcedInterleaving
from graders.kit.join_gate import JoinGate
from graders.kit.observe import Call, CallRecorder, record
from graders.kit.waitfor.tracked import TrackedLock, TrackedRLock

TYPICAL_SECONDS = 0.45  # seconds on 2 cores: the order tasks start in (Task.typical_seconds)

REQUIREMENTS = {
    "R1": "run_threads sets the global counter back to 0 first, whatever it held before",
    "R2": "run_threads runs increment(times), with the times it was given, in n_threads new "
    "threads: one call in each thread",
    "R3": "the threads run at the same time: all are started before any is joined, and the "
    "lock is held for one update, not around the whole loop, so their updates interleave",
    "R4": "run_threads joins every thread: none is still running when it returns",
    "R5": "run_threads returns the global counter itself, not a number it computes",
    "R6": "increment holds one threading.Lock, created once and shared by all threads, while it "
    "reads and writes counter, so that no update is lost however the threads switch",
    "R7": "with its defaults, run_threads() (5 threads x 10,000) counts to exactly 50,000 (and "
    "so returns it) within 10 seconds",
}

N_CHOICES = (2, 3, 4, 6, 7)  # thread counts drawn by the checks: never 5, the default
# Under forced interleaving two threads lose too few updates to be caught in every run
# (measured: 1 lost of 60 in a few runs in a hundred); three or more, started together at a
# latch, lose 17 or more of 3 x 40 in every one of 300 runs on 3.10, 3.11 and 3.13.
FORCED_CHOICES = (3, 4, 6, 7)
DEFAULTS = (5, 10_000)  # the notebook's n_threads and times, the stub's defaults
LATCH_TIMEOUT = 1.0  # how long calls wait for each other at a latch before giving up
TURN_TIMEOUT = 1.0  # how long a thread that released a lock waits for another's release
HOLD_TIMEOUT = 3.0  # how long JoinGate keeps a thread the main thread never waits for
CALM_SWITCH_INTERVAL = 2.0  # seconds between forced GIL switches during the workshop run


def sizes(
    ctx: Context, times: tuple[int, int], label: str = "", choices: Sequence[int] = N_CHOICES
) -> tuple[int, int]:
    """A seeded (n_threads, times) for this check: never the defaults."""
    rng = ctx.rng(label)
    return rng.choice(choices), rng.randint(*times)


def call_text(n_threads: int, times: int) -> str:
    """The call as the learner would write it, for messages."""
    return f"run_threads(n_threads={n_threads}, times={times})"


def times_of(call: Call) -> object:
    """The `times` a recorded increment call got, positional or by keyword."""
    return call.args[0] if call.args else call.kwargs.get("times")


def _with_times(
    args: tuple[Any, ...], kwargs: dict[str, Any], change: Callable[[int], int]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments of an increment call with its `times` changed (when it is an int)."""
    if args and type(args[0]) is int:
        return (change(args[0]), *args[1:]), kwargs
    if type(kwargs.get("times")) is int:
        return args, {**kwargs, "times": change(kwargs["times"])}
    return args, kwargs


def cap_times(mod: ModuleType, limit: int) -> None:
    """From now on, the module's increment runs at most `limit` times a call.

    Forced interleaving and turn-taking cost time on every update, so a call with a wrong,
    large `times` (a hard-coded 10_000) would blow the time limit of a check about something
    else. Whether the calls carry the right `times` is increment_calls' business (R2).
    """
    original = mod.increment

    def increment(*args: Any, **kwargs: Any) -> Any:
        args, kwargs = _with_times(args, kwargs, lambda t: min(t, limit))
        return original(*args, **kwargs)

    mod.increment = increment


def increments_asked(calls: Sequence[Call], limit: int) -> int | None:
    """How many updates the recorded (capped) increment calls asked for; None if unknown."""
    asked = [times_of(c) for c in calls]
    ints = [t for t in asked if type(t) is int]
    if not asked or len(ints) != len(asked):
        return None
    return sum(max(0, min(t, limit)) for t in ints)


def named(wrapper: Callable[..., Any], name: str) -> Callable[..., Any]:
    """`wrapper`, called `name`: Python names a thread after its target (`Thread-3 (increment)`)."""
    wrapper.__name__ = wrapper.__qualname__ = name
    return wrapper


# ---------------------------------------------------------------- R6: forced interleaving


def run_forced(ctx: Context, mod: ModuleType, n_threads: int, times: int) -> None:
    """Run run_threads under forced interleaving; fail with the story of a lost update.

    Judged on the counter once every thread has ended, against the updates increment was
    asked for: returning, joining and the number of calls have checks of their own.
    """
    cap_times(mod, times)
    # the latch starts every loop at the same moment: no thread is done before the last starts
    calls = record(mod, "increment", latch=n_threads, timeout=LATCH_TIMEOUT)
    with ForcedInterleaving(ctx.files, seed=ctx.seed, watch_globals=["counter"]) as forced:
        got = mod.run_threads(n_threads=n_threads, times=times)
        ctx.settle()
    final = mod.counter
    asked = increments_asked(calls.calls, times)
    want = n_threads * times if asked is None else asked
    if type(final) is int and final == want:  # exact int: an object's __eq__ could lie
        return
    call = call_text(n_threads, times)
    shown = f"returned {got!r}" if type(got) is int and got == final else f"counter = {final!r}"
    lost = forced.lost_update("counter")
    if lost is None:
        raise CheckFailed(
            f"{call} did not count every update exactly once",
            expected=f"counter = {want} (an int) once the threads are done",
            got=f"{shown} (a {type(final).__name__})",
            replay=ctx.replay,
            hint="Reset counter to 0 and let increment(times) do the counting: every update "
            "adds exactly 1.",
        )
    missing = want - final if type(final) is int else "some"
    raise CheckFailed(
        f"Updates to counter were lost when threads switched at the wrong moment: "
        f"{missing} increments were lost",
        expected=f"{call} to return {want}",
        got=shown,
        location=Location.of(ctx.path, lost.victim_write.line),
        kind="race",
        race=lost.race(),
        replay=ctx.replay,
        hint="Reading counter and writing it back are two steps; another thread can write "
        "in between. Create ONE lock at module level and hold it around both steps.",
    )


# ---------------------------------------------------------------- R3: taking turns


_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))
_RELEASES = frozenset({"release", "__exit__"})
# The wait-for graph (graders.kit.waitfor) hands the learner its own lock classes during a
# check: their release is a Python method, seen as a "return" event, not a "c_return".
_TRACKED_RELEASES = frozenset(
    getattr(cls, name).__code__ for cls in (TrackedLock, TrackedRLock) for name in _RELEASES
)


class TurnTaking:
    """Threads inside increment that release a lock take turns; the order of releases is kept.

    A profile hook sees every `release()` or `with` exit of a Lock or RLock called from the
    learner's file by a thread inside increment. Right after such a release the thread waits
    until another thread releases a lock too (or no other increment call is running, or
    TURN_TIMEOUT passes, after which nobody waits any more). With the lock held for one update
    the threads then alternate update by update, in every run; held around the whole loop, each
    thread releases once, after all its updates. Forced yields cannot promise this: a thread
    that releases a lock and loops back usually takes it again before a woken waiter runs.
    Waiting stops as soon as the turns have interleaved, so correct code pays a few handoffs.
    """

    def __init__(self, files: Iterable[str], timeout: float = TURN_TIMEOUT) -> None:
        self.timeout = timeout
        self.releases: list[threading.Thread] = []  # who released a lock, in order
        self.interleaved = False  # some thread released, another did, then the first again
        self._files = tracehooks.file_spellings(files)
        self._cond = threading.Condition(threading.Lock())
        self._inside: Counter[threading.Thread] = Counter()  # threads inside increment
        self._last: dict[threading.Thread, int] = {}  # a thread's latest index in releases
        self._given_up = False
        self._active = False

    def wrap(self, mod: ModuleType, name: str) -> None:
        """Note which threads are inside `mod.name` (install it last: it must be outermost)."""
        original = getattr(mod, name)

        def inside(*args: Any, **kwargs: Any) -> Any:
            me = threading.current_thread()
            with self._cond:
                self._inside[me] += 1
            try:
                return original(*args, **kwargs)
            finally:
                with self._cond:
                    self._inside[me] -= 1
                    self._cond.notify_all()

        setattr(mod, name, named(inside, name))

    def __enter__(self) -> TurnTaking:
        self._active = True
        tracehooks.setprofile_new_threads(self._profile)
        return self

    def __exit__(self, *exc: object) -> None:
        tracehooks.setprofile_new_threads(None)
        with self._cond:
            self._active = False
            self._cond.notify_all()

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if event not in ("c_return", "return"):
            return
        if not self._active:
            tracehooks.setprofile(None)  # a thread that outlived the block: stop profiling it
            return
        if event == "return":  # a tracked lock's release: judge where it was called from
            caller = frame.f_back
            if frame.f_code not in _TRACKED_RELEASES or caller is None:
                return
            frame = caller
        elif getattr(arg, "__name__", None) not in _RELEASES:
            return
        elif type(getattr(arg, "__self__", None)) not in _LOCK_TYPES:
            return
        if frame.f_code.co_filename in self._files:
            self._released(threading.current_thread())

    def _released(self, me: threading.Thread) -> None:
        """Note a release by `me`, then wait for another thread's turn (bounded)."""
        with self._cond:
            if self._inside[me] <= 0:
                return
            mine = len(self.releases)
            before = self._last.get(me)
            if before is not None and any(t is not me for t in self.releases[before:]):
                self.interleaved = True
            self.releases.append(me)
            self._last[me] = mine
            self._cond.notify_all()
            if self.interleaved or self._given_up:
                return
            turned = self._cond.wait_for(
                lambda: len(self.releases) > mine + 1
                or self.interleaved
                or self._given_up
                or not self._active
                or not any(n > 0 for t, n in self._inside.items() if t is not me),
                self.timeout,
            )
            if not turned:
                self._given_up = True
                self._cond.notify_all()

    def summary(self) -> str:
        """'released the lock: Thread-1 (increment) 1 time(s), then Thread-2 ...', in order."""
        runs: list[list[Any]] = []
        for thread in self.releases:
            if runs and runs[-1][0] is thread:
                runs[-1][1] += 1
            else:
                runs.append([thread, 1])
        parts = [f"{t.name} {n} time(s)" for t, n in runs[:6]]
        more = ", ..." if len(runs) > 6 else ""
        return "released the lock: " + ", then ".join(parts) + more


def require_together(calls: CallRecorder, n_threads: int) -> None:
    """Every increment call was in flight at one moment (all started before any joined)."""
    made = calls.calls
    if calls.latch_filled or (len(made) >= 2 and calls.peak_running == len(made)):
        return
    raise CheckFailed(
        "Your threads ran one at a time, never together",
        expected=f"{n_threads} threads inside increment() at the same moment",
        got=f"at most {calls.peak_running} at once ({len(made)} calls in all)",
        hint="Start all the threads first, then join them all. A join() right after each "
        "start(), or a lock held around the whole increment() call, makes them take turns.",
    )


def require_turns_per_update(turns: TurnTaking) -> None:
    """The threads' lock releases interleave (or no lock was released inside increment)."""
    if turns.interleaved or not turns.releases:
        return
    raise CheckFailed(
        "Your threads took turns thread by thread: each held the lock for its whole loop",
        expected="the threads' updates interleave: each thread releases the lock after every "
        "update, and the others update in between",
        got=f"the threads {turns.summary()}; no thread released it again after another "
        "thread's turn",
        hint="Hold the lock only around the read and the write of counter, inside the loop: "
        "`for _ in range(times):` then `with lock:`. Around the whole loop, one thread "
        "does all its updates while the others wait.",
    )


# ---------------------------------------------------------------- R4, R5: joining


JOIN_DETAIL = (
    "In this check each increment() call keeps its thread running until your code joins "
    "that thread, so every thread you do not join is still running when run_threads returns."
)


# ---------------------------------------------------------------- R2: the calls


def require_calls(calls: Sequence[Call], n_threads: int, times: int) -> None:
    """increment(times) was called n_threads times, each in a thread of its own."""
    call = call_text(n_threads, times)
    if len(calls) != n_threads:
        raise CheckFailed(
            f"{call} called increment {len(calls)} time(s), not {n_threads}",
            expected=f"increment({times}) called once in each of {n_threads} threads",
            got=f"{len(calls)} call(s) of increment",
            hint="Create exactly n_threads threads (`for _ in range(n_threads)`), each with "
            "target=increment and args=(times,).",
        )
    wrong = [times_of(c) for c in calls if not (type(times_of(c)) is int and times_of(c) == times)]
    if wrong:
        raise CheckFailed(
            f"{call} called increment with another number than times={times}",
            expected=f"every call to be increment({times})",
            got=f"{len(wrong)} call(s) with times={wrong[0]!r}",
            hint="Pass run_threads' own `times` on: args=(times,), not a number of your own.",
        )
    in_main = [c for c in calls if c.is_main_thread]
    if in_main:
        raise CheckFailed(
            "increment ran in the main thread instead of a thread of its own",
            got=f"{len(in_main)} call(s) of increment ran in MainThread",
            hint="Pass `target=increment, args=(times,)` and call start(): "
            "`target=increment(times)` calls it right away, in the main thread.",
        )
    if len({id(c.thread) for c in calls}) != len(calls):
        raise CheckFailed(
            "Several calls of increment shared one thread",
            expected=f"{n_threads} threads, one call of increment in each",
            got=f"{len(calls)} calls in {len({id(c.thread) for c in calls})} thread(s)",
            hint="Create a new threading.Thread for each call.",
        )


# ---------------------------------------------------------------- the checks


@check("The total is exact, even when threads switch at the worst moment", points=4, requires="R6")
def exact_total(ctx: Context) -> None:
    n_threads, times = sizes(ctx, (40, 70), choices=FORCED_CHOICES)
    run_forced(ctx, ctx.load(), n_threads, times)


@check("The threads really run at the same time, update by update", points=2, requires="R3")
def concurrent(ctx: Context) -> None:
    mod = ctx.load()
    n_threads, times = sizes(ctx, (3, 12))
    cap_times(mod, times)
    calls = record(mod, "increment", latch=n_threads, timeout=LATCH_TIMEOUT)
    turns = TurnTaking(ctx.files)
    turns.wrap(mod, "increment")
    with turns:
        mod.run_threads(n_threads=n_threads, times=times)
        ctx.settle()
    require_together(calls, n_threads)
    require_turns_per_update(turns)


@check("increment(times) runs once in each of n_threads threads", points=1, requires="R2")
def increment_calls(ctx: Context) -> None:
    mod = ctx.load()
    n_threads, times = sizes(ctx, (20, 120))
    # the latch keeps every call busy until all run, so that a pool gives each its own thread
    calls = record(mod, "increment", latch=n_threads, timeout=LATCH_TIMEOUT / 2)
    mod.run_threads(n_threads=n_threads, times=times)
    ctx.settle()
    require_calls(calls.calls, n_threads, times)


@check("run_threads returns only when every thread has finished", points=1, requires="R4")
def joined(ctx: Context) -> None:
    mod = ctx.load()
    n_threads, times = sizes(ctx, (5, 50))
    calls = record(mod, "increment")
    with JoinGate(HOLD_TIMEOUT) as gate:
        # outermost, and named increment: Python names a thread after its target
        mod.increment = gate.wrap(mod.increment, hold_first=False, name="increment")
        ctx.call(mod.run_threads, n_threads=n_threads, times=times)
    ctx.settle()
    if not calls.calls:  # no thread ran increment: nothing was waited for, R4 is not shown
        raise CheckFailed(
            f"{call_text(n_threads, times)} returned without calling increment at all",
            expected=f"increment({times}) running in {n_threads} threads, all joined before "
            "run_threads returns",
            got="no call of increment, so no thread to join",
            hint="Start n_threads threads with target=increment and args=(times,), then join() "
            "each one before returning the counter.",
        )
    try:
        ctx.require_joined(
            call_text(n_threads, times),
            hint="Keep every thread you start in a list; after starting them all, join() each "
            "one, not only the first or the last.",
        )
    except CheckFailed as failed:
        raise CheckFailed.from_feedback(replace(failed.feedback, details=(JOIN_DETAIL,))) from None


@check("run_threads returns the counter, not a computed answer", points=1, requires="R5")
def counter_returned(ctx: Context) -> None:
    mod = ctx.load()
    n_threads, times = sizes(ctx, (2, 30))
    guard = threading.Lock()

    def increment(times: int, *args: Any, **kwargs: Any) -> None:
        with guard:  # not what a learner would expect to count: times + 1 per call
            mod.counter += times + 1

    with JoinGate(HOLD_TIMEOUT) as gate:  # an unjoined thread adds nothing before the return
        mod.increment = gate.wrap(increment, hold_first=True, name="increment")
        got = ctx.call(mod.run_threads, n_threads=n_threads, times=times)
        at_return = mod.counter
    ctx.settle()
    if type(got) is int and type(at_return) is int and got == at_return:
        return
    raise CheckFailed(
        "run_threads returned something that is not the counter",
        expected=f"the value of counter when run_threads returned ({at_return!r}; in this "
        "check increment was swapped for one that adds times + 1)",
        got=f"{call_text(n_threads, times)} returned {got!r}",
        hint="Return the global counter itself, after joining the threads; do not compute "
        "n_threads * times, and do not read counter before the threads are done.",
    )


@check(
    "run_threads() with its defaults (5 threads x 10,000) counts to 50,000 in time",
    points=1,
    requires="R7",
)
def workshop_size(ctx: Context) -> None:
    """The defaults, plainly, time-boxed by this check's timeout: hangs show only at this size.

    CPython's switch interval is raised for the run, so that no update can be lost to an
    unlucky switch (exact_total's business): the count depends only on what the code does.
    """
    mod = ctx.load()
    calls = record(mod, "increment")
    previous = sys.getswitchinterval()
    sys.setswitchinterval(CALM_SWITCH_INTERVAL)
    try:
        mod.run_threads()
    finally:
        sys.setswitchinterval(previous)
    ctx.settle()
    final = mod.counter
    want = DEFAULTS[0] * DEFAULTS[1]
    if type(final) is int and final == want:
        return
    asked = sorted({repr(times_of(c)) for c in calls.calls})
    raise CheckFailed(
        f"run_threads() did not count to {want:,}",
        expected=f"counter = {want} after run_threads() with its defaults (5 threads x 10,000)",
        got=f"counter = {final!r}; increment was called {len(calls.calls)} time(s), with "
        f"times = {', '.join(asked) or 'nothing'}",
        hint="Keep the defaults n_threads=5 and times=10_000 in run_threads' signature.",
    )


# Graded hints for `make hint TASK=counter_lock`: one more each time, never the answer.
HINTS = (
    "run_threads is start_join again: threads running increment(times), all started, then all "
    "joined. Reset the global first (declare it global inside the function, then set it to 0) "
    "and return it at the end.",
    "Why updates get lost: one line reads counter into `new`, the next writes it back. If "
    "another thread writes between those two lines, its update is overwritten. The checks "
    "force that switch, and `make check TASK=counter_lock` shows which thread read, which "
    "wrote, and on which line.",
    "Create ONE threading.Lock() at module level, next to counter. A lock created inside "
    "increment, or one per thread, is a different lock for every caller and protects nothing.",
    "Hold the lock around both steps, the read and the write, inside the loop, using a `with` "
    "block on your module's lock. Around only one of the two, another thread can still slip "
    "in between them; around the whole loop, the threads no longer run together.",
)

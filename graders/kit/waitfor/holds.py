"""The kit's own holds, and when they may end early.

Graders hold learner threads on purpose: an HTTP latch keeps requests until N are in flight
(graders.kit.http_fixture), a forced interleaving stalls the last pop until a second worker
comes (graders.kit.interleave), a check keeps a transfer inside its locks until the others
come in. Each hold waits for *another thread* to arrive. When none can (every other learner
thread has finished, is held by the kit too, or waits on something only held or stuck threads
can end), waiting longer only costs time: the hold ends at once, as "quiet", instead of at its
time limit. The wait-for graph of the check decides (graders.kit.waitfor.graph, Graph.quiet);
its time limit stays for waits the graph cannot see.

Every hold registers its thread (`held_by_kit`). A hold that only times things (a latch) asks
`quiet`: every held thread counts as waiting. A hold whose early end is a verdict (a stall,
a held download) asks `quiet_alone`: threads other holds keep still count as able to come, so
it ends only after the timing holds let theirs go. Two looks QUIET_LOOK apart must agree with
nothing moving in between (`Stillness`), as the watchdog's own verdict does.
"""

from __future__ import annotations

import _thread
import contextlib
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from graders.kit.waitfor.graph import Graph

# Quiet: a token that stays the same while nothing moves, or None (some thread can still come).
Quiet = Callable[[], "Hashable | None"]
QUIET_LOOK = 0.02  # seconds between two looks of a hold at `quiet`
_current_thread = threading.current_thread  # captured: learner code may monkeypatch threading
_clock = time.perf_counter
# thread ident -> (thread, whether its hold has ended), while a kit hold has it
_kit_held: dict[int, tuple[threading.Thread, Callable[[], bool] | None]] = {}
_kit_held_lock = _thread.allocate_lock()


@contextlib.contextmanager
def held_by_kit(released: Callable[[], bool] | None = None) -> Iterator[None]:
    """While the block runs, the calling thread is held by the kit (a latch, a stall): `quiet`
    counts it as waiting for an arrival, whichever instrument asks.

    `released`: true once the hold has ended, before the thread has run again (a latch let
    its group go; the thread still has to wake up). From then on `quiet` counts the thread as
    able to go on, as it is: on a loaded machine the wake-up can take longer than two looks,
    and a thread counted as held until then made the next hold end as "quiet" while a thread
    that would come to it was only late. Asked from other threads, without a lock: keep it a
    plain read of a flag."""
    me = _current_thread()
    with _kit_held_lock:
        _kit_held[me.ident or 0] = (me, released)
    try:
        yield
    finally:
        with _kit_held_lock:
            _kit_held.pop(me.ident or 0, None)


def quiet() -> Hashable | None:
    """Whether no thread of the running check can still go on, the ones the kit holds aside
    (Graph.quiet): a token that stays the same while nothing moves, or None. Always None when
    no wait-for graph is active (outside a check, or with THREADKIT_WAITFOR=0).

    For a hold that only times things (a latch): ending it early changes no verdict."""
    with _kit_held_lock:
        holds = list(_kit_held.items())
    return _quiet({ident: thread for ident, (thread, released) in holds if not _ended(released)})


def quiet_alone() -> Hashable | None:
    """`quiet` for a hold whose early end is a verdict (a stalled pop never paired, a held
    download the others never caught up with): only the calling thread counts as held, so
    threads that other holds keep (a latch) count as still able to come. Such a hold outlasts
    the timing holds around it, and ends once they have let their threads go."""
    me = _current_thread()
    return _quiet({me.ident or 0: me})


def blocked(thread: threading.Thread) -> bool:
    """Whether `thread` is blocked right now in a wait the running check's graph tracks (on
    a lock, a join or a condition of the learner's code): a hold that waits for a thread to
    get somewhere may count that as getting there. False without an active graph."""
    graph = _active_graph()
    return graph is not None and thread in graph.waiting(QUIET_LOOK)[1]


def holds_learner_lock() -> bool:
    """Whether the calling thread holds a lock of the learner's (tracked) right now: a hold
    of the kit inside it could make another thread wait for this one, and this one for that
    thread's join, each for the other. False without an active graph."""
    from graders.kit.waitfor import _Watchdog, tracked

    graph = _Watchdog._graph
    state = getattr(tracked._tls, "state", None)
    return graph is not None and state is not None and state.graph is graph and bool(state.held)


def _ended(released: Callable[[], bool] | None) -> bool:
    """Whether a hold has ended. A predicate that fails counts as ended: the thread then
    counts as able to go on, so no other hold ends early on its account (its time limit
    stays)."""
    if released is None:
        return False
    try:
        return bool(released())
    except Exception:  # noqa: BLE001 - see above
        return True


def _quiet(held: dict[int, threading.Thread]) -> Hashable | None:
    graph = _active_graph()
    progress = graph.quiet(held.values()) if graph is not None else None
    return None if progress is None else (progress, frozenset(held))


def _active_graph() -> Graph | None:
    """The wait-for graph of the check running now, unless it is closed."""
    from graders.kit.waitfor import _Watchdog  # the active graph (a cycle at import time)

    graph = _Watchdog._graph
    return None if graph is None or graph.closed else graph


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


def wait_quietly(
    cond: threading.Condition,
    done: Callable[[], bool],
    deadline: Callable[[], float],
    probe: Quiet | None = quiet,
) -> Literal["done", "quiet", "timeout"]:
    """Wait on `cond` (the caller holds it) until done() is true, no other thread can come
    (`probe`, asked every QUIET_LOOK with `cond` let go: the graph takes locks of its own), or
    the clock passes deadline() (perf_counter seconds; it may move). The calling thread counts
    as held by the kit meanwhile. `probe=None`: no looks (another thread of the hold looks)."""
    stillness = Stillness(probe) if probe is not None else None
    with held_by_kit(done):
        while not done():
            left = deadline() - _clock()
            if left <= 0:
                return "timeout"
            if stillness is None:
                cond.wait(left)
                continue
            cond.wait(min(left, QUIET_LOOK))
            if done():
                break
            cond.release()
            try:
                still = stillness.settled()
            finally:
                cond.acquire()
            if still and not done():
                return "quiet"
    return "done"

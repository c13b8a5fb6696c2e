"""Visible checks for counter_lock: the total is exact even when threads switch at the worst time.

A plain stress run never loses an update on CPython 3.10-3.13 (DESIGN.md fact 1), so the
exact-total check runs the learner's threads under forced interleaving, which does.
"""

from __future__ import annotations

import threading
from types import ModuleType

from graders.checks import Context, check
from graders.feedback import CheckFailed, location
from graders.interleave import ForcedInterleaving
from graders.observe import record

N_THREADS, TIMES = 5, 100


def replay(ctx: Context) -> str:
    return f"Run it again with the same seed: make check TASK={ctx.task} SEED={ctx.seed}"


def run_forced(ctx: Context, mod: ModuleType, n_threads: int, times: int) -> None:
    """Call run_threads under forced interleaving and fail with the story of a lost update."""
    with ForcedInterleaving(ctx.files, seed=ctx.seed, watch_globals=["counter"]) as forced:
        got = mod.run_threads(n_threads=n_threads, times=times)
    want = n_threads * times
    if type(got) is int and got == want:  # exact int: an object's __eq__ could lie
        return
    call = f"run_threads(n_threads={n_threads}, times={times})"
    lost = forced.lost_update("counter")
    if lost is None:
        raise CheckFailed(
            f"{call} returned the wrong total",
            expected=f"{want} (an int)",
            got=f"{got!r} (a {type(got).__name__})",
            details=[replay(ctx)],
            hint="Reset counter to 0, run increment(times) in every thread, join them all, "
            "and return counter.",
        )
    missing = want - got if isinstance(got, int) else "some"
    raise CheckFailed(
        f"Updates to counter were lost when threads switched at the wrong moment: "
        f"{missing} increments were lost",
        expected=f"{call} to return {want}",
        got=f"returned {got!r}",
        where=location(ctx.path, lost.victim_write.line),
        details=[lost.describe(), replay(ctx)],
        hint="Reading counter and writing it back are two steps; another thread can write "
        "in between. Create ONE lock at module level and hold it around both steps.",
    )


@check("The total is exact, even when threads switch at the worst moment", points=5)
def exact_total(ctx: Context) -> None:
    run_forced(ctx, ctx.load(), N_THREADS, TIMES)


@check("The threads really run at the same time", points=3)
def concurrent(ctx: Context) -> None:
    mod = ctx.load()
    calls = record(mod, "increment", latch=N_THREADS, timeout=1.0)
    mod.run_threads(n_threads=N_THREADS, times=10)
    if calls.latch_filled:
        return
    raise CheckFailed(
        "Your threads ran one at a time, never together",
        expected=f"{N_THREADS} threads inside increment() at the same moment",
        got=f"at most {calls.peak_running} at once ({len(calls.calls)} calls in all)",
        hint="Start all the threads first, then join them all. A join() right after each "
        "start(), or a lock held around the whole increment() call, makes them take turns.",
    )


@check("run_threads returns the counter, not a computed answer", points=2)
def counter_returned(ctx: Context) -> None:
    mod = ctx.load()
    guard = threading.Lock()

    def add_times_plus_one(times: int) -> None:  # not what a learner would expect to count
        with guard:
            mod.counter += times + 1

    mod.increment = add_times_plus_one
    got = mod.run_threads(n_threads=3, times=7)
    want = 3 * (7 + 1)
    if type(got) is int and type(mod.counter) is int and got == want == mod.counter:
        return
    raise CheckFailed(
        "run_threads returned something that is not the counter",
        expected=f"the value of counter after the threads ran ({want}, in this test "
        "increment was swapped for one that adds times + 1)",
        got=f"returned {got!r} while counter was {mod.counter!r}",
        hint="Return the global counter itself after joining the threads; do not compute "
        "n_threads * times.",
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
    "in between them.",
)

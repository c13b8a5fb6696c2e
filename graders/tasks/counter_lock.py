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
    return f"Replay this exact run: make check TASK={ctx.task} SEED={ctx.seed}"


def run_forced(ctx: Context, mod: ModuleType, n_threads: int, times: int) -> None:
    """Call run_threads under forced interleaving and fail with the story of a lost update."""
    with ForcedInterleaving(ctx.files, seed=ctx.seed, watch_globals=["counter"]) as forced:
        got = mod.run_threads(n_threads=n_threads, times=times)
    want = n_threads * times
    if got == want:
        return
    call = f"run_threads(n_threads={n_threads}, times={times})"
    lost = forced.lost_update("counter")
    details = [lost.describe()] if lost else []
    details.append(replay(ctx))
    missing = f" - {want - got} increments were lost" if isinstance(got, int) else ""
    raise CheckFailed(
        f"Updates to counter were lost when threads switched at the wrong moment{missing}",
        expected=f"{call} to return {want}",
        got=f"returned {got!r}",
        where=location(ctx.path, lost.victim_write.line) if lost else "",
        details=details,
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
    if got == want == mod.counter:
        return
    raise CheckFailed(
        "run_threads returned something that is not the counter",
        expected=f"the value of counter after the threads ran ({want}, in this test "
        "increment was swapped for one that adds times + 1)",
        got=f"returned {got!r} while counter was {mod.counter!r}",
        hint="Return the global counter itself after joining the threads; do not compute "
        "n_threads * times.",
    )

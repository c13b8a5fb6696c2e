"""Hidden checks for counter_lock: eight threads and one, and a counter that starts dirty."""

from __future__ import annotations

import threading
from typing import Any

from graders.kit.checks import Context, check
from graders.kit.feedback import CheckFailed
from graders.tasks.counter_lock import call_text, run_forced, sizes


@check("Exact with 8 threads and with 1 thread", points=2, hidden=True, requires="R6")
def many_threads(ctx: Context) -> None:
    rng = ctx.rng()
    run_forced(ctx, ctx.load(), 8, rng.randint(30, 45))
    run_forced(ctx, ctx.load(), 1, rng.randint(20, 60))


@check("run_threads starts from 0 every time it is called", points=1, hidden=True, requires="R1")
def resets(ctx: Context) -> None:
    """Twice in a row, from a dirty counter: each run's counter holds only that run's updates.

    increment is swapped for one that adds `times` in one step under the grader's own lock,
    so the count cannot depend on the learner's locking (exact_total's business).
    """
    mod = ctx.load()
    n_threads, times = sizes(ctx, (5, 40))
    dirty = ctx.rng("dirty").randint(100, 999)
    guard = threading.Lock()
    added = [0]

    def increment(times: int, *args: Any, **kwargs: Any) -> None:
        with guard:
            mod.counter += times
            added[0] += times

    mod.increment = increment
    mod.counter = dirty
    seen = []
    for _ in range(2):
        added[0] = 0
        mod.run_threads(n_threads=n_threads, times=times)
        ctx.settle()
        seen.append((mod.counter, added[0]))
    if all(type(c) is int and c == a for c, a in seen):
        return
    raise CheckFailed(
        "run_threads does not start from a counter of 0",
        expected=f"after each of two calls of {call_text(n_threads, times)}, counter holds the "
        f"updates of that call only ({seen[0][1]}), though it held {dirty} before the first",
        got=f"counter = {seen[0][0]!r}, then {seen[1][0]!r}",
        hint="Set the global counter to 0 at the start of run_threads (`global counter`).",
    )

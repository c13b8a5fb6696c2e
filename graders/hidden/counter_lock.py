"""Hidden checks for counter_lock: other thread counts, and a counter that starts dirty."""

from __future__ import annotations

from graders.checks import Context, check
from graders.feedback import CheckFailed
from graders.tasks.counter_lock import run_forced


@check("Exact with 8 threads and with 1 thread", points=2, hidden=True)
def many_threads(ctx: Context) -> None:
    run_forced(ctx, ctx.load(), 8, 40)
    run_forced(ctx, ctx.load(), 1, 50)


@check("run_threads starts from 0 every time it is called", points=1, hidden=True)
def resets(ctx: Context) -> None:
    mod = ctx.load()
    mod.counter = 123
    first = mod.run_threads(n_threads=2, times=10)
    second = mod.run_threads(n_threads=2, times=10)
    if type(first) is int and type(second) is int and first == second == 20:
        return
    raise CheckFailed(
        "run_threads does not start from a counter of 0",
        expected="20 from run_threads(2, 10), twice in a row, whatever counter held before",
        got=f"{first!r}, then {second!r}",
        hint="Set the global counter to 0 at the start of run_threads (`global counter`).",
    )

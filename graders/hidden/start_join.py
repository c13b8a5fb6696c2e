"""Hidden checks for start_join: other names, more workers, edge cases."""

from __future__ import annotations

from graders.checks import Context, check
from graders.feedback import CheckFailed
from graders.tasks.start_join import require_overlap, require_own_threads, run_recorded

MANY = tuple(f"worker-{i}" for i in range(6))


@check(
    "Six workers with other names all run at once, each in its own thread", points=2, hidden=True
)
def many_workers(ctx: Context) -> None:
    workers = run_recorded(ctx.load(), MANY, steps=1)
    require_overlap(workers, MANY)
    require_own_threads(workers, MANY)


@check("One worker, and zero steps, work too", points=1, hidden=True)
def edge_cases(ctx: Context) -> None:
    mod = ctx.load()
    require_own_threads(run_recorded(mod, ("solo",), steps=1), ("solo",))
    workers = run_recorded(ctx.load(), ("x", "y"), steps=0)
    if len(workers.calls) != 2:
        raise CheckFailed(
            "run_workers did not run every worker when steps=0",
            expected="worker called for x and y",
            got=f"{len(workers.calls)} call(s)",
            hint="Do not hard-code the names or the number of steps.",
        )

"""Hidden checks for start_join: more workers, one worker, zero steps, lists and tuples."""

from __future__ import annotations

from graders.kit.checks import Context, check
from graders.tasks.start_join import (
    Inputs,
    draw_inputs,
    require_given_args,
    require_once_per_name,
    require_overlap,
    require_own_threads,
    run_recorded,
)


@check(
    "Six to eight workers with other names all run at once, each in its own thread",
    points=2,
    requires=("R1", "R3", "R4"),
    hidden=True,
)
def many_workers(ctx: Context) -> None:
    inputs = draw_inputs(ctx, sizes=(6, 7, 8))
    workers = run_recorded(ctx, inputs, latch=True)
    require_once_per_name(workers, inputs)
    require_own_threads(workers, inputs)
    require_overlap(workers, inputs)


@check(
    "One worker, and zero steps, in a tuple or a list, work too",
    points=1,
    requires=("R1", "R2"),
    hidden=True,
)
def edge_cases(ctx: Context) -> None:
    one = draw_inputs(ctx, "one", sizes=(1,))
    pair = draw_inputs(ctx, "zero", sizes=(2,))
    zero_steps = Inputs(list(pair.names), 0, pair.delay)
    for inputs in (one, zero_steps):
        workers = run_recorded(ctx, inputs)
        require_once_per_name(workers, inputs)
        require_given_args(workers, inputs)

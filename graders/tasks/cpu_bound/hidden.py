"""Hidden checks for cpu_bound: the workshop's own RANGES and N, plainly; and one worker."""

from __future__ import annotations

from graders.kit.checks import Context, check
from graders.tasks.cpu_bound import (
    PROCESSES,
    THREADS,
    draw_inputs,
    learner_module,
    require_processes,
    require_times,
    require_total,
    require_ways,
    run_compare,
    run_way,
    workshop_inputs,
)


@check(
    "The workshop's RANGES and N: both ways give the total, compare times each way",
    points=2,
    requires=("R1", "R4", "R7", "R8"),
    hidden=True,
    # The workshop's sizes take about a second now that the grader counts with a sieve
    # (prime_count). With the given count_primes they were about 5 s of CPU, and the busy
    # repetition (8 runnable processes on 2 cores) once took over 20 s: the limit is kept.
    timeout=40.0,
)
def workshop(ctx: Context) -> None:
    with learner_module(ctx) as mod:
        inputs = workshop_inputs(mod)
    require_total(run_way(ctx, THREADS, inputs))
    require_total(run_way(ctx, PROCESSES, inputs))
    run = run_compare(ctx, inputs)
    require_ways(run)
    require_times(run)


@check(
    "With n = 1: the total from one thread, and from exactly one other process",
    points=1,
    requires=("R1", "R4", "R5"),
    hidden=True,
)
def one_worker(ctx: Context) -> None:
    require_total(run_way(ctx, THREADS, draw_inputs(ctx, THREADS, "one", n=1)))
    run = run_way(ctx, PROCESSES, draw_inputs(ctx, PROCESSES, "one", n=1), latch=True)
    require_total(run)
    require_processes(run)

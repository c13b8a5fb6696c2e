"""Visible checks for start_join: run_workers starts every worker, then joins them all."""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

from graders.checks import Context, check
from graders.feedback import CheckFailed
from graders.observe import CallRecorder, record

NAMES = ("Thread-A", "Thread-B", "Thread-C")
STEPS, DELAY = 2, 0.02
LATCH_TIMEOUT = 1.0


def run_recorded(
    mod: ModuleType, names: Sequence[str] = NAMES, steps: int = STEPS, delay: float = DELAY
) -> CallRecorder:
    """Call the learner's run_workers with `worker` recorded; workers must all meet at a latch.

    The latch opens only when every worker is running at the same moment: that is the proof
    of overlap. Afterwards wait (bounded) for stragglers, so that a missing join() is judged by
    its own check and does not spill into this one.
    """
    workers = record(mod, "worker", latch=len(names), timeout=LATCH_TIMEOUT)
    mod.run_workers(tuple(names), steps=steps, delay=delay)
    workers.wait_done(timeout=5.0)
    return workers


def require_overlap(workers: CallRecorder, names: Sequence[str]) -> None:
    if workers.latch_filled:
        return
    if any(c.is_main_thread for c in workers.calls):
        require_own_threads(workers, names)
    raise CheckFailed(
        "Your workers ran one after the other, not at the same time",
        expected=f"all {len(names)} workers running at once",
        got=f"at most {workers.peak_running} worker(s) running at any moment",
        hint="Start every thread first, and only then join them: a join() right after "
        "start() waits for that worker before the next one starts.",
    )


def _name(value: object) -> str:
    """A worker's name as a plain str (a str subclass could compare equal to anything)."""
    return str.__str__(value) if isinstance(value, str) else f"<{type(value).__name__}>"


def require_own_threads(workers: CallRecorder, names: Sequence[str]) -> None:
    calls = workers.calls
    called = sorted(_name(c.args[0] if c.args else c.kwargs.get("name")) for c in calls)
    if called != sorted(names):
        raise CheckFailed(
            "worker() was not called once per name",
            expected=f"worker called for {sorted(names)}",
            got=f"worker called for {called}",
            hint="Create one Thread per name, with args=(name, steps, delay).",
        )
    in_main = [c.thread_name for c in calls if c.is_main_thread]
    if in_main:
        raise CheckFailed(
            "A worker ran in the main thread instead of its own thread",
            got=f"{len(in_main)} worker call(s) ran in MainThread",
            hint="Call thread.start(), not thread.run() or worker(...) yourself: start() is "
            "what makes a new thread; `target=worker(...)` calls it right away in the main "
            "thread. Pass `target=worker, args=(...)` instead.",
        )
    if len({id(c.thread) for c in calls}) != len(calls):
        raise CheckFailed(
            "Several workers shared one thread",
            expected="one thread per name",
            hint="Create a new threading.Thread for each name.",
        )


@check("All workers run at the same time", points=4)
def overlap(ctx: Context) -> None:
    require_overlap(run_recorded(ctx.load()), NAMES)


@check("Each worker runs in a thread of its own", points=3)
def own_threads(ctx: Context) -> None:
    require_own_threads(run_recorded(ctx.load()), NAMES)


@check("run_workers returns only when every worker has finished", points=3)
def joined(ctx: Context) -> None:
    mod = ctx.load()
    workers = record(mod, "worker")
    mod.run_workers(NAMES, steps=STEPS, delay=DELAY)
    running = [c.thread_name for c in workers.calls if c.end is None]
    if len(workers.calls) < len(NAMES) or running:
        raise CheckFailed(
            "run_workers returned before its workers finished",
            expected=f"all {len(NAMES)} workers done when run_workers returns",
            got=f"{len(workers.calls) - len(running)} done, the others still running",
            hint="After starting all threads, call join() on every one of them.",
        )
    workers.wait_done(timeout=5.0)


# Graded hints for `make hint TASK=start_join`: one more each time, never the answer.
HINTS = (
    "A thread runs a function beside your main program. `threading.Thread(target=..., "
    "args=(...))` only describes it: nothing runs until you call the thread's start().",
    "Pass the function itself as target, without parentheses, and its arguments as a tuple: "
    "args=(name, steps, delay). Writing target=worker(name, ...) calls worker at once, in the "
    "main thread, before any thread exists.",
    "Build one Thread per name and keep them all in a list. Start every one of them first; "
    "only after that loop, join every one. A join() right after each start() makes each "
    "worker wait for the one before it.",
    "Try it yourself: `python exercises/start_join.py` should print the steps of both workers "
    "mixed together and take about 3 s, not 6 s.",
)

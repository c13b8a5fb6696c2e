"""Visible checks for start_join: one thread per name, with the arguments given, all at once.

Every check replaces the given `worker` with a recorded stand-in of the same signature that
neither prints nor sleeps, and calls run_workers with names, steps and delay drawn from the
run's seed (at least 3 names in no sorted order, never worker's own defaults), so that a
submission that hard-codes or drops any of them shows it in every run. Each check judges one
requirement of the task text and nothing else; the others have checks of their own.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from graders.kit.checks import Context, check
from graders.kit.feedback import CheckFailed
from graders.kit.join_gate import JoinGate
from graders.kit.observe import Call, CallRecorder, record

# The task text, sentence by sentence (the stub's docstring numbers them the same way).
TYPICAL_SECONDS = 0.05  # seconds on 2 cores: the order tasks start in (Task.typical_seconds)

REQUIREMENTS = {
    "R1": "worker is called exactly once per name in `names` (a tuple or a list, one name or "
    "many): one threading.Thread per name",
    "R2": "every worker gets the steps and delay run_workers was given, args=(name, steps, "
    "delay), not worker's own defaults",
    "R3": "each worker runs in a new thread of its own, never in the main thread",
    "R4": "all the threads are started before any is joined: all the workers run at once",
    "R5": "run_workers joins them all: it returns only when every worker is done",
    "R6": 'run_workers() keeps its defaults: "Thread-A" and "Thread-B", 3 steps of 1.0 s each',
}

DEFAULTS = (("Thread-A", "Thread-B"), 3, 1.0)  # run_workers' own defaults, as the stub gives
LATCH_TIMEOUT = 1.0  # how long a worker waits for all the others to be running with it
GATE_TIMEOUT = 2.0  # how long a worker waits for its thread to be joined (only if it never is)
SETTLE = 0.5  # bounded wait for threads a submission forgot to join (stand-ins never sleep)
ANIMALS = ("Otter", "Lynx", "Heron", "Bison", "Gecko", "Moose", "Raven", "Koala", "Yak")
ANIMALS += ("Ibis", "Newt", "Puma", "Wren", "Crane", "Dingo", "Egret", "Finch", "Tapir")


@dataclass(frozen=True)
class Inputs:
    """One call of run_workers: names (a tuple or a list, as drawn), steps and delay."""

    names: Sequence[str]
    steps: int
    delay: float

    def text(self) -> str:
        return f"run_workers({self.names!r}, steps={self.steps}, delay={self.delay})"


def draw_inputs(ctx: Context, label: str = "", sizes: Sequence[int] = (3, 4, 5)) -> Inputs:
    """Seeded inputs: distinct names in no sorted order, steps and delay unlike the defaults."""
    rng = ctx.rng(label)
    names = [
        f"{animal}-{rng.randrange(10, 100)}" for animal in rng.sample(ANIMALS, rng.choice(sizes))
    ]
    while len(names) > 1 and names == sorted(names):
        rng.shuffle(names)
    container: Callable[[list[str]], Sequence[str]] = rng.choice((tuple, list))
    steps = rng.choice((2, 4, 5, 6))  # never worker's default 3
    delay = rng.choice((0.01, 0.015, 0.02, 0.025, 0.03))  # never worker's default 1.0
    return Inputs(container(names), steps, delay)


@dataclass
class Workers:
    """The recorded stand-in for `worker`, and the signature its calls are bound against."""

    recorder: CallRecorder
    signature: inspect.Signature
    skip: int = 0  # calls made before this view: an earlier run_workers call's

    @property
    def calls(self) -> list[Call]:
        return self.recorder.calls[self.skip :]

    def from_now(self) -> Workers:
        """A view of the calls made from now on (the next run_workers call's)."""
        return Workers(self.recorder, self.signature, len(self.recorder.calls))

    def given(self, call: Call) -> tuple[Any, ...] | None:
        """(name, steps, delay) a call ran with, worker's defaults filled in; None if unbindable."""
        try:
            bound = self.signature.bind(*call.args, **call.kwargs)
        except TypeError:
            return None
        bound.apply_defaults()
        values = tuple(bound.arguments.values())
        return values[:3] if len(values) >= 3 else None


def stand_in(mod: ModuleType, *, latch: int = 0, gate: JoinGate | None = None) -> Workers:
    """Replace the module's `worker` with a recorded stand-in: same signature, no sleeping.

    With `latch`, each call waits (bounded) until `latch` calls run at once: the proof that
    they overlap. With `gate`, each call in a thread waits until that thread is joined.
    """
    given = getattr(mod, "worker", None)
    if not callable(given):
        raise CheckFailed(
            "The given worker function is missing from your file",
            hint="Keep `worker(name, steps=3, delay=1.0)` exactly as it was given.",
        )
    signature = inspect.signature(given)

    def worker(*args: Any, **kwargs: Any) -> None:
        signature.bind(*args, **kwargs)  # the TypeError the real worker would raise
        if gate is not None:
            gate.hold()

    mod.worker = worker
    return Workers(record(mod, "worker", latch=latch, timeout=LATCH_TIMEOUT), signature)


def run(ctx: Context, mod: ModuleType, inputs: Inputs | None) -> None:
    """Call run_workers with `inputs` (with none: its defaults), noting what it left running."""
    if inputs is None:
        ctx.call(mod.run_workers)
    else:
        ctx.call(mod.run_workers, inputs.names, steps=inputs.steps, delay=inputs.delay)


def run_recorded(ctx: Context, inputs: Inputs, *, latch: bool = False) -> Workers:
    """A fresh module, its worker recorded, run once with `inputs`; then stragglers waited for.

    The wait is bounded and lets a thread the submission forgot to join finish, so that a
    missing join() is judged by its own check and does not spill into this one.
    """
    mod = ctx.load()
    workers = stand_in(mod, latch=len(inputs.names) if latch else 0)
    run(ctx, mod, inputs)
    ctx.settle(SETTLE)
    return workers


def _name(value: object) -> str:
    """A worker's name as a plain str (a str subclass could compare equal to anything)."""
    return str.__str__(value) if isinstance(value, str) else f"<{type(value).__name__}>"


def _same(value: object, want: object) -> bool:
    """Equal and of the same type (an object's __eq__ could lie)."""
    return type(value) is type(want) and value == want


def called_names(workers: Workers) -> list[str]:
    """The name each call of worker got, in the order the calls began."""
    names = []
    for call in workers.calls:
        given = workers.given(call)
        names.append(_name(given[0]) if given else "<no name>")
    return names


def described_calls(workers: Workers) -> list[str]:
    """Every call as "worker(name, steps, delay)", defaults filled in, sorted."""
    described = []
    for call in workers.calls:
        given = workers.given(call)
        if given is None:
            described.append(f"worker(*{call.args!r}, **{call.kwargs!r})")
        else:
            name, steps, delay = given
            described.append(f"worker({_name(name)!r}, {steps!r}, {delay!r})")
    return sorted(described)


def require_some_calls(workers: Workers, inputs: Inputs, hint: str) -> None:
    """Nothing to judge unless worker ran: a run_workers that calls no worker meets no sentence."""
    if workers.calls:
        return
    raise CheckFailed(
        f"{inputs.text()} returned without calling worker at all",
        expected=f"worker called once for each of the {len(inputs.names)} names, each in a "
        "thread of its own",
        got="no call of worker",
        hint=hint,
    )


def require_once_per_name(workers: Workers, inputs: Inputs) -> None:
    """R1: worker called exactly once for each name, none missing, none twice, none made up."""
    called = called_names(workers)
    if Counter(called) == Counter(inputs.names):
        return
    missing = sorted((Counter(inputs.names) - Counter(called)).elements())
    extra = sorted((Counter(called) - Counter(inputs.names)).elements())
    got = f"worker called for {called}"
    got += f"; never for {missing}" if missing else ""
    got += f"; not asked for (or twice): {extra}" if extra else ""
    raise CheckFailed(
        "worker() was not called exactly once per name",
        expected=f"{inputs.text()} to call worker once for each of {list(inputs.names)}",
        got=got,
        hint="Loop over the `names` run_workers was given (not a list of your own), and "
        "create one Thread per name.",
    )


def require_given_args(workers: Workers, inputs: Inputs) -> None:
    """R2: every call ran with the steps and delay run_workers was given (and there was one)."""
    require_some_calls(
        workers,
        inputs,
        hint="Create one Thread per name with target=worker and args=(name, steps, delay), "
        "and start it.",
    )
    for call in workers.calls:
        given = workers.given(call)
        if given is None:
            raise CheckFailed(
                "worker() was called with arguments it does not take",
                expected="worker(name, steps, delay)",
                got=f"worker called with args={call.args!r}, kwargs={call.kwargs!r}",
                hint="Pass args=(name, steps, delay) to each Thread.",
            )
        name, steps, delay = given
        if not (_same(steps, inputs.steps) and _same(delay, inputs.delay)):
            raise CheckFailed(
                "A worker did not get the steps and delay that run_workers was given",
                expected=f"{inputs.text()} to call worker(name, {inputs.steps}, {inputs.delay})",
                got=f"worker ran as worker({_name(name)!r}, steps={steps!r}, delay={delay!r})",
                hint="Pass all three arguments: args=(name, steps, delay). With args=(name,) "
                "every worker runs with worker's own defaults (3 steps of 1 s).",
            )


def require_own_threads(workers: Workers, inputs: Inputs) -> None:
    """R3: some call, none in the main thread, and no two calls in one thread."""
    require_some_calls(
        workers,
        inputs,
        hint="Create a threading.Thread(target=worker, args=(name, steps, delay)) for each "
        "name and call its start(): that runs worker in a new thread.",
    )
    calls = workers.calls
    in_main = [c for c in calls if c.is_main_thread]
    if in_main:
        raise CheckFailed(
            "A worker ran in the main thread instead of its own thread",
            got=f"{len(in_main)} of {len(calls)} worker call(s) ran in MainThread",
            hint="Call thread.start(), not thread.run() or worker(...) yourself: start() is "
            "what makes a new thread; `target=worker(...)` calls it right away in the main "
            "thread. Pass `target=worker, args=(...)` instead.",
        )
    if len({id(c.thread) for c in calls}) != len(calls):
        raise CheckFailed(
            "Several workers shared one thread",
            expected="one thread per name",
            got=f"{len(calls)} worker calls in {len({id(c.thread) for c in calls})} thread(s)",
            hint="Create a new threading.Thread for each name.",
        )


def require_overlap(workers: Workers, inputs: Inputs) -> None:
    """R4: every worker that ran was running at one moment (how many ran is R1's business)."""
    rec, calls = workers.recorder, workers.calls
    fewer = 0 < len(calls) < len(inputs.names)  # then the latch cannot fill: judge those
    if rec.latch_filled or (fewer and rec.peak_running >= len(calls)):
        return
    in_main = any(c.is_main_thread for c in calls)
    raise CheckFailed(
        "Your workers ran one after the other, not at the same time",
        expected=f"all {len(calls)} workers of {inputs.text()} running at once",
        got=f"at most {rec.peak_running} worker(s) running at any moment",
        hint="Call thread.start(), not thread.run() or worker(...) yourself: only start() "
        "runs it beside the others."
        if in_main
        else "Start every thread first, and only then join them: a join() right after "
        "start() waits for that worker before the next one starts.",
    )


@check("worker is called once for each name, and only for those", points=1, requires="R1")
def one_per_name(ctx: Context) -> None:
    mod = ctx.load()
    workers = stand_in(mod)
    for label in ("", "again"):  # twice in one program: each call runs its own names only
        inputs, these = draw_inputs(ctx, label), workers.from_now()
        run(ctx, mod, inputs)
        ctx.settle(SETTLE)
        require_once_per_name(these, inputs)


@check("Every worker gets the steps and delay run_workers was given", points=2, requires="R2")
def given_args(ctx: Context) -> None:
    inputs = draw_inputs(ctx)
    require_given_args(run_recorded(ctx, inputs), inputs)


@check("Each worker runs in a thread of its own", points=1, requires="R3")
def own_threads(ctx: Context) -> None:
    inputs = draw_inputs(ctx)
    require_own_threads(run_recorded(ctx, inputs, latch=True), inputs)


@check("All workers run at the same time", points=3, requires="R4")
def overlap(ctx: Context) -> None:
    inputs = draw_inputs(ctx)
    require_overlap(run_recorded(ctx, inputs, latch=True), inputs)


@check("run_workers returns only when every worker has finished", points=2, requires="R5")
def joined(ctx: Context) -> None:
    for inputs in (draw_inputs(ctx), draw_inputs(ctx, "one", sizes=(1,))):
        mod = ctx.load()
        with JoinGate(GATE_TIMEOUT) as gate:
            workers = stand_in(mod, gate=gate)
            run(ctx, mod, inputs)
        ctx.settle(SETTLE)
        if len(inputs.names) > 1:
            # no worker ran: nothing was waited for, so "returns when every worker is done" is
            # not shown. The one-name run is there for a path of its own (an early return); a
            # worker missing there is R1's business (one_per_name, edge_cases).
            require_some_calls(
                workers,
                inputs,
                hint="Start one thread per name running worker, then join every one of them.",
            )
        ctx.require_joined(
            inputs.text(),
            hint="After starting all the threads, call join() on every one of them (not only "
            "on the last one), on every path through run_workers.",
        )


@check('run_workers() runs "Thread-A" and "Thread-B", 3 steps of 1.0 s', points=1, requires="R6")
def defaults(ctx: Context) -> None:
    explicit = Inputs(*DEFAULTS)
    runs = []
    for inputs in (None, explicit):
        mod = ctx.load()
        workers = stand_in(mod)
        run(ctx, mod, inputs)
        ctx.settle(SETTLE)
        runs.append(described_calls(workers))
    if not runs[0]:  # two empty runs are equal, but run_workers() must run its two workers
        raise CheckFailed(
            "run_workers() with no arguments returned without calling worker at all",
            expected='run_workers() to run worker("Thread-A", 3, 1.0) and '
            'worker("Thread-B", 3, 1.0), each in a thread of its own',
            got="no call of worker",
            hint='Keep the signature as given: run_workers(names=("Thread-A", "Thread-B"), '
            "steps=3, delay=1.0), and start one thread per name.",
        )
    if runs[0] != runs[1]:
        raise CheckFailed(
            "run_workers() with no arguments does not use the defaults it was given",
            expected=f"run_workers() to run what {explicit.text()} runs: {', '.join(runs[1])}",
            got=f"run_workers() ran {', '.join(runs[0]) or 'no worker'}",
            hint='Keep the signature as given: run_workers(names=("Thread-A", "Thread-B"), '
            "steps=3, delay=1.0).",
        )


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

"""Declaring checks.

A task's suite module (graders/tasks/<id>/__init__.py, and <id>/hidden.py for the hidden ones)
declares checks with the `@check` decorator. A check is a plain function of one argument, a
`Context`; it passes by returning and fails by raising `CheckFailed`. Points and time limits are
declared here, next to the check, and nowhere else.

Every check names the numbered requirement(s) of the task text it enforces (`requires=`); the
task module lists them in `REQUIREMENTS`. tests/test_requirements.py proves that every
requirement has a check and every check a mutant that breaks only its requirement.
"""

from __future__ import annotations

import itertools
import random
import tempfile
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from graders.kit.feedback import CheckFailed, Replay
from graders.kit.import_budget import ImportBudget
from graders.kit.loader import load_module
from graders.kit.thread_watch import ThreadWatch, stack_lines

_order = itertools.count()
T = TypeVar("T")


@dataclass
class Context:
    """What a check gets: the learner's file, a fresh copy of their module, a seed, a temp dir."""

    task: str
    path: Path
    seed: int
    watch: ThreadWatch | None = field(default=None, repr=False)
    check: str = ""  # the running check's name (set by the runner): seeds its own inputs
    shares: str = ""  # the running check's declared shared run (Check.shares; set by the runner)
    alive_at_return: list[threading.Thread] = field(default_factory=list, repr=False)
    # the grading process's budget for importing the learner's module (None: unbounded)
    import_budget: ImportBudget | None = field(default=None, repr=False)
    # runs the checks of one task run share (graders.engine.worker passes one dict to all)
    shared: dict[str, Any] = field(default_factory=dict, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    def rng(self, label: str = "") -> random.Random:
        """A random source drawn from the run's seed, this check and `label`.

        Inputs (URL order, bodies, sizes, names, counts) come from here, so that every run
        tries other values and a failure replays with the seed it reports.
        """
        return random.Random(f"{self.seed}:{self.task}:{self.check}:{label}")

    def once(self, key: str, make: Callable[[random.Random], T]) -> T:
        """One observed run that several checks judge, each its own requirement: `make(rng)`
        runs for the first check that asks for `key` and every later one gets its record (or
        the same failure). Why: a run that takes long to observe (progress's slow download)
        costs its time once per task, not once per check. `rng` depends on the seed and `key`
        only, never on which check asked first, so every order of the checks sees one input.
        The record outlives the check that made it: it must hold no file a check reads later
        (that check's tmp_dir is gone). A check calls this only with the key it declares
        (`@check(shares=key)`): that is how its checks are kept in one grading process when a
        task's checks are split across several (graders.engine.shards)."""
        if key != self.shares:
            raise RuntimeError(
                f"check {self.check!r} uses the shared run {key!r} without declaring it: "
                f"@check(..., shares={key!r})"
            )
        if key not in self.shared:
            rng = random.Random(f"{self.seed}:{self.task}:once:{key}")
            try:
                self.shared[key] = (True, make(rng))
            except CheckFailed as failed:
                self.shared[key] = (False, failed.feedback)
                raise
        made, value = self.shared[key]
        if not made:
            raise CheckFailed.from_feedback(value)
        return value  # type: ignore[no-any-return]

    @property
    def replay(self) -> Replay:
        """How to see this run's forced interleavings again (a failure's `replay=`)."""
        return Replay(self.task, self.seed)

    def call(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Call a learner's function and note the threads it left alive at the moment it returned.

        Measured at the return itself, before any settling the check does for its own clean-up:
        that is what "returns only when every thread is done" means.
        """
        result = func(*args, **kwargs)
        self.alive_at_return = self.watch.leftover() if self.watch is not None else []
        return result

    def require_joined(self, call_text: str, hint: str = "") -> None:
        """Fail if the last `call` returned while threads it started were still running."""
        alive = self.alive_at_return
        if not alive:
            return
        names = ", ".join(t.name for t in alive[:5])
        raise CheckFailed(
            f"{call_text} returned while {len(alive)} of its threads were still running",
            expected=f"every thread it started finished when {call_text} returns",
            got=f"still running at the return: {names}",
            details=tuple(stack_lines(self.files, alive[:3])),
            hint=hint
            or "After starting all the threads, call join() on every one of them before returning.",
        )

    def load(self) -> ModuleType:
        """A freshly imported copy of the learner's module (no state left from other checks)."""
        return load_module(self.path, self.import_budget)

    def tmp_dir(self) -> Path:
        """An empty directory that lives until the check ends."""
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=f"threadkit-{self.task}-")
        sub = Path(tempfile.mkdtemp(dir=self._tmp.name))
        return sub

    def settle(self, timeout: float = 2.0) -> None:
        """Wait (bounded) for the threads the learner's code started in this check to end."""
        if self.watch is not None:
            self.watch.settle(timeout)

    def cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    @property
    def files(self) -> list[str]:
        """The learner's files, as the interleaver and tracebacks name them."""
        return [str(self.path)]


@dataclass(frozen=True)
class Check:
    """One graded check of one task."""

    name: str
    title: str
    points: int
    hidden: bool
    timeout: float
    func: Callable[[Context], None]
    order: int
    requires: tuple[str, ...] = ()  # ids of the task's REQUIREMENTS this check enforces
    shares: str = ""  # the Context.once run it judges: such checks run in one process

    def __call__(self, ctx: Context) -> None:
        self.func(ctx)


def check(
    title: str,
    *,
    points: int,
    requires: str | Iterable[str] = (),
    hidden: bool = False,
    timeout: float = 10.0,
    shares: str = "",
) -> Callable[[Callable[[Context], None]], Check]:
    """Declare a graded check. `title` is what learners see in the report; `requires` names the
    requirement(s) of the task text it enforces ("R2", or ("R2", "R3")); `shares` the key of
    the run it judges with other checks (Context.once), if any."""
    ids = (requires,) if isinstance(requires, str) else tuple(requires)

    def wrap(func: Callable[[Context], None]) -> Check:
        order = next(_order)
        return Check(func.__name__, title, points, hidden, timeout, func, order, ids, shares)

    return wrap


def select(checks: Iterable[Check], names: Collection[str] | None) -> list[Check]:
    """`checks` in their order; with `names`, only the ones named (a task split across
    grading processes: graders.engine.shards)."""
    return [c for c in checks if names is None or c.name in names]


def checks_in(module: ModuleType) -> list[Check]:
    """The checks a suite module declares, in the order they are written."""
    found = [v for v in vars(module).values() if isinstance(v, Check)]
    return sorted(found, key=lambda c: c.order)

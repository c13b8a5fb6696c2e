"""Declaring checks.

A task's suite module (graders/tasks/<id>.py, and graders/hidden/<id>.py for the hidden ones)
declares checks with the `@check` decorator. A check is a plain function of one argument, a
`Context`; it passes by returning and fails by raising `CheckFailed`. Points and time limits are
declared here, next to the check, and nowhere else.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from graders.loader import load_module
from graders.thread_watch import ThreadWatch

_order = itertools.count()


@dataclass
class Context:
    """What a check gets: the learner's file, a fresh copy of their module, a seed, a temp dir."""

    task: str
    path: Path
    seed: int
    watch: ThreadWatch | None = field(default=None, repr=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)

    def load(self) -> ModuleType:
        """A freshly imported copy of the learner's module (no state left from other checks)."""
        return load_module(self.path)

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

    def __call__(self, ctx: Context) -> None:
        self.func(ctx)


def check(
    title: str, *, points: int, hidden: bool = False, timeout: float = 10.0
) -> Callable[[Callable[[Context], None]], Check]:
    """Declare a graded check. `title` is what learners see in the report."""

    def wrap(func: Callable[[Context], None]) -> Check:
        return Check(func.__name__, title, points, hidden, timeout, func, next(_order))

    return wrap


def checks_in(module: ModuleType) -> list[Check]:
    """The checks a suite module declares, in the order they are written."""
    found = [v for v in vars(module).values() if isinstance(v, Check)]
    return sorted(found, key=lambda c: c.order)

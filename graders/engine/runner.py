"""Running one check in this process, and the results every front end reads.

The grading process (graders.engine.worker) calls `run_check` for each check of its task;
`make check`, `make grade`, nbgrader's test cells and `pytest --threadkit` all reach it only
through that process (graders.engine.isolated). It never lets an exception escape: every
outcome becomes a `CheckResult`, and a check earns its points only by returning normally.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from graders.kit.checks import Check, Context
from graders.kit.feedback import (
    CheckFailed,
    Feedback,
    describe_exception,
    grader_error,
    learner_frame,
)
from graders.kit.thread_watch import ThreadWatch, deadline
from graders.kit.waitfor import WaitGraph
from graders.tasks import Task

if TYPE_CHECKING:  # annotations only: the guard's snapshot covers this module's namespace
    from typing import Any

_clock = time.perf_counter
LEFTOVER_GRACE = 2.0  # seconds a check's stray threads get to finish before they count as hung


@dataclass(kw_only=True)
class CheckResult:
    """One check's verdict (built with keywords only: five of its fields are str/int/bool)."""

    task: str
    name: str
    title: str
    max_points: int
    hidden: bool
    passed: bool
    feedback: Feedback | None = None
    seconds: float = 0.0

    @classmethod
    def of(
        cls, task: str, chk: Check, feedback: Feedback | None, seconds: float = 0.0
    ) -> CheckResult:
        """`chk`'s verdict in `task`: passed when there is no feedback."""
        return cls(
            task=task,
            name=chk.name,
            title=chk.title,
            max_points=chk.points,
            hidden=chk.hidden,
            passed=feedback is None,
            feedback=feedback,
            seconds=seconds,
        )

    @property
    def points(self) -> int:
        return self.max_points if self.passed else 0

    def to_dict(self) -> dict[str, object]:
        data = {k: getattr(self, k) for k in ("task", "name", "title", "max_points", "hidden")}
        data |= {"passed": self.passed, "seconds": round(self.seconds, 3)}
        data["feedback"] = self.feedback.to_dict() if self.feedback else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        fb = data.get("feedback")
        return cls(
            task=str(data["task"]),
            name=str(data["name"]),
            title=str(data["title"]),
            max_points=int(data["max_points"]),
            hidden=bool(data["hidden"]),
            passed=data["passed"] is True,
            feedback=Feedback.from_dict(fb) if isinstance(fb, dict) else None,
            seconds=float(data.get("seconds", 0.0)),
        )


@dataclass
class TaskResult:
    task: str
    seed: int
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def points(self) -> int:
        return sum(c.points for c in self.checks)

    @property
    def max_points(self) -> int:
        return sum(c.max_points for c in self.checks)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def first_failure(self) -> CheckResult | None:
        return next((c for c in self.checks if not c.passed), None)

    def to_dict(self) -> dict[str, object]:
        return {"task": self.task, "seed": self.seed, "checks": [c.to_dict() for c in self.checks]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskResult:
        checks = [CheckResult.from_dict(c) for c in data["checks"]]
        return cls(task=str(data["task"]), seed=int(data["seed"]), checks=checks)


def new_seed() -> int:
    """A fresh seed for forced interleaving; reported so that a failing run can be replayed."""
    return random.SystemRandom().randrange(1, 2**31)


def submission_file(task: Task, submission: str | Path) -> Path:
    return Path(submission).resolve() / task.module


def run_check(chk: Check, ctx: Context) -> CheckResult:
    """Run one check; whatever happens, return its result (never raise)."""
    start = _clock()
    ctx.check, ctx.shares = chk.name, chk.shares
    try:
        feedback = _judge(chk, ctx)
    finally:
        ctx.cleanup()
    return CheckResult.of(ctx.task, chk, feedback, _clock() - start)


def _judge(chk: Check, ctx: Context) -> Feedback | None:
    """None when the check passed, else what went wrong, phrased for the learner."""
    try:
        with ThreadWatch(ctx.files) as watch:
            ctx.watch = watch
            # The wait-for graph's verdict (stuck threads, locks taken in opposite orders)
            # replaces whatever the check, its time limit or the leftover threads showed.
            with WaitGraph(ctx.files) as graph:
                with deadline(chk.timeout, ctx.files, "Your code", graph.waits_now):
                    chk(ctx)
                watch.settle(LEFTOVER_GRACE)
                watch.raise_thread_errors()
                watch.raise_leftovers("your function")
    except CheckFailed as failed:
        return failed.feedback
    except BaseException as exc:  # noqa: BLE001 - learner code may raise anything, even SystemExit
        if isinstance(exc, KeyboardInterrupt):
            raise
        return _unexpected(exc, ctx)
    return None


def _unexpected(exc: BaseException, ctx: Context) -> Feedback:
    """An exception the check did not turn into feedback: the learner's, or the grader's own."""
    if isinstance(exc, SystemExit):
        return CheckFailed(
            "Your code called exit() while it was being checked",
            got=f"SystemExit({exc.code!r})",
            hint="Remove sys.exit()/exit() calls: return from your function instead.",
            kind="crash",
        ).feedback
    if learner_frame(exc.__traceback__, ctx.files) is not None:
        return describe_exception(exc, ctx.files, "Your code").feedback
    return grader_error("The grader could not finish this check", f"{type(exc).__name__}: {exc}")

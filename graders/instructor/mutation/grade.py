"""Grading mutants: each one in its own fresh grading process, several at once.

A mutant goes through the very path a learner's submission does (graders.engine.isolated:
a fresh, guarded, time-boxed process running the task's visible and hidden checks) with a
fixed seed. It is killed when any check fails. The unmutated solutions are graded the same
way first: a solution that fails would make every one of its mutants look killed.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from graders.engine.isolated import run_isolated
from graders.engine.process import stop_all
from graders.tasks import get_task


@dataclass(frozen=True)
class Graded:
    """What the checks said about one source file of a task."""

    key: str  # the mutant's id, or the solution's path for a baseline
    failed: tuple[str, ...]  # the checks that failed, in the task's order
    seconds: float
    first_failure: str  # the first failed check's summary ('' when none failed)

    @property
    def killed(self) -> bool:
        return bool(self.failed)


@dataclass(frozen=True)
class Job:
    """One source to grade as task `task`'s module."""

    key: str
    task: str
    source: str


def grade_one(job: Job, seed: int, stop: threading.Event | None = None) -> Graded:
    """Write the source as the task's module in a fresh folder and grade it, hidden checks
    included."""
    module = get_task(job.task).module
    with tempfile.TemporaryDirectory(prefix="threadkit-mutant-") as tmp:
        folder = Path(tmp) / "submission"
        folder.mkdir()
        (folder / module).write_text(job.source)
        run = run_isolated(job.task, folder, seed=seed, hidden=True, stop=stop)
    failed = tuple(c.name for c in run.result.checks if not c.passed)
    first = run.result.first_failure
    summary = first.feedback.summary if first is not None and first.feedback else ""
    return Graded(job.key, failed, run.seconds, summary)


def grade_all(
    jobs: list[Job],
    seed: int,
    parallel: int,
    done: Callable[[Graded], None] = lambda graded: None,
) -> dict[str, Graded]:
    """Grade every job, `parallel` at a time; `done` hears of each as it finishes.

    Ctrl-C kills the grading processes still running at once.
    """
    stop = threading.Event()
    results: dict[str, Graded] = {}
    with ThreadPoolExecutor(max(1, parallel)) as pool:
        futures = [pool.submit(grade_one, job, seed, stop) for job in jobs]
        try:
            for future in futures:
                graded = future.result()
                results[graded.key] = graded
                done(graded)
        except BaseException:
            stop.set()
            for future in futures:
                future.cancel()
            stop_all()
            raise
    return results

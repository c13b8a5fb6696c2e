"""Step 3, run: every task, visible and hidden checks, each in a fresh guarded process.

Tasks run one after another within a submission, each with its own wall-clock limit and all of
them within the submission's budget; a task whose module is missing, or that the budget no
longer covers, is not started and fails with the reason. Whatever one task does (hang, exit,
crash, flood) the next one still runs. The seed is derived from the learner id, so a rerun of
the same submission grades the same forced interleavings.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from graders.engine.isolated import IsolatedRun, Limits, run_isolated
from graders.engine.runner import CheckResult, TaskResult
from graders.engine.sandbox import Sandbox
from graders.instructor.batch.isolate import Prepared
from graders.kit.feedback import Feedback
from graders.tasks import TASKS, Task


@dataclass(frozen=True)
class RunOptions:
    sandbox: Sandbox
    task_seconds: float = 60.0
    submission_seconds: float = 300.0
    memory_bytes: int = 2 * 1024**3
    output_bytes: int = 64 * 1024
    seed: int | None = None  # None: one seed per learner, derived from the learner id


def learner_seed(learner: str, seed: int | None) -> int:
    if seed is not None:
        return seed
    return int.from_bytes(hashlib.sha256(learner.encode()).digest()[:4], "big") % (2**31 - 1) + 1


def run_submission(
    prepared: Prepared,
    options: RunOptions,
    stop: threading.Event | None = None,
    after_task: Callable[[list[IsolatedRun]], None] | None = None,
) -> tuple[int, list[IsolatedRun]]:
    """The seed used and one IsolatedRun per registered task, in registry order.

    When `stop` is set (the batch was interrupted) no further task starts. `after_task` is
    given the runs so far each time a task ends (Gradescope's partial results.json).
    """
    seed = learner_seed(prepared.learner, options.seed)
    start = time.monotonic()
    runs = []
    for task in TASKS:
        if stop is not None and stop.is_set():
            break
        left = options.submission_seconds - (time.monotonic() - start)
        if prepared.problem or not prepared.has(task.module):
            why = prepared.problem or f"{task.module} is not in the submission"
            runs.append(not_run(task, seed, why, "Hand in the file with the name from exercises/."))
        elif left < 1.0:
            runs.append(not_run(task, seed, _budget(options), "Make each task finish quickly."))
        else:
            limits = Limits(
                seconds=min(options.task_seconds, left),
                memory_bytes=options.memory_bytes,
                output_bytes=options.output_bytes,
            )
            runs.append(
                run_isolated(
                    task.id,
                    prepared.folder,
                    seed=seed,
                    hidden=True,
                    limits=limits,
                    sandbox=options.sandbox,
                    stop=stop,
                )
            )
        if after_task is not None:
            after_task(runs)
    return seed, runs


def _budget(options: RunOptions) -> str:
    return f"the submission used up its {options.submission_seconds:g} s before this task ran"


def not_run(task: Task, seed: int, why: str, hint: str) -> IsolatedRun:
    """A run that never started: every check failed, with the reason."""
    feedback = Feedback(f"Not graded: {why}", hint=hint)
    result = TaskResult(task.id, seed)
    for chk in task.checks(hidden=True):
        result.checks.append(
            CheckResult(task.id, chk.name, chk.title, chk.points, chk.hidden, False, feedback)
        )
    return IsolatedRun(result, "", None)

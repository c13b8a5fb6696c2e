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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from graders.engine import intake, zygote
from graders.engine.isolated import run_isolated
from graders.engine.process import DEFAULT_LIMITS, Limits
from graders.engine.runner import CheckResult, TaskResult
from graders.engine.sandbox import Sandbox
from graders.engine.verdicts import IsolatedRun
from graders.engine.zygote import Zygote
from graders.instructor.batch.isolate import Prepared
from graders.kit.feedback import Feedback
from graders.learner import schedule
from graders.tasks import TASKS, Task

SUBMISSION_SECONDS = 300.0  # all of a submission's tasks together


@dataclass(frozen=True)
class RunOptions:
    """How `make grade` and `make grade-one` run each task. The per-task defaults are the
    engine's own (graders.engine.process.DEFAULT_LIMITS); the command line's options take
    theirs from here (graders.instructor.batch.options), so each default is written once."""

    sandbox: Sandbox
    task_seconds: float = DEFAULT_LIMITS.seconds
    submission_seconds: float = SUBMISSION_SECONDS
    memory_bytes: int = DEFAULT_LIMITS.memory_bytes
    output_bytes: int = DEFAULT_LIMITS.output_bytes
    seed: int | None = None  # None: one seed per learner, derived from the learner id
    import_seconds: float | None = None  # None: THREADKIT_IMPORT_SECONDS, else 5 s; 0: none


def learner_seed(learner: str, seed: int | None) -> int:
    if seed is not None:
        return seed
    return int.from_bytes(hashlib.sha256(learner.encode()).digest()[:4], "big") % (2**31 - 1) + 1


def run_submission(
    prepared: Prepared,
    options: RunOptions,
    stop: threading.Event | None = None,
    after_task: Callable[[list[IsolatedRun]], None] | None = None,
    tasks_at_once: int = 1,
) -> tuple[int, list[IsolatedRun]]:
    """The seed used and one IsolatedRun per registered task, in registry order.

    When `stop` is set (the batch was interrupted) no further task starts. `after_task` is
    given the runs finished so far, in registry order, each time a task ends (Gradescope's
    partial results.json). `tasks_at_once` > 1 runs the tasks side by side, the longest first
    (grade-one: one submission, so its wall time is about the slowest task's rather than the
    sum); each task still has its own limit, within the submission's budget.
    """
    seed = learner_seed(prepared.learner, options.seed)
    start = time.monotonic()
    finished: dict[str, IsolatedRun] = {}
    lock = threading.Lock()

    def one(task: Task) -> None:
        if stop is not None and stop.is_set():
            return
        run = _run_task(task, prepared, options, seed, start, stop, warm)
        with lock:
            finished[task.id] = run
            so_far = [finished[t.id] for t in TASKS if t.id in finished]
        if after_task is not None:
            after_task(so_far)

    with zygote.for_submission(options.sandbox) as warm:
        if tasks_at_once > 1:
            with ThreadPoolExecutor(max_workers=tasks_at_once) as pool:
                list(pool.map(one, schedule.longest_first(TASKS)))
        else:
            for task in TASKS:
                one(task)
    return seed, [finished[t.id] for t in TASKS if t.id in finished]


def _run_task(
    task: Task,
    prepared: Prepared,
    options: RunOptions,
    seed: int,
    start: float,
    stop: threading.Event | None,
    warm: Zygote | None,
) -> IsolatedRun:
    """One task of the submission, within what is left of the submission's budget, forked
    from the submission's own zygote where its level has one (`warm`)."""
    left = options.submission_seconds - (time.monotonic() - start)
    if prepared.problem or not prepared.has(task.module):
        refused = None if prepared.problem else prepared.refused.get(task.module)
        if refused is not None:
            size = f"{intake.MAX_MODULE_BYTES // 1024} KiB"
            hint = f"Hand in {task.module} itself: a plain file of at most {size}, not a link."
            return not_run(task, seed, refused.sentence(), hint)
        why = prepared.problem or f"{task.module} is not in the submission"
        return not_run(task, seed, why, "Hand in the file with the name from exercises/.")
    if left < 1.0:
        return not_run(task, seed, _budget(options), "Make each task finish quickly.")
    limits = Limits(
        seconds=min(options.task_seconds, left),
        memory_bytes=options.memory_bytes,
        output_bytes=options.output_bytes,
        import_seconds=options.import_seconds,
    )
    return run_isolated(
        task.id,
        prepared.folder,
        seed=seed,
        hidden=True,
        limits=limits,
        sandbox=options.sandbox,
        stop=stop,
        zygote=warm,
    )


def _budget(options: RunOptions) -> str:
    return f"the submission used up its {options.submission_seconds:g} s before this task ran"


def not_run(task: Task, seed: int, why: str, hint: str) -> IsolatedRun:
    """A run that never started: every check failed, with the reason."""
    feedback = Feedback(f"Not graded: {why}", hint=hint, kind="not_graded")
    result = TaskResult(task.id, seed)
    for chk in task.checks(hidden=True):
        result.checks.append(CheckResult.of(task.id, chk, feedback))
    return IsolatedRun(result, "", None)

"""What a notebook's test cells call: `check(task, check_name, module)`, one check's verdict.

In the nbgrader course (graders/instructor/course/) the learner's code cell starts with
`%%writefile`, so their module is a file next to the notebook, and every test cell calls
`check`. The task's checks run in a fresh grading process (graders.engine.isolated), on the
module taken from the notebook's folder by graders.engine.intake, never in the kernel: the
kernel's own threads (IOPub, heartbeat, history) are not in that process, so forced
interleaving, the HTTP fixture and the leftover-thread check see the learner's threads only,
and a hang, a crash or an exit() in learner code cannot take the kernel down. The task runs
once per version of the file: its other test cells answer from that run at once, and
re-running the code cell after an edit makes the next test cell run the task again.

A failed check raises `NotebookCheckFailed`, an AssertionError (nbgrader counts the cell as
failed) that IPython shows as the learner-facing message alone: no traceback, which would show a
grader's frames and, for a hidden test, the hidden cell's own source.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from graders.engine.isolated import run_isolated
from graders.engine.runner import CheckResult, TaskResult, new_seed
from graders.kit.feedback import CheckFailed, Feedback
from graders.tasks import Task, get_task

SEED_VARIABLE = "THREADKIT_SEED"  # set it to replay a run; otherwise one seed per kernel

_RED, _GREEN, _RESET = "\x1b[0;31m", "\x1b[0;32m", "\x1b[0m"
_lock = threading.Lock()
_runs: dict[tuple[str, str, int], TaskResult] = {}
_seed: list[int] = []


class NotebookCheckFailed(CheckFailed):
    """One check failed: its title and points, then the grading library's feedback."""

    def __init__(self, result: CheckResult) -> None:  # the feedback exists: no CheckFailed(...)
        self.result = result
        self.feedback = result.feedback or Feedback("This check did not pass.")
        AssertionError.__init__(self, "\n".join(self.lines()))

    def lines(self) -> list[str]:
        heading = f"✗ {self.result.title}  (0/{self.result.max_points} points)"
        return [heading, *self.feedback.render().splitlines()]

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback (its hook for custom error displays)."""
        first, *rest = self.lines()
        return [f"{_RED}{first}{_RESET}", *rest]


def check(task_id: str, name: str, module: str | os.PathLike[str] | None = None) -> None:
    """Pass quietly (one line on stdout) if check `name` of `task_id` passes on `module`.

    `module` is the learner's file (default: the task's module name in the current folder,
    which is the notebook's). Raises NotebookCheckFailed with the learner-facing message.
    """
    task = get_task(task_id)
    # Not resolve(): a symlink must not move the grading to another folder; the task's module
    # is taken from this one by graders.engine.intake's rules (a symlink is never followed).
    path = Path(module if module is not None else task.module).absolute()
    if path.name != task.module:
        raise ValueError(f"{task_id} grades a file named {task.module}, not {path.name}")
    if not path.is_file():
        raise NotebookCheckFailed(_not_written(task, name, path))
    result = _find(task_result(task, path), task, name)
    if not result.passed:
        raise NotebookCheckFailed(result)
    print(f"{_GREEN}✓ {result.title}{_RESET}  ({result.points}/{result.max_points} points)")


def task_result(task: Task, path: Path) -> TaskResult:
    """Every check of `task` (hidden ones too, where installed) on this version of the file."""
    key = (task.id, hashlib.sha256(path.read_bytes()).hexdigest(), session_seed())
    with _lock:
        if key not in _runs:
            run = run_isolated(task.id, path.parent, seed=key[2], hidden=True)
            _runs[key] = run.result
        return _runs[key]


def session_seed() -> int:
    """THREADKIT_SEED if set, else one random seed for the kernel's lifetime."""
    with _lock:
        if not _seed:
            fixed = os.environ.get(SEED_VARIABLE, "").strip()
            _seed.append(int(fixed) if fixed else new_seed())
        return _seed[0]


def _find(result: TaskResult, task: Task, name: str) -> CheckResult:
    for found in result.checks:
        if found.name == name:
            return found
    known = ", ".join(c.name for c in result.checks)
    raise ValueError(f"{task.id} has no check named {name!r} here; its checks: {known}")


def _not_written(task: Task, name: str, path: Path) -> CheckResult:
    chk = next((c for c in task.checks(hidden=True) if c.name == name), None)
    title, points = (chk.title, chk.points) if chk else (name, 0)
    feedback = Feedback(
        f"{path.name} does not exist yet, so there is nothing to check",
        hint=f"Run the cell that starts with `%%writefile {path.name}` first: "
        "it saves your code to that file.",
    )
    return CheckResult(
        task=task.id,
        name=name,
        title=title,
        max_points=points,
        hidden=False,
        passed=False,
        feedback=feedback,
    )

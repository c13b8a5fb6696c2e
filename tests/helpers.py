"""Helpers the kit's own tests share: where the solutions, stubs and mutants are.

Fixtures stay in tests/conftest.py (pytest finds them there); plain values and functions live
here, imported as `from tests.helpers import ...`.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from graders.engine.runner import TaskResult, run_check, submission_file
from graders.instructor.mutants import Mutant, all_mutants
from graders.instructor.solutions import assemble
from graders.kit.checks import Context
from graders.tasks import Task, get_task

__all__ = [
    "EXERCISES",
    "FIXTURES",
    "ROOT",
    "SOLUTIONS",
    "Mutant",
    "all_mutants",
    "checks_in_this_process",
    "submission_of",
]

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
FIXTURES = ROOT / "fixtures"
# Every reference solution under its module name, as one submission folder laid out like
# exercises/ (the solutions live in fixtures/<task>/solution.py).
SOLUTIONS = assemble(Path(tempfile.mkdtemp(prefix="threadkit-solutions-")))
atexit.register(shutil.rmtree, SOLUTIONS, True)  # one folder per test process: not left behind


def submission_of(task: Task, source: Path, into: Path) -> Path:
    """A submission folder holding `source` under the task's module name."""
    into.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, into / task.module)
    return into


def checks_in_this_process(
    task_id: str, folder: Path, *, seed: int, hidden: bool = False
) -> TaskResult:
    """Every check of a task on `folder`, in order, run in this process with run_check: for
    the tests that must see inside a check (a patched class, this process's own children).
    Everything else grades through a grading process, as the kit does (run_isolated)."""
    task = get_task(task_id)
    path = submission_file(task, folder)
    checks = [run_check(chk, Context(task.id, path, seed)) for chk in task.checks(hidden=hidden)]
    return TaskResult(task.id, seed, checks)

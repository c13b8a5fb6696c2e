"""Shared helpers for the kit's own tests: where the solutions, stubs and mutants are."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from graders.engine.offline import offline
from graders.instructor.mutants import Mutant, all_mutants  # noqa: F401  (re-exported for tests)
from graders.instructor.solutions import assemble
from graders.tasks import Task

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"
FIXTURES = ROOT / "fixtures"
# Every reference solution under its module name, as one submission folder laid out like
# exercises/ (the solutions live in fixtures/<task>/solution.py).
SOLUTIONS = assemble(Path(tempfile.mkdtemp(prefix="threadkit-solutions-")))


def submission_of(task: Task, source: Path, into: Path) -> Path:
    """A submission folder holding `source` under the task's module name."""
    into.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, into / task.module)
    return into


@pytest.fixture
def submission(tmp_path: Path):
    def make(task: Task, source: Path) -> Path:
        return submission_of(task, source, tmp_path / task.id)

    return make


def pytest_configure(config: pytest.Config) -> None:
    """No test touches the network: name look-ups and connections off loopback fail loudly."""
    offline().__enter__()

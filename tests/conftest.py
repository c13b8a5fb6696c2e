"""Shared helpers for the kit's own tests: where the solutions, stubs and mutants are."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from graders.mutants import Mutant, all_mutants  # noqa: F401  (re-exported for tests)
from graders.offline import offline
from graders.registry import Task

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "fixtures" / "solutions"
MUTANTS = ROOT / "fixtures" / "mutants"
EXERCISES = ROOT / "exercises"


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

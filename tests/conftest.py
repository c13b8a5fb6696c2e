"""Shared helpers for the kit's own tests: where the solutions, stubs and mutants are."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from graders.offline import offline
from graders.registry import TASKS, Task

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "fixtures" / "solutions"
MUTANTS = ROOT / "fixtures" / "mutants"
EXERCISES = ROOT / "exercises"


@dataclass(frozen=True)
class Mutant:
    """A known-wrong submission and what its docstring promises the graders will say."""

    task: Task
    path: Path
    expect_fail: frozenset[str]
    expect_message: str

    @property
    def id(self) -> str:
        return f"{self.task.id}/{self.path.stem}"


def _field(text: str, name: str) -> str:
    found = re.search(rf"^{name}:\s*(.+)$", text, re.MULTILINE)
    if not found:
        raise ValueError(f"mutant docstring has no '{name}:' line")
    return found.group(1).strip()


def all_mutants() -> list[Mutant]:
    found = []
    for task in TASKS:
        for path in sorted((MUTANTS / task.id).glob("*.py")):
            text = path.read_text()
            fails = frozenset(n.strip() for n in _field(text, "expect-fail").split(","))
            found.append(Mutant(task, path, fails, _field(text, "expect-message")))
    return found


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

"""The kit's hand-written mutants: known-wrong submissions in fixtures/<task>/mutants/.

Each mutant's docstring says what it breaks and what the graders must say about it:

    violates: R3            the task's requirement id(s) it breaks
    expect-fail: joined     the checks that must fail, exactly
    expect-message: ...     text the first failure's message must contain

tests/ prove the verdicts on every run; `python -m graders requirements` tabulates them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from graders.tasks import TASKS, Task


@dataclass(frozen=True)
class Mutant:
    """A known-wrong submission and what its docstring promises the graders will say."""

    task: Task
    path: Path
    expect_fail: frozenset[str]
    expect_message: str
    violates: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return f"{self.task.id}/{self.path.stem}"


def _field(text: str, name: str, default: str | None = None) -> str:
    found = re.search(rf"^{name}:\s*(.+)$", text, re.MULTILINE)
    if not found:
        if default is not None:
            return default
        raise ValueError(f"mutant docstring has no '{name}:' line")
    return found.group(1).strip()


def _ids(text: str) -> frozenset[str]:
    return frozenset(n.strip() for n in text.split(",") if n.strip())


def read_mutant(task: Task, path: Path) -> Mutant:
    text = path.read_text()
    return Mutant(
        task,
        path,
        _ids(_field(text, "expect-fail")),
        _field(text, "expect-message"),
        _ids(_field(text, "violates", "")),
    )


def all_mutants() -> list[Mutant]:
    """Every mutant of every task, in registry order, then by file name."""
    return [
        read_mutant(task, path)
        for task in TASKS
        for path in sorted(task.files().mutants.glob("*.py"))
    ]

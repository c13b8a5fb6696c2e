"""The `Task` record: everything the kit knows about one exercise, and where its files are.

A task is a folder, graders/tasks/<id>/: `__init__.py` holds the visible checks, the
requirements of the task text (`REQUIREMENTS`), graded hints (`HINTS`) and, where needed,
`NO_MUTANT`; `hidden.py` holds the checks only instructors run. Its learner's stub is
exercises/<module>, its reference solution, alternatives and mutants are fixtures/<id>/.
`files()` is the one map of those roles that the release, the sandbox's mounts and the guard's
hidden-file rule read.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from graders import paths
from graders.kit.checks import Check, checks_in


@dataclass(frozen=True)
class TaskFiles:
    """Where one task's files are (absolute paths; folders may not exist)."""

    stub: Path  # exercises/<module>: what the learner edits
    visible: Path  # graders/tasks/<id>/__init__.py: shipped to learners
    hidden: Path  # graders/tasks/<id>/hidden.py: never shipped, mounted only for its own task
    solution: Path  # fixtures/<id>/solution.py
    alternatives: Path  # fixtures/<id>/alternatives/: other correct solutions
    mutants: Path  # fixtures/<id>/mutants/: known-wrong submissions


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    module: str  # the learner's file name, in exercises/ and in every submission
    # What `make timeline` and `make demo` show (graders.learner.pictures): a downloading
    # task names the learner's threaded download f(urls, out_dir); "cpu" times CPU-bound work.
    demo: str = ""

    def files(self) -> TaskFiles:
        folder, fixtures = paths.TASKS_DIR / self.id, paths.FIXTURES / self.id
        return TaskFiles(
            stub=paths.EXERCISES / self.module,
            visible=folder / "__init__.py",
            hidden=folder / "hidden.py",
            solution=fixtures / "solution.py",
            alternatives=fixtures / "alternatives",
            mutants=fixtures / "mutants",
        )

    def suite(self) -> ModuleType:
        """The task's visible suite: checks, REQUIREMENTS, HINTS."""
        return importlib.import_module(f"graders.tasks.{self.id}")

    def requirements(self) -> dict[str, str]:
        """The task text's numbered requirements, {"R1": "what it asks", ...}, in text order."""
        return dict(getattr(self.suite(), "REQUIREMENTS", {}))

    def no_mutant(self) -> dict[str, str]:
        """Checks that can have no mutant breaking only their requirement: {check: why}."""
        return dict(getattr(self.suite(), "NO_MUTANT", {}))

    def typical_seconds(self) -> float | None:
        """About how long the checks take on a correct solution (the suite's TYPICAL_SECONDS),
        or None: only the order in which tasks start depends on it, never a verdict."""
        value = getattr(self.suite(), "TYPICAL_SECONDS", None)
        return float(value) if isinstance(value, (int, float)) else None

    def process_cap(self) -> int:
        """Processes one check may start (multiprocessing's fork only); 0, the default: none.

        A suite that teaches processes declares PROCESS_CAP; the grading process's guard lets
        no other task start any (graders.engine.guard).
        """
        return int(getattr(self.suite(), "PROCESS_CAP", 0))

    def checks(self, *, hidden: bool = False) -> list[Check]:
        """Visible checks, followed by the hidden ones when `hidden` is set and installed."""
        found = checks_in(self.suite())
        if hidden:
            try:
                suite = importlib.import_module(f"graders.tasks.{self.id}.hidden")
            except ModuleNotFoundError:
                suite = None
            if suite is not None:
                found += checks_in(suite)
        return found

    def max_points(self, *, hidden: bool = False) -> int:
        return sum(c.points for c in self.checks(hidden=hidden))

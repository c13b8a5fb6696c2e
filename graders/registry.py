"""The task registry: ids, workshop order, the learner's file, and where each suite lives.

This is the one place a new task is listed (as rustlings keeps info.toml). A task's checks
live in graders/tasks/<id>.py (visible to learners) and graders/hidden/<id>.py (instructors
only; absent from a learner's release). Points are declared on the checks themselves.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

from graders.checks import Check, checks_in


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    module: str  # the learner's file name, in exercises/ and in every submission

    def requirements(self) -> dict[str, str]:
        """The task text's numbered requirements, {"R1": "what it asks", ...}, in text order."""
        return dict(getattr(self._suite(), "REQUIREMENTS", {}))

    def no_mutant(self) -> dict[str, str]:
        """Checks that can have no mutant breaking only their requirement: {check: why}."""
        return dict(getattr(self._suite(), "NO_MUTANT", {}))

    def _suite(self) -> ModuleType:
        return importlib.import_module(f"graders.tasks.{self.id}")

    def checks(self, *, hidden: bool = False) -> list[Check]:
        """Visible checks, followed by the hidden ones when `hidden` is set and installed."""
        found = checks_in(self._suite())
        if hidden:
            try:
                suite = importlib.import_module(f"graders.hidden.{self.id}")
            except ModuleNotFoundError:
                suite = None
            if suite is not None:
                found += checks_in(suite)
        return found

    def max_points(self, *, hidden: bool = False) -> int:
        return sum(c.points for c in self.checks(hidden=hidden))


TASKS: tuple[Task, ...] = (
    Task("start_join", "Start threads, then join them", "start_join.py"),
    Task("counter_lock", "Protect a shared counter with a lock", "counter.py"),
    Task("deadlock", "Transfers that cannot deadlock", "bank.py"),
    Task("downloader", "Thread an I/O-bound downloader", "downloader.py"),
    Task("named_workers", "Threads that say who they are (bonus)", "named_workers.py"),
    Task("worker_pool", "Workers that pop jobs off a shared list (bonus)", "worker_pool.py"),
)


def get_task(task_id: str) -> Task:
    """The task with this id; a ValueError that lists the ids otherwise."""
    for task in TASKS:
        if task.id == task_id:
            return task
    known = ", ".join(t.id for t in TASKS)
    raise ValueError(f"unknown task {task_id!r}; the tasks are: {known}")

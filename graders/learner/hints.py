"""Graded hints: a little more each time a learner asks, never the solution.

A task's hints live with its visible suite, as a `HINTS` tuple of strings in
graders/tasks/<id>.py, ordered from a nudge to the last step before the answer; adding a task
touches nothing here. How many hints of each task a learner has seen is remembered in their
folder (graders.learner.session), so asking again reveals the next one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from graders.learner.session import LearnerState
from graders.tasks import get_task

STATE = "hints"


@dataclass(frozen=True)
class Reveal:
    """The hints a learner may now read for one task: `shown` of `total`, the last one new."""

    task: str
    hints: tuple[str, ...]
    total: int
    new: bool  # False when every hint had already been shown

    @property
    def shown(self) -> int:
        return len(self.hints)


def hints_for(task_id: str) -> tuple[str, ...]:
    """The task's HINTS tuple (empty if its suite declares none)."""
    suite = importlib.import_module(f"graders.tasks.{get_task(task_id).id}")
    hints = getattr(suite, "HINTS", ())
    return tuple(str(h) for h in hints)


def reveal_next(task_id: str, state: LearnerState) -> Reveal:
    """Show one more hint of `task_id` than last time (all of them once all were shown)."""
    hints = hints_for(task_id)
    seen = state.read(STATE)
    before = int(seen.get(task_id, 0))
    now = min(before + 1, len(hints))
    if now != before:
        state.write(STATE, seen | {task_id: now})
    return Reveal(task_id, hints[:now], len(hints), new=now > before)


def forget(task_id: str, state: LearnerState) -> None:
    """Start the task's hints again from the first."""
    seen = state.read(STATE)
    if seen.pop(task_id, None) is not None:
        state.write(STATE, seen)

"""The order in which `make check` starts its tasks: the longest first, by the last run's times.

Tasks run side by side in a few grading processes (check.check_jobs). Started in workshop
order, the two slowest tasks (the downloads that wait on purpose) came last and finished
alone; started first, they run while the quick ones fill the other slots (longest processing
time first, the classic list-scheduling rule). Each task's last wall time is kept in the
learner's state folder; a task never timed here is placed by its suite's TYPICAL_SECONDS, and
goes first without one. The report keeps workshop order. `make grade-one`, which runs one
submission's tasks side by side with nothing remembered, orders them by TYPICAL_SECONDS.

When fewer tasks run than there are slots (`make watch`, `make check TASK=id`), a task's checks
are split across the spare ones (graders.engine.shards), by each check's last time, kept here
too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from graders.engine.runner import TaskResult
    from graders.kit.task import Task
    from graders.learner.session import LearnerState

DOCUMENT = "durations"
CHECKS_DOCUMENT = "check-durations"  # {task id: {check name: seconds}}


def longest_first(tasks: Sequence[Task], state: LearnerState | None = None) -> list[Task]:
    """`tasks`, the longest first: by the last time `state` remembers, else the typical one;
    a task with neither goes first. Ties keep the given order."""
    seconds = _known(state.read(DOCUMENT)) if state is not None else {}

    def expected(task: Task) -> float:
        known = seconds.get(task.id)
        if known is None:
            known = task.typical_seconds()
        return float("inf") if known is None else known

    return sorted(tasks, key=lambda task: -expected(task))


def remember(state: LearnerState, timed: Iterable[tuple[str, float]]) -> None:
    """Note each (task id, wall seconds) for the next run's order."""
    seconds = _known(state.read(DOCUMENT))
    seconds.update({task: round(wall, 3) for task, wall in timed})
    _save(state, DOCUMENT, seconds)


def _save(state: LearnerState, document: str, data: dict[str, Any]) -> None:
    try:
        state.write(document, data)
    except OSError:
        pass  # a read-only folder only costs the next run its order and its split


def _known(data: Mapping[str, object]) -> dict[str, float]:
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float))}


def shards(task: Task, state: LearnerState, slots: int, hidden: bool = False) -> list[list[str]]:
    """`task`'s checks split into at most `slots` shards, by their last times (see
    graders.engine.shards.plan); one shard when `slots` is 1."""
    from graders.engine.shards import plan

    checks = task.checks(hidden=hidden)
    if slots <= 1:
        return [[c.name for c in checks]]
    known = state.read(CHECKS_DOCUMENT).get(task.id)
    seconds = _known(known) if isinstance(known, dict) else {}
    return plan(checks, seconds, slots)


def remember_checks(state: LearnerState, results: Iterable[TaskResult]) -> None:
    """Note each check's seconds, for the next split of its task."""
    data = state.read(CHECKS_DOCUMENT)
    for result in results:
        old = data.get(result.task)
        timed = _known(old) if isinstance(old, dict) else {}
        timed.update({c.name: round(c.seconds, 3) for c in result.checks})
        data[result.task] = timed
    _save(state, CHECKS_DOCUMENT, data)

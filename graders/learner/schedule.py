"""The order in which `make check` starts its tasks: the longest first, by the last run's times.

Tasks run side by side in a few grading processes (check.check_jobs). Started in workshop
order, the two slowest tasks (the downloads that wait on purpose) came last and finished
alone; started first, they run while the quick ones fill the other slots (longest processing
time first, the classic list-scheduling rule). Each task's last wall time is kept in the
learner's state folder; a task never timed here is placed by its suite's TYPICAL_SECONDS, and
goes first without one. The report keeps workshop order. `make grade-one`, which runs one
submission's tasks side by side with nothing remembered, orders them by TYPICAL_SECONDS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graders.kit.task import Task
    from graders.learner.session import LearnerState

DOCUMENT = "durations"


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
    try:
        state.write(DOCUMENT, seconds)
    except OSError:
        pass  # a read-only folder only costs the next run its order


def _known(data: Mapping[str, object]) -> dict[str, float]:
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float))}

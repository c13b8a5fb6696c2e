"""The order in which `make check` starts its tasks: the longest first, by the last run's times.

Tasks run side by side in a few grading processes (check.check_jobs). Started in workshop
order, the two slowest tasks (the downloads that wait on purpose) came last and finished
alone; started first, they run while the quick ones fill the other slots (longest processing
time first, the classic list-scheduling rule). Each task's last wall time is kept in the
learner's state folder; a task never timed yet goes first. The report keeps workshop order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from graders.kit.task import Task
    from graders.learner.session import LearnerState

DOCUMENT = "durations"


def longest_first(tasks: Sequence[Task], state: LearnerState) -> list[Task]:
    """`tasks`, those with the longest last time (or none on record) first; ties keep order."""
    seconds = _known(state.read(DOCUMENT))
    return sorted(tasks, key=lambda task: -seconds.get(task.id, float("inf")))


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

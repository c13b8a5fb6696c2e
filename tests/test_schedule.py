"""make check and grade-one start the longest tasks first: by the times the last run left, else
by each suite's typical time."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from graders.learner import schedule
from graders.learner.session import LearnerState
from graders.tasks import TASKS, Task


def by_typical_seconds(tasks: Sequence[Task]) -> list[str]:
    return [t.id for t in sorted(tasks, key=lambda t: -(t.typical_seconds() or 0.0))]


def test_every_task_says_how_long_it_typically_takes() -> None:
    for task in TASKS:
        seconds = task.typical_seconds()
        assert seconds is not None and 0 < seconds < 10, task.id


def test_without_times_the_typical_ones_order_the_tasks(tmp_path: Path) -> None:
    expected = by_typical_seconds(TASKS)
    assert [t.id for t in schedule.longest_first(TASKS, LearnerState(tmp_path))] == expected
    assert [t.id for t in schedule.longest_first(TASKS)] == expected  # grade-one: no state
    assert expected[:2] == ["progress", "downloader"] and expected[-1] == "start_join"


def test_the_longest_go_first_and_a_task_never_timed_goes_by_its_typical_time(
    tmp_path: Path,
) -> None:
    state = LearnerState(tmp_path)
    timed = [(task.id, 100 + i) for i, task in enumerate(TASKS[1:])]  # TASKS[0] never timed
    schedule.remember(state, timed)
    order = [t.id for t in schedule.longest_first(TASKS, state)]
    assert order == [t.id for t in reversed(TASKS[1:])] + [TASKS[0].id]


def test_a_task_with_no_time_at_all_goes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    new = Task("new_task", "A task being written", "new_task.py")
    typical = Task.typical_seconds
    monkeypatch.setattr(Task, "typical_seconds", lambda t: None if t is new else typical(t))
    assert schedule.longest_first([*TASKS, new])[0] is new


def test_a_later_run_updates_only_its_own_tasks(tmp_path: Path) -> None:
    state = LearnerState(tmp_path)
    schedule.remember(state, [("downloader", 1.5), ("progress", 1.0)])
    schedule.remember(state, [("progress", 2.0)])
    assert state.read(schedule.DOCUMENT) == {"downloader": 1.5, "progress": 2.0}


def test_a_damaged_record_is_ignored(tmp_path: Path) -> None:
    state = LearnerState(tmp_path)
    state.write(schedule.DOCUMENT, {"progress": "slow", "downloader": 0})
    order = [t.id for t in schedule.longest_first(TASKS, state)]
    assert order == by_typical_seconds([t for t in TASKS if t.id != "downloader"]) + ["downloader"]

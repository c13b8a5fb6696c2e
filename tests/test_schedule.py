"""make check starts the longest tasks first, by the times the last run left."""

from __future__ import annotations

from pathlib import Path

from graders.learner import schedule
from graders.learner.session import LearnerState
from graders.tasks import TASKS


def test_without_times_the_workshop_order_is_kept(tmp_path: Path) -> None:
    assert schedule.longest_first(TASKS, LearnerState(tmp_path)) == list(TASKS)


def test_the_longest_go_first_and_a_task_never_timed_before_them(tmp_path: Path) -> None:
    state = LearnerState(tmp_path)
    timed = [(task.id, 0.1 * i) for i, task in enumerate(TASKS[1:])]  # TASKS[0] never timed
    schedule.remember(state, timed)
    order = [t.id for t in schedule.longest_first(TASKS, state)]
    assert order == [TASKS[0].id] + [t.id for t in reversed(TASKS[1:])]


def test_a_later_run_updates_only_its_own_tasks(tmp_path: Path) -> None:
    state = LearnerState(tmp_path)
    schedule.remember(state, [("downloader", 1.5), ("progress", 1.0)])
    schedule.remember(state, [("progress", 2.0)])
    assert state.read(schedule.DOCUMENT) == {"downloader": 1.5, "progress": 2.0}


def test_a_damaged_record_is_ignored(tmp_path: Path) -> None:
    state = LearnerState(tmp_path)
    state.write(schedule.DOCUMENT, {"progress": "slow", "downloader": 2})
    order = [t.id for t in schedule.longest_first(TASKS, state)]
    assert order == [t.id for t in TASKS if t.id != "downloader"] + ["downloader"]

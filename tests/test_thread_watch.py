"""graders.kit.thread_watch.deadline: a check past its time limit says where each thread was."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from graders.kit.feedback import CheckFailed
from graders.kit.thread_watch import deadline


def graders_own_wait() -> None:
    """Stands for grader code the main thread is in when time runs out (a latch, a join)."""
    time.sleep(5)


def test_the_main_thread_is_shown_where_it_was_not_in_the_report(tmp_path: Path) -> None:
    learner = tmp_path / "start_join.py"
    with pytest.raises(CheckFailed) as caught:
        with deadline(0.05, [str(learner)], "Your code"):
            graders_own_wait()
    details = caught.value.feedback.details
    assert any("MainThread is in graders_own_wait()" in line for line in details), details
    assert not any("stack_lines" in line for line in details), details

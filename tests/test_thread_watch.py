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


def drop_a_pool_in_a_cycle() -> None:
    """A learner's pool left without shutdown(), kept only by a reference cycle: its idle
    workers end when the executor is freed, which only the cyclic collector can do."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=3)
    list(pool.map(abs, [-1, -2, -3, -4]))
    pool.cycle = pool  # type: ignore[attr-defined]


def test_settling_frees_a_dropped_pool_so_its_idle_workers_end() -> None:
    """Whether the collector had run decided whether such workers were leftovers: settle
    collects first, so they end within the grace period in every run."""
    import gc

    from graders.kit.thread_watch import ThreadWatch

    enabled = gc.isenabled()
    gc.disable()  # the collector never runs by itself here: the worst case, every time
    try:
        with ThreadWatch([__file__]) as watch:
            drop_a_pool_in_a_cycle()
            watch.settle(5.0)
            assert watch.leftover() == []
    finally:
        if enabled:
            gc.enable()

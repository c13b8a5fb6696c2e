"""A task's checks split across grading processes (graders.engine.shards): the plan keeps shared
runs together and pays for a process only where it saves time, and the merged run is what one
process would have reported, verdicts and spoilers included."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from graders.engine import shards
from graders.engine.isolated import run_isolated
from graders.engine.runner import CheckResult, TaskResult
from graders.engine.verdicts import IsolatedRun
from graders.kit.feedback import Feedback
from graders.learner import schedule
from graders.learner.session import LearnerState
from graders.tasks import TASKS, get_task
from tests.helpers import FIXTURES, SOLUTIONS

SEED = 20261130
PROGRESS = get_task("progress")
DOWNLOADER = get_task("downloader")


def names(plan: list[list[str]]) -> list[str]:
    return [name for shard in plan for name in shard]


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
@pytest.mark.parametrize("slots", [1, 2, 4, 16])
def test_every_check_runs_once_and_each_shard_keeps_the_task_order(task, slots) -> None:
    checks = task.checks(hidden=True)
    plan = shards.plan(checks, {}, slots)
    assert sorted(names(plan)) == sorted(c.name for c in checks)
    assert 1 <= len(plan) <= slots
    order = [c.name for c in checks]
    for shard in plan:
        assert shard == sorted(shard, key=order.index)


def test_the_checks_of_one_shared_run_stay_together() -> None:
    slow = {c.name for c in PROGRESS.checks() if c.shares}
    assert len(slow) == 4  # reports, done_counts, no_busy_wait, final_report: one slow run
    seconds = {c.name: 0.3 for c in PROGRESS.checks()}
    plan = shards.plan(PROGRESS.checks(), seconds, 8)
    assert len(plan) > 1
    assert [set(s) & slow for s in plan if set(s) & slow] == [slow]


def test_a_long_check_gets_a_process_of_its_own() -> None:
    checks = DOWNLOADER.checks()
    seconds = {c.name: 0.01 for c in checks} | {"timings": 0.3, "speedup": 0.2}
    plan = shards.plan(checks, seconds, 4)
    assert ["timings"] in plan
    assert max(sum(seconds[n] for n in shard) for shard in plan) == pytest.approx(0.3)


def test_quick_checks_are_not_worth_another_process() -> None:
    checks = DOWNLOADER.checks()
    assert len(shards.plan(checks, {c.name: 0.002 for c in checks}, 4)) == 1


def test_unknown_times_count_as_the_mean_of_the_known() -> None:
    checks = DOWNLOADER.checks()
    known = {"timings": 0.3, "speedup": 0.3}  # the other five count 0.3 each too
    plan = shards.plan(checks, known, 4)
    assert len(plan) == 4


def test_the_learner_state_keeps_each_checks_time_for_the_next_split(tmp_path: Path) -> None:
    state = LearnerState(tmp_path)
    checks = DOWNLOADER.checks()
    assert schedule.shards(DOWNLOADER, state, 1) == [[c.name for c in checks]]
    timed = TaskResult("downloader", 1, [_result(c.name, True, seconds=0.1) for c in checks])
    timed.checks[5].seconds = 0.4  # timings
    schedule.remember_checks(state, [timed])
    assert ["timings"] in schedule.shards(DOWNLOADER, state, 4)


# ---------------------------------------------------------------- merging the shards' runs


def _result(name: str, passed: bool, *, task: str = "downloader", seconds: float = 0.0):
    feedback = None if passed else Feedback(f"{name} failed")
    return CheckResult(
        task=task,
        name=name,
        title=name,
        max_points=1,
        hidden=False,
        passed=passed,
        feedback=feedback,
        seconds=seconds,
    )


def _run(*checks: CheckResult, **fields: Any) -> IsolatedRun:
    fields.setdefault("exit_code", 0)
    return IsolatedRun(TaskResult("downloader", SEED, list(checks)), "", **fields)


def test_merged_checks_come_back_in_the_task_order() -> None:
    order = [c.name for c in DOWNLOADER.checks()]
    first, second = order[1::2], order[0::2]
    runs = [_run(*(_result(n, True) for n in first)), _run(*(_result(n, True) for n in second))]
    runs[0].output, runs[1].output = "a\n", "b\n"
    merged = shards.merge("downloader", SEED, False, runs)
    assert [c.name for c in merged.result.checks] == order
    assert merged.result.passed and merged.exit_code == 0 and merged.output == "a\nb\n"


def test_what_spoiled_one_shard_fails_every_check_of_the_task() -> None:
    tampered = Feedback("Your code tampered with the grader", kind="not_graded")
    runs = [
        _run(_result("in_flight", True), _result("files", True)),
        _run(_result("timings", False), tampering=["patched"], spoiled=tampered),
    ]
    merged = shards.merge("downloader", SEED, False, runs)
    assert merged.tampering == ["patched"]
    assert [(c.passed, c.feedback) for c in merged.result.checks] == [(False, tampered)] * 3


def test_a_shard_that_ended_early_fails_every_passed_check() -> None:
    early = Feedback("This check passed, but the grading process did not finish the task")
    runs = [
        _run(_result("in_flight", True), _result("files", False)),
        _run(_result("timings", True), exit_code=-9, ended_early=early),
    ]
    merged = shards.merge("downloader", SEED, False, runs)
    got = {c.name: c.feedback.summary for c in merged.result.checks if c.feedback}
    assert got == {"in_flight": early.summary, "files": "files failed", "timings": early.summary}
    assert merged.exit_code == -9


def test_a_shard_past_its_time_limit_makes_the_whole_run_timed_out() -> None:
    runs = [_run(_result("in_flight", True)), _run(_result("files", True), exit_code=None)]
    assert shards.merge("downloader", SEED, False, runs).exit_code is None


# ---------------------------------------------------------------- real grading processes


@pytest.mark.parametrize(
    "source",
    [SOLUTIONS / "downloader.py", FIXTURES / "downloader/mutants/swapped.py"],
    ids=["solution", "mutant"],
)
def test_split_or_not_a_submission_gets_the_same_verdicts(source: Path, submission) -> None:
    folder = submission(DOWNLOADER, source)
    whole = run_isolated("downloader", folder, seed=SEED)
    checks = [c.name for c in DOWNLOADER.checks()]
    split = shards.run_sharded("downloader", folder, [checks[:3], checks[3:]], seed=SEED)
    assert [(c.name, c.passed) for c in split.result.checks] == [
        (c.name, c.passed) for c in whole.result.checks
    ]


def test_a_flood_in_every_shard_still_fails_the_task(submission) -> None:
    start_join = get_task("start_join")
    folder = submission(start_join, FIXTURES / "hostile/flood.py")
    checks = [c.name for c in start_join.checks()]
    run = shards.run_sharded("start_join", folder, [checks[:1], checks[1:]], seed=SEED)
    assert run.result.points == 0
    assert all("printed more than" in c.feedback.summary for c in run.result.checks)


def test_make_check_splits_a_task_checked_alone_and_not_a_full_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    from graders.learner.commands.check import check_tasks

    state = LearnerState(tmp_path / "state")
    timed = TaskResult(
        "downloader", 1, [_result(c.name, True, seconds=0.2) for c in DOWNLOADER.checks()]
    )
    schedule.remember_checks(state, [timed])
    started: list[list[str] | None] = []
    real = shards.run_isolated

    def recording(*args: Any, **kwargs: Any) -> IsolatedRun:
        started.append(kwargs.get("only"))
        return real(*args, **kwargs)

    monkeypatch.setattr(shards, "run_isolated", recording)
    monkeypatch.setenv("THREADKIT_CHECK_JOBS", "4")
    console = Console(file=io.StringIO())
    results, _ = check_tasks(console, [DOWNLOADER], SOLUTIONS, seed=SEED, state=state)
    assert results[0].passed
    assert len(started) == 4 and sorted(n for only in started for n in only or []) == sorted(
        c.name for c in DOWNLOADER.checks()
    )
    started.clear()
    check_tasks(
        console,
        [DOWNLOADER, PROGRESS, get_task("start_join"), get_task("deadlock")],
        SOLUTIONS,
        seed=SEED,
        state=state,
    )
    assert started == [None] * 4  # as many tasks as slots: one whole process each

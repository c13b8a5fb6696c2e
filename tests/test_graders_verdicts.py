"""The graders are right: solutions pass every check, stubs score 0, every mutant is killed.

Everything runs through the real path (a fresh grading process per task, hidden checks on),
so this also proves the isolation and the report channel.
"""

from __future__ import annotations

import pytest

from graders.engine.isolated import run_isolated
from graders.tasks import TASKS
from tests.helpers import EXERCISES, SOLUTIONS, Mutant, all_mutants

SEED = 20261125
MUTANTS = all_mutants()


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_solution_passes_every_check(task, submission):
    run = run_isolated(task.id, submission(task, SOLUTIONS / task.module), seed=SEED, hidden=True)
    failed = {c.name: c.feedback.render() for c in run.result.checks if not c.passed}
    assert failed == {}
    assert run.result.points == run.result.max_points > 0


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_untouched_stub_scores_zero(task, submission):
    run = run_isolated(task.id, submission(task, EXERCISES / task.module), seed=SEED, hidden=True)
    assert run.result.points == 0
    for chk in run.result.checks:
        assert chk.feedback is not None and chk.feedback.summary


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.id)
def test_mutant_is_killed_with_the_expected_message(mutant: Mutant, submission):
    run = run_isolated(mutant.task.id, submission(mutant.task, mutant.path), seed=SEED, hidden=True)
    failed = {c.name for c in run.result.checks if not c.passed}
    assert failed == mutant.expect_fail
    first = run.result.first_failure
    assert mutant.expect_message in first.feedback.render()


def test_every_task_has_mutants_and_every_check_kills_one():
    """A check that no mutant fails could be a check that cannot fail."""
    for task in TASKS:
        killed = set().union(*(m.expect_fail for m in MUTANTS if m.task == task))
        names = {c.name for c in task.checks(hidden=True)}
        assert names <= killed, f"{task.id}: checks no mutant fails: {names - killed}"
        assert killed <= names, f"{task.id}: mutants name unknown checks: {killed - names}"

"""Every verdict is the same in every run: 20 seeds per solution and per mutant (slow).

A mutant must fail exactly the checks its docstring names, with its message, every time; a
solution (reference or alternative) must pass every check every time.

Run with `make test-slow`; for the load variant, busy both cores first
(`for i in 1 2; do (while :; do :; done) & done`) and kill the loops afterwards.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from graders.engine.isolated import run_isolated
from graders.tasks import TASKS
from tests.helpers import Mutant, all_mutants, submission_of

REPEATS = int(os.environ.get("THREADKIT_REPEATS", "20"))
PARALLEL = int(os.environ.get("THREADKIT_PARALLEL", "4"))


SOLUTION_FILES = [
    pytest.param(task, path, id=f"{task.id}/{path.stem}")
    for task, path in [(t, t.files().solution) for t in TASKS]
    + [(t, p) for t in TASKS for p in sorted(t.files().alternatives.glob("*.py"))]
]


def _verdict(task_id: str, folder: Path, seed: int) -> tuple[frozenset[str], str]:
    """The checks that failed, and the first failure's message ('' when none failed)."""
    run = run_isolated(task_id, folder, seed=seed, hidden=True)
    first = run.result.first_failure
    failed = frozenset(c.name for c in run.result.checks if not c.passed)
    return failed, first.feedback.render() if first and first.feedback else ""


def _verdicts(task_id: str, folder: Path) -> list[tuple[frozenset[str], str]]:
    seeds = [1000 + i for i in range(REPEATS)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda s: _verdict(task_id, folder, s), seeds))


def _misses(verdicts: list[tuple[frozenset[str], str]], expected: frozenset[str]) -> str:
    """The runs whose failed checks differ from `expected`: seed, checks, first message."""
    return "\n\n".join(
        f"seed {1000 + i}: failed {sorted(failed)}\n{message}"
        for i, (failed, message) in enumerate(verdicts)
        if failed != expected
    )


@pytest.mark.slow
@pytest.mark.parametrize("task, path", SOLUTION_FILES)
def test_solution_passes_in_every_run(task, path, tmp_path):
    folder = submission_of(task, path, tmp_path)
    verdicts = _verdicts(task.id, folder)
    failed = [f for f, _ in verdicts]
    assert failed == [frozenset()] * REPEATS, _misses(verdicts, frozenset())


@pytest.mark.slow
@pytest.mark.parametrize("mutant", all_mutants(), ids=lambda m: m.id)
def test_mutant_fails_the_same_checks_in_every_run(mutant: Mutant, tmp_path):
    folder = submission_of(mutant.task, mutant.path, tmp_path)
    verdicts = _verdicts(mutant.task.id, folder)
    assert [f for f, _ in verdicts] == [mutant.expect_fail] * REPEATS, _misses(
        verdicts, mutant.expect_fail
    )
    assert all(mutant.expect_message in message for _, message in verdicts)

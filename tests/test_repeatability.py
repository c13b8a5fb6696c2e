"""Every verdict is the same in every run: 20 seeds per solution and per mutant (slow).

Run with `make test-slow`; for the load variant, busy both cores first
(`for i in 1 2; do (while :; do :; done) & done`) and kill the loops afterwards.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from graders.isolate import run_isolated
from graders.registry import TASKS
from tests.conftest import SOLUTIONS, Mutant, all_mutants, submission_of

REPEATS = int(os.environ.get("THREADKIT_REPEATS", "20"))
PARALLEL = int(os.environ.get("THREADKIT_PARALLEL", "4"))


def _failed_checks(task_id: str, folder: Path, seed: int) -> frozenset[str]:
    run = run_isolated(task_id, folder, seed=seed, hidden=True)
    return frozenset(c.name for c in run.result.checks if not c.passed)


def _verdicts(task_id: str, folder: Path) -> list[frozenset[str]]:
    seeds = [1000 + i for i in range(REPEATS)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda s: _failed_checks(task_id, folder, s), seeds))


@pytest.mark.slow
@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.id)
def test_solution_passes_in_every_run(task, tmp_path):
    folder = submission_of(task, SOLUTIONS / task.module, tmp_path)
    verdicts = _verdicts(task.id, folder)
    assert verdicts == [frozenset()] * REPEATS


@pytest.mark.slow
@pytest.mark.parametrize("mutant", all_mutants(), ids=lambda m: m.id)
def test_mutant_fails_the_same_checks_in_every_run(mutant: Mutant, tmp_path):
    folder = submission_of(mutant.task, mutant.path, tmp_path)
    verdicts = _verdicts(mutant.task.id, folder)
    assert verdicts == [mutant.expect_fail] * REPEATS
